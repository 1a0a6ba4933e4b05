/**
 * What the console shows and does, over an OpsTarget (local/ops/target.ts):
 * the same module for `npm start` (with the local pipeline's own counters,
 * events and failure switch) and for a deployed stack (queue depths and the
 * pipeline's CloudWatch metrics). Every action calls the operations code the
 * CLI calls (`redrive`, `replay`); none is re-implemented here.
 *
 * One method per route (routes.ts); reads never change anything, actions
 * (`redrive`, `replay`, `pause`, `resume`, `setFailing`) run only when the
 * server allows them.
 *
 * Looking inside a DLQ (`listDlq`, `showDlqMessage`, `traceEvent`) receives
 * its messages with a short hold and releases them (local/ops/peek.ts); a
 * redrive receives them too. The two would get in each other's way (a
 * redrive that finds its messages held stops short), so they take turns
 * (`exclusive`). The trace never peeks into lane queues: there a receive
 * counts toward maxReceiveCount, and a GET must not cost an attempt.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { PipelineModel } from "../../model/pipeline";
import { toSvg } from "../diagram";
import type { FailureSwitch } from "../failure-switch";
import { DlqListing, DlqMessageDetail, listDlq, showDlqMessage } from "../ops/dlq";
import { pauseLanes, PauseResult, resumeLanes } from "../ops/pause";
import { redrive, RedriveResult } from "../ops/redrive";
import { replay, ReplaySummary } from "../ops/replay";
import { queueStatus } from "../ops/status";
import { catchAllLane, CatchAllLaneId, LanePause, lanesOf, OpsTarget } from "../ops/target";
import { traceEvent, TraceResult } from "../ops/trace";
import { peekOldestAgeSeconds } from "../queues";
import type { EventRecord, PipelineStats } from "../stats";
import type { PipelineStatus } from "../status";
import { readPipelineMetrics } from "./cloudwatch";
import { Jobs, JobView } from "./jobs";
import { RateSampler, RateSeries } from "./rates";

/** What only the local pipeline has: its counters, its event list, its failure switch. */
export interface LocalSources {
    status(): Promise<PipelineStatus>;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
}

export interface ConsoleApiOptions {
    readonly target: OpsTarget;
    /** The stack's name, for the title. */
    readonly stack: string;
    /** The pipeline model, for the drawing (a deployed stack has one only when its stack file is given). */
    readonly model?: PipelineModel;
    /** The local pipeline (npm start). */
    readonly local?: LocalSources;
    /** A deployed stack: where its metrics are read. */
    readonly cloudwatch?: CloudWatchClient;
    /** Whether actions (POST) are allowed at all. */
    readonly allowActions: boolean;
}

export interface LaneView {
    readonly id: string;
    readonly kind: string;
    /** Waiting to be received (visible + delayed). */
    readonly queued: number | null;
    /** Received and not yet deleted: being handled, or waiting out a failed attempt's visibility timeout. */
    readonly inFlight: number | null;
    /** Handler batches running now (local only). */
    readonly running: number | null;
    readonly dlq: number | null;
    readonly oldestDlqAgeSeconds: number | null;
    readonly processed: number | null;
    readonly failed: number | null;
    /** The worker takes no messages (configured `paused` or `ops pause`); null when not known. */
    readonly paused: boolean | null;
    /** Paused: since when (ISO 8601). */
    readonly pausedSince: string | null;
    /** Paused: what the lane holds meanwhile (queued + in flight; Kafka lanes: unknown). */
    readonly held: number | null;
    /** Paused, local: seconds since the first message routed to it after the pause. */
    readonly oldestHeldAgeSeconds: number | null;
}

export interface ProviderView {
    readonly name: string;
    readonly received: number | null;
    readonly rejected: number | null;
    readonly rejectReasons: Readonly<Record<string, number>>;
    readonly processed: number | null;
    readonly failed: number | null;
    readonly duplicates: number | null;
    readonly deadLettered: number | null;
    readonly dlq: number | null;
    readonly inFlight: number | null;
    /** Local only: the handler fails on demand (failure-switch.ts). */
    readonly failing: boolean | null;
    readonly lanes: readonly LaneView[];
}

