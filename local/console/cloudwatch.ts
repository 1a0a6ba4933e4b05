/**
 * The console's counts and rates for a deployed stack, from the pipeline's
 * own CloudWatch metrics (published as EMF by the router and the workers):
 *
 * - received: the router's `Archived` plus `Quarantined` per provider
 *   (handlers/router/lambda.ts; dimensions service=router, provider[, reason]);
 * - rejected, by reason: `Quarantined` (the reasons come from ListMetrics, so
 *   a reason never seen is never asked for);
 * - processed, failed: the workers' `Processed` and `HandlerFailures`
 *   (model/metrics.ts; dimensions service=worker, lane, provider).
 *
 * Sums over the last 15 minutes at a period of 60 s: standard-resolution
 * metrics, which EMF publishes unless told otherwise, have a resolution of one
 * minute ("Metrics concepts: Resolution", Amazon CloudWatch User Guide), so a
 * shorter period shows nothing more. CloudWatch may also answer with no data
 * at all (a fresh stack, or an emulator such as moto that stores no EMF from
 * logs): the counts are then `null` and the series carries a note, never zeros
 * that look like a quiet pipeline.
 *
 * Limit: the namespace is `WebhookPipeline` for every stack in the account and
 * region, and the dimensions name provider and lane only, so two stacks with the
 * same provider names in one account and region add up here.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { WorkerMetrics, workerMetricDimensions } from "../../model/metrics";
import type { TargetLane } from "../ops/target";
import { RateName, RateNames, RateSeries } from "./rates";

/** The router's namespace (components/router.ts sets POWERTOOLS_METRICS_NAMESPACE to it). */
export const RouterNamespace = "WebhookPipeline";
export const PeriodSeconds = 60;
export const WindowSeconds = 15 * 60;

export interface MetricCounts {
    readonly received: number | null;
    readonly rejected: number | null;
    readonly rejectReasons: Readonly<Record<string, number>>;
    readonly processed: number | null;
    readonly failed: number | null;
}

export interface CloudWatchView {
    /** Sums over the window, per provider; per lane for processed and failed. */
    readonly providers: Readonly<Record<string, MetricCounts & { readonly lanes: Readonly<Record<string, { processed: number | null; failed: number | null }>> }>>;
    readonly series: RateSeries;
    /** What went wrong or why there is nothing to show. */
    readonly note?: string;
}

interface Query {
    readonly id: string;
    readonly provider: string;
    readonly lane?: string;
    readonly rate: RateName | "archived";
    readonly reason?: string;
    readonly query: MetricDataQuery;
}

const dims = (d: Record<string, string>) => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));

function metric(id: string, namespace: string, name: string, dimensions: Record<string, string>): MetricDataQuery {
    return { Id: id, ReturnData: true, MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: dims(dimensions) }, Period: PeriodSeconds, Stat: "Sum" } };
}

/** The Quarantined metrics that exist (provider, reason), from ListMetrics. */
async function quarantinedMetrics(cw: CloudWatchClient, providers: readonly string[]): Promise<{ provider: string; reason: string; dimensions: Record<string, string> }[]> {
    const found: { provider: string; reason: string; dimensions: Record<string, string> }[] = [];
    let token: string | undefined;
    do {
        const out = await cw.send(new ListMetricsCommand({ Namespace: RouterNamespace, MetricName: "Quarantined", NextToken: token }));
        for (const m of out.Metrics ?? []) {
            const d = Object.fromEntries((m.Dimensions ?? []).map((x) => [x.Name!, x.Value!]));
            if (providers.includes(d.provider) && d.reason) found.push({ provider: d.provider, reason: d.reason, dimensions: d });
        }
        token = out.NextToken;
    } while (token);
    return found;
}