export interface Overview {
    readonly at: string;
    readonly where: OpsTarget["where"];
    readonly stack: string;
    /** Where the counts come from, said on the page. */
    readonly countsFrom: string;
    readonly note?: string;
    readonly providers: readonly ProviderView[];
    readonly router: { readonly queued: number; readonly inFlight: number; readonly dlq: number; readonly oldestDlqAgeSeconds: number | null };
}

export interface Session {
    readonly where: OpsTarget["where"];
    readonly stack: string;
    readonly actions: boolean;
    readonly providers: readonly string[];
    readonly lanes: readonly { readonly id: string; readonly provider: string }[];
    /** What this console can show and do here. */
    readonly features: Readonly<Record<"events" | "failSwitch" | "diagram" | "redrive" | "replay" | "trace" | "dlqList" | "pause", boolean>>;
}

export class ConsoleApiError extends Error {
    public readonly name = "ConsoleApiError";
    constructor(
        message: string,
        readonly status: 400 | 403 | 404 | 409 = 400,
    ) {
        super(message);
    }
}

export class ConsoleApi {
    readonly jobs = new Jobs();
    private readonly sampler?: RateSampler;
    private turn: Promise<unknown> = Promise.resolve();

    constructor(private readonly options: ConsoleApiOptions) {
        const local = options.local;
        if (local) this.sampler = new RateSampler(() => Object.fromEntries(Object.entries(local.stats.providers).map(([p, c]) => [p, { received: c.received, rejected: c.rejected, processed: c.processed, failed: c.failed }]))).start();
    }

    stop(): void {
        this.sampler?.stop();
    }

    /** Run `work` when the DLQ reads and redrives before it are done (see the file's comment). */
    private exclusive<T>(work: () => Promise<T>): Promise<T> {
        const run = this.turn.then(work, work);
        this.turn = run.catch(() => undefined);
        return run;
    }

    session(): Session {
        const { target, local } = this.options;
        return {
            where: target.where,
            stack: this.options.stack,
            actions: this.options.allowActions,
            providers: target.providers,
            lanes: target.lanes.map((l) => ({ id: l.id, provider: l.provider })),
            features: {
                events: !!local,
                failSwitch: !!local,
                diagram: !!this.options.model,
                redrive: this.options.allowActions,
                replay: this.options.allowActions,
                trace: true,
                dlqList: true,
                pause: this.options.allowActions && !!target.pauses,
            },
        };
    }

    async overview(): Promise<Overview> {
        return this.options.local ? this.localOverview(this.options.local) : this.awsOverview();
    }

    private async localOverview(local: LocalSources): Promise<Overview> {
        const status = await local.status();
        const ages = await this.dlqAges(Object.values(status.providers).flatMap((p) => Object.entries(p.lanes).filter(([, l]) => l.dlq && l.dlq.visible > 0).map(([id]) => id)));
        const providers = Object.entries(status.providers).map(([name, p]): ProviderView => {
            const lanes = Object.entries(p.lanes).map(
                ([id, l]): LaneView => ({
                    id,
                    kind: l.kind,
                    queued: l.queue ? l.queue.visible + l.queue.delayed : null,
                    inFlight: l.queue ? l.queue.inFlight : null,
                    running: l.running,
                    dlq: l.dlq ? l.dlq.visible + l.dlq.inFlight : (l.deadLettered ?? 0),
                    oldestDlqAgeSeconds: ages[id] ?? null,
                    // per lane since fan-out (a fanned-out event counts on each of its lanes)
                    processed: l.counts?.processed ?? null,
                    failed: l.counts?.failed ?? null,
                    paused: l.paused,
                    pausedSince: l.pausedAt ?? null,
                    held: l.paused && l.queue ? l.queue.visible + l.queue.delayed + l.queue.inFlight : null,
                    oldestHeldAgeSeconds: l.oldestHeldAgeSeconds ?? null,
                }),
            );
            return {
                name,
                received: p.received,
                rejected: p.rejected,
                rejectReasons: p.rejectReasons,
                processed: p.processed,
                failed: p.failed,
                duplicates: p.duplicates,
                deadLettered: p.deadLettered,
                dlq: p.dlq,
                inFlight: lanes.reduce((a, l) => a + (l.inFlight ?? 0), 0),
                failing: p.failing,
                lanes,
            };
        });
        const routerAge = status.router.dlq.visible > 0 ? ((await peekOldestAgeSeconds(this.options.target.sqs, this.options.target.catchAll.dlqUrl)) ?? null) : null;
        return {
            at: new Date().toISOString(),
            where: "local",
            stack: status.stack,
            countsFrom: `this npm start's counters (GET /_status), since it started ${status.uptimeSeconds} s ago`,
            providers,
            router: { queued: status.router.queue.visible + status.router.queue.delayed, inFlight: status.router.queue.inFlight, dlq: status.router.dlq.visible + status.router.dlq.inFlight, oldestDlqAgeSeconds: routerAge },
        };
    }

    /** The oldest DLQ message's age of each lane given (DLQs have no redrive policy: a peek costs no attempt). */
    private async dlqAges(laneIds: readonly string[]): Promise<Record<string, number | undefined>> {
        const lanes = this.options.target.lanes.filter((l) => laneIds.includes(l.id));
        const ages = await Promise.all(lanes.map(async (l) => [l.id, await peekOldestAgeSeconds(this.options.target.sqs, l.dlqUrl)] as const));
        return Object.fromEntries(ages);
    }

    private async awsOverview(): Promise<Overview> {
        const { target } = this.options;
        const [queues, metrics, pauses] = await Promise.all([
            queueStatus(target),
            this.options.cloudwatch ? readPipelineMetrics(this.options.cloudwatch, target.providers, target.lanes) : Promise.resolve(undefined),
            this.lanePauses(),
        ]);
        const row = (id: string) => queues.lanes.find((l) => l.lane === id)!;
        const providers = target.providers.map((name): ProviderView => {
            const m = metrics?.providers[name];
            const lanes = target.lanes
                .filter((l) => l.provider === name)
                .map((l): LaneView => {
                    const r = row(l.id);
                    const pause = pauses.state[l.id];
                    return {
                        id: l.id,
                        kind: "sqs",
                        queued: r.queue.visible + r.queue.delayed,
                        inFlight: r.queue.inFlight,
                        running: null,
                        dlq: r.dlq.visible + r.dlq.inFlight,
                        oldestDlqAgeSeconds: r.oldestDlqAgeSeconds ?? null,
                        processed: m?.lanes[l.id]?.processed ?? null,
                        failed: m?.lanes[l.id]?.failed ?? null,
                        paused: pause?.paused ?? null,
                        pausedSince: pause?.paused ? (pause.since ?? null) : null,
                        held: pause?.paused ? r.queue.visible + r.queue.delayed + r.queue.inFlight : null,
                        oldestHeldAgeSeconds: null,
                    };
                });
            return {
                name,
                received: m?.received ?? null,
                rejected: m?.rejected ?? null,
                rejectReasons: m?.rejectReasons ?? {},
                processed: m?.processed ?? null,
                failed: m?.failed ?? null,
                duplicates: null,
                deadLettered: null,
                dlq: lanes.reduce((a, l) => a + (l.dlq ?? 0), 0),
                inFlight: lanes.reduce((a, l) => a + (l.inFlight ?? 0), 0),
                failing: null,
                lanes,
            };
        });
        const catchAll = row(CatchAllLaneId);
        return {
            at: queues.at,
            where: "aws",
            stack: this.options.stack,
            countsFrom: "CloudWatch sums over the last 15 minutes (queue depths from SQS, now)",
            note: [metrics?.note ?? (this.options.cloudwatch ? undefined : "no CloudWatch client: counts not shown"), pauses.note].filter(Boolean).join("; ") || undefined,
            providers,
            router: { queued: catchAll.queue.visible + catchAll.queue.delayed, inFlight: catchAll.queue.inFlight, dlq: catchAll.dlq.visible + catchAll.dlq.inFlight, oldestDlqAgeSeconds: catchAll.oldestDlqAgeSeconds ?? null },
        };
    }