export async function readPipelineMetrics(cw: CloudWatchClient, providers: readonly string[], lanes: readonly TargetLane[], now = Date.now()): Promise<CloudWatchView> {
    const end = Math.floor(now / (PeriodSeconds * 1000)) * PeriodSeconds * 1000;
    const start = end - WindowSeconds * 1000;
    const queries: Query[] = [];
    const add = (q: Omit<Query, "id" | "query">, build: (id: string) => MetricDataQuery) => {
        const id = `m${queries.length}`;
        queries.push({ ...q, id, query: build(id) });
    };
    for (const provider of providers) add({ provider, rate: "archived" }, (id) => metric(id, RouterNamespace, "Archived", { service: "router", provider }));
    for (const lane of lanes) {
        const d = workerMetricDimensions({ lane: lane.id, provider: lane.provider });
        add({ provider: lane.provider, lane: lane.id, rate: "processed" }, (id) => metric(id, WorkerMetrics.namespace, WorkerMetrics.names.processed, d));
        add({ provider: lane.provider, lane: lane.id, rate: "failed" }, (id) => metric(id, WorkerMetrics.namespace, WorkerMetrics.names.handlerFailures, d));
    }
    const notes: string[] = [];
    try {
        for (const q of await quarantinedMetrics(cw, providers)) add({ provider: q.provider, rate: "rejected", reason: q.reason }, (id) => metric(id, RouterNamespace, "Quarantined", q.dimensions));
    } catch (err) {
        notes.push(`ListMetrics failed (${(err as Error).name}: ${(err as Error).message}): rejections not shown`);
    }

    const values = new Map<string, Map<number, number>>();
    try {
        // GetMetricData takes at most 500 queries per call ("GetMetricData", Amazon CloudWatch API Reference).
        for (let i = 0; i < queries.length; i += 500) {
            let token: string | undefined;
            do {
                const out = await cw.send(new GetMetricDataCommand({ StartTime: new Date(start), EndTime: new Date(end), MetricDataQueries: queries.slice(i, i + 500).map((q) => q.query), NextToken: token }));
                for (const r of out.MetricDataResults ?? []) {
                    const series = values.get(r.Id!) ?? new Map<number, number>();
                    (r.Timestamps ?? []).forEach((t, k) => series.set(new Date(t).getTime(), (series.get(new Date(t).getTime()) ?? 0) + (r.Values?.[k] ?? 0)));
                    values.set(r.Id!, series);
                }
                token = out.NextToken;
            } while (token);
        }
    } catch (err) {
        notes.push(`GetMetricData failed (${(err as Error).name}: ${(err as Error).message})`);
    }
    const any = [...values.values()].some((s) => s.size > 0);
    if (!any && notes.length === 0) notes.push("CloudWatch returned no data points for the last 15 minutes (a quiet or new stack, or an emulator that keeps no metrics)");

    const sum = (id: string) => (any ? [...(values.get(id)?.values() ?? [])].reduce((a, b) => a + b, 0) : null);
    const providerView: Record<string, MetricCounts & { lanes: Record<string, { processed: number | null; failed: number | null }> }> = {};
    for (const provider of providers) {
        const own = queries.filter((q) => q.provider === provider);
        const total = (rate: Query["rate"]) => (any ? own.filter((q) => q.rate === rate).reduce((a, q) => a + (sum(q.id) ?? 0), 0) : null);
        const rejectReasons: Record<string, number> = {};
        for (const q of own.filter((x) => x.rate === "rejected")) rejectReasons[q.reason!] = (rejectReasons[q.reason!] ?? 0) + (sum(q.id) ?? 0);
        const archived = total("archived");
        const rejected = total("rejected");
        const laneView: Record<string, { processed: number | null; failed: number | null }> = {};
        for (const lane of lanes.filter((l) => l.provider === provider)) {
            const of = (rate: RateName) => {
                const q = own.find((x) => x.lane === lane.id && x.rate === rate);
                return q ? sum(q.id) : null;
            };
            laneView[lane.id] = { processed: of("processed"), failed: of("failed") };
        }
        providerView[provider] = { received: archived === null ? null : archived + (rejected ?? 0), rejected, rejectReasons, processed: total("processed"), failed: total("failed"), lanes: laneView };
    }

    // The series: one point per period, per second.
    const t: number[] = [];
    for (let at = start + PeriodSeconds * 1000; at <= end; at += PeriodSeconds * 1000) t.push(at / 1000);
    const point = (ids: readonly Query[], at: number) => (any ? ids.reduce((a, q) => a + (values.get(q.id)?.get(at - PeriodSeconds * 1000) ?? 0), 0) / PeriodSeconds : null);
    const perRate = (own: readonly Query[]) =>
        Object.fromEntries(
            RateNames.map((rate) => {
                const ids = rate === "received" ? own.filter((q) => q.rate === "archived" || q.rate === "rejected") : own.filter((q) => q.rate === rate);
                return [rate, t.map((s) => point(ids, s * 1000))];
            }),
        ) as Record<RateName, (number | null)[]>;
    const series: RateSeries = {
        bucketSeconds: PeriodSeconds,
        t,
        total: perRate(queries),
        providers: Object.fromEntries(providers.map((p) => [p, perRate(queries.filter((q) => q.provider === p))])),
        note: notes.length ? notes.join("; ") : undefined,
    };
    return { providers: providerView, series, note: series.note };
}