    /** Whether each SQS lane's worker is paused (AWS: its event source mapping), or why that is not known. */
    private async lanePauses(): Promise<{ state: Record<string, LanePause>; note?: string }> {
        const { target } = this.options;
        if (!target.pauses) return { state: {}, note: "the stack outputs name no eventSourceMappings: whether lanes are paused is not shown" };
        try {
            return { state: await target.pauses.get(target.lanes.map((l) => l.id)) };
        } catch (err) {
            return { state: {}, note: `whether lanes are paused could not be read: ${(err as Error).message}` };
        }
    }

    async rates(): Promise<RateSeries> {
        if (this.sampler) return this.sampler.series();
        if (this.options.cloudwatch) return (await readPipelineMetrics(this.options.cloudwatch, this.options.target.providers, this.options.target.lanes)).series;
        return { bucketSeconds: 60, t: [], total: { received: [], rejected: [], processed: [], failed: [] }, providers: {}, note: "no metrics source" };
    }

    /** The latest worker outcomes, newest first (local only: a deployed stack keeps no such list; use the DLQ view or CloudWatch Logs). */
    events(provider?: string, limit = 100): EventRecord[] {
        const local = this.options.local;
        if (!local) throw new ConsoleApiError("the event list exists only for npm start: a deployed stack keeps no list of outcomes", 404);
        if (provider && !this.options.target.providers.includes(provider)) throw new ConsoleApiError(`unknown provider "${provider}" (configured: ${this.options.target.providers.join(", ")})`, 404);
        return local.stats.events(provider || undefined).slice(-limit).reverse();
    }

    /** The messages in the DLQs of `provider`'s SQS lanes (or one lane's), each with its last error (local/ops/dlq.ts). */
    dlq(provider: string, lane?: string): Promise<DlqListing[]> {
        this.lanes(provider, lane);
        return this.exclusive(() => listDlq(this.options.target, provider, lane));
    }

    /** One DLQ message with its body, by message id or event id. */
    async dlqMessage(provider: string, lane: string, id: string): Promise<DlqMessageDetail> {
        this.lanes(provider, lane);
        try {
            return await this.exclusive(() => showDlqMessage(this.options.target, provider, lane, id));
        } catch (err) {
            if (/^no message /.test((err as Error).message)) throw new ConsoleApiError((err as Error).message, 404);
            throw err;
        }
    }

    /** Where an event (or request) is and what happened to it (local/ops/trace.ts), without looking inside lane queues. */
    trace(provider: string, query: { eventId?: string; requestId?: string; around?: number }): Promise<TraceResult> {
        if (!this.options.target.providers.includes(provider)) throw new ConsoleApiError(`unknown provider "${provider}" (configured: ${this.options.target.providers.join(", ")})`, 404);
        if (!query.eventId && !query.requestId) throw new ConsoleApiError("give an event id or a request id to search for");
        return this.exclusive(() => traceEvent(this.options.target, { provider, eventId: query.eventId, requestId: query.requestId, around: query.around, peek: false }));
    }

    diagram(): string {
        if (!this.options.model) throw new ConsoleApiError("no stack file given: start the console with --stack <name|file> to draw it", 404);
        return toSvg(this.options.model, `webhook pipeline: ${this.options.stack}`);
    }

    private lanes(provider: string, lane?: string) {
        try {
            return lanesOf(this.options.target, provider, lane);
        } catch (err) {
            throw new ConsoleApiError((err as Error).message, 404);
        }
    }

    private actionsAllowed(): void {
        if (!this.options.allowActions) throw new ConsoleApiError("this console was started read-only: start it with --allow-actions to act on the stack", 403);
    }

    /** Start moving the DLQ of `provider` (all its lanes, or one; `catch-all` for the router's) back to its queue. */
    redrive(provider: string, lane?: string): JobView {
        this.actionsAllowed();
        const lanes = provider === CatchAllLaneId ? [catchAllLane(this.options.target)] : this.lanes(provider, lane);
        return this.jobs.start("redrive", `redrive ${lane ? lanes[0].id : provider}`, async (progress): Promise<RedriveResult[]> =>
            this.exclusive(() => redrive(this.options.target, lanes, (l) => ({ update: (done, total, note) => progress.update(done, total, `${l.id}${note ? ` ${note}` : ""}`), finish: () => undefined }))),
        );
    }

    /** Stop `provider`'s lanes (or one) taking messages; they hold what arrives (local/ops/pause.ts). */
    async pause(provider: string, lane?: string): Promise<PauseResult> {
        return this.pauseOrResume("pause", provider, lane);
    }

    async resume(provider: string, lane?: string): Promise<PauseResult> {
        return this.pauseOrResume("resume", provider, lane);
    }

    private async pauseOrResume(action: "pause" | "resume", provider: string, lane?: string): Promise<PauseResult> {
        this.actionsAllowed();
        if (!this.options.target.pauses) throw new ConsoleApiError("this stack's outputs name no eventSourceMappings: lanes cannot be paused from here (deploy this version, then write the outputs again)", 409);
        if (!this.options.target.providers.includes(provider)) throw new ConsoleApiError(`unknown provider "${provider}" (configured: ${this.options.target.providers.join(", ")})`, 404);
        try {
            return await (action === "pause" ? pauseLanes : resumeLanes)(this.options.target, provider, lane);
        } catch (err) {
            if (/has no lane|unknown lane/.test((err as Error).message)) throw new ConsoleApiError((err as Error).message, 404);
            throw err;
        }
    }

    /** Start replaying `provider`'s archived requests received in [from, to] (epoch ms). */
    replay(provider: string, from: number, to: number, force = false): JobView {
        this.actionsAllowed();
        if (!this.options.target.providers.includes(provider)) throw new ConsoleApiError(`unknown provider "${provider}" (configured: ${this.options.target.providers.join(", ")})`, 404);
        if (!Number.isFinite(from) || !Number.isFinite(to)) throw new ConsoleApiError(`from and to must be times in epoch milliseconds, not ${from} and ${to}`);
        if (from > to) throw new ConsoleApiError(`from (${new Date(from).toISOString()}) must not be after to (${new Date(to).toISOString()})`);
        return this.jobs.start("replay", `replay ${provider} ${new Date(from).toISOString()} .. ${new Date(to).toISOString()}${force ? " (force)" : ""}`, async (progress): Promise<Omit<ReplaySummary, "requests"> & { requests: number }> => {
            const summary = await replay(this.options.target, { provider, from, to, force, progress });
            // The page shows the counts; the request list can be long.
            return { ...summary, requests: summary.requests.length };
        });
    }

    /** Local only: make `provider`'s handler fail (or heal it). */
    setFailing(provider: string, on: boolean): { provider: string; failing: boolean } {
        this.actionsAllowed();
        const local = this.options.local;
        if (!local) throw new ConsoleApiError("breaking a handler on demand exists only for npm start", 404);
        if (!local.failures.has(provider)) throw new ConsoleApiError(`unknown provider "${provider}" (configured: ${this.options.target.providers.join(", ")})`, 404);
        local.failures.set(provider, on);
        return { provider, failing: local.failures.failing(provider) };
    }
}
