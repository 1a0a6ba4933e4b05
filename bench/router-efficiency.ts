/**
 * Benchmark 1, router efficiency: AWS calls per 1,000 webhooks and router CPU
 * time per webhook, ours against the seed-style baseline, on the same
 * emulator, the same traffic and in the same run.
 *
 * Calls: each design routes the same signed webhooks (2 KB bodies, the dev
 * stack's providers in a fixed mix) through fresh SDK clients whose every
 * call is counted by a middleware (archive PUTs, sends, secret reads, claim
 * checks, anything). Ours gets batches of 500 (RouterDefaults.batchSize, the
 * router's event source batch; batches of 100, the previous default, are a
 * detail row), the seed batches of 10 (the Lambda SQS default). A fresh router per
 * repeat is a fresh container: its secret cache starts empty.
 *
 * CPU: the pure part of each design (see pure-pipeline.ts), timed with
 * process.cpuUsage over several passes. Medians over repeats.
 *
 * Also measured for the cost model: DynamoDB calls the worker makes per
 * processed webhook (Powertools idempotency), with the real lane processor
 * against the emulator's table.
 */
import { createRouter, InboundRecord, RouterReport } from "../handlers/router/router";
import { cachedSecretReader } from "../handlers/shared/secrets";
import { createLaneProcessor } from "../handlers/worker/worker";
import { RouterDefaults } from "../model/constants";
import { decodeEnvelope } from "../model/envelope";
import { countedClients, CallCounts, totalCalls } from "./call-counter";
import { compileSeed, createSeedRouter, decideSeed, SeedBatchSize } from "./baseline-router";
import { measurePureCpu, CpuSample } from "./pure-pipeline";
import { median, round, sum, times } from "./stats";
import { BenchPipeline, createBenchPipeline, devStackValues, makeTraffic } from "./traffic";
import { Benchmark, goal, TableRow } from "./types";

export type Design = "ours" | "seed";

/** Our router's event source batch: the pipeline's default (RouterDefaults.batchSize, also the dev stack's). */
export const OursBatchSize: number = RouterDefaults.batchSize;

/** The router batch before the default became 500: measured beside it as a detail row. */
export const PreviousBatchSize = 100;

export const RouterGoals = { callsPer1000: 130, usPerWebhook: 50 } as const;

export interface RouterRun {
    readonly design: Design;
    readonly webhooks: number;
    readonly batchSize: number;
    readonly invocations: number;
    readonly counts: CallCounts;
    readonly totalCalls: number;
    readonly callsPer1000: number;
    /** Verified and archived (ours) / accepted (seed). */
    readonly accepted: number;
    /** Messages taken by lanes (the rest was dropped by a route). */
    readonly routed: number;
    readonly failed: number;
    /** Wall time of the run against the emulator, ms. */
    readonly wallMs: number;
    /** This process's CPU during the run (router + SDK + HTTP client), µs per webhook. */
    readonly processCpuUsPerWebhook: number;
    /** Ours only: the router's own call tally, to check the middleware against. */
    readonly reported?: RouterReport["calls"];
    readonly firstError?: string;
}

/**
 * Route `records` through a fresh router of `design` with counted clients,
 * in batches of `batchSize` (default: OursBatchSize for ours, 10 for the seed).
 */
export async function runRouter(pipeline: BenchPipeline, design: Design, records: readonly InboundRecord[], batchSize = design === "ours" ? OursBatchSize : SeedBatchSize): Promise<RouterRun> {
    const clients = countedClients(pipeline.endpoint);
    const secrets = cachedSecretReader(clients.secrets);
    const config = pipeline.resources.router;
    let accepted = 0;
    let routed = 0;
    let failed = 0;
    let firstError: string | undefined;
    const reported = { archive: 0, send: 0, claims: 0 };
    const route = design === "ours" ? createRouter({ config, sqs: clients.sqs, s3: clients.s3, secrets }) : undefined;
    const seed = design === "seed" ? createSeedRouter({ config, sqs: clients.sqs, s3: clients.s3, secrets }) : undefined;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    let invocations = 0;
    for (let i = 0; i < records.length; i += batchSize) {
        const batch = records.slice(i, i + batchSize);
        invocations += 1;
        if (route) {
            const { report } = await route(batch);
            accepted += report.accepted;
            routed += sum(Object.values(report.routed));
            failed += report.failed;
            reported.archive += report.calls.archive;
            reported.send += report.calls.send;
            reported.claims += report.calls.claims;
        } else {
            const { report } = await seed!(batch);
            accepted += report.accepted;
            routed += report.sent;
            failed += report.failed;
            firstError ??= report.firstError;
        }
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    const total = totalCalls(clients.counts);
    clients.sqs.destroy();
    clients.s3.destroy();
    clients.secrets.destroy();
    clients.dynamo.destroy();
    return {
        design,
        webhooks: records.length,
        batchSize,
        invocations,
        counts: clients.counts,
        totalCalls: total,
        callsPer1000: (total * 1000) / records.length,
        accepted,
        routed,
        failed,
        wallMs,
        processCpuUsPerWebhook: (used.user + used.system) / records.length,
        ...(design === "ours" ? { reported } : {}),
        ...(firstError ? { firstError } : {}),
    };
}

/**
 * DynamoDB calls our worker makes per webhook it processes (idempotency
 * record written IN_PROGRESS, then COMPLETED), and per duplicate delivery,
 * measured with the real lane processor on `samples` lane messages.
 */
export async function measureWorkerIdempotencyCalls(pipeline: BenchPipeline, records: readonly InboundRecord[], samples: number): Promise<{ perProcessed: number; perDuplicate: number; samples: number; calls: Record<string, number> }> {
    const config = pipeline.resources.router;
    const compiled = compileSeed(config);
    // Lane messages exactly as routed (the seed builds the same format, without batching).
    const messages: { lane: string; text: string }[] = [];
    for (const record of records) {
        const envelope = decodeEnvelope(record.body, record.attributes);
        const d = decideSeed(config, compiled, envelope, pipeline.secrets[envelope.provider], Date.now());
        if (d.lane && d.laneBody && d.lane.kind === "sqs") messages.push({ lane: d.lane.id, text: d.laneBody });
        if (messages.length === samples) break;
    }
    const clients = countedClients(pipeline.endpoint);
    const processors = new Map<string, ReturnType<typeof createLaneProcessor>>();
    const processorFor = (lane: string) => {
        let p = processors.get(lane);
        if (!p) {
            p = createLaneProcessor({ config: pipeline.resources.workers[lane], handler: async () => undefined, s3: clients.s3, dynamo: clients.dynamo });
            processors.set(lane, p);
        }
        return p;
    };
    for (const m of messages) {
        const outcome = await processorFor(m.lane)(m.text);
        if (outcome !== "processed") throw new Error(`worker idempotency: first delivery of a message was ${outcome}`);
    }
    const first = totalCalls(clients.counts);
    const calls = { ...clients.counts.calls };
    const duplicates = messages.slice(0, Math.max(1, Math.floor(samples / 4)));
    for (const m of duplicates) {
        const outcome = await processorFor(m.lane)(m.text);
        if (outcome !== "duplicate") throw new Error(`worker idempotency: a redelivery was ${outcome}, not duplicate`);
    }
    const second = totalCalls(clients.counts) - first;
    clients.s3.destroy();
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.secrets.destroy();
    return { perProcessed: first / messages.length, perDuplicate: second / duplicates.length, samples: messages.length, calls };
}

/** Distinct, length-safe resource prefix for one benchmark run. */
export function runPrefix(label: string): string {
    return `bench-${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export interface RouterEfficiencyDetails {
    readonly webhooks: number;
    readonly repeats: number;
    readonly bodyBytes: number;
    readonly mix: Record<string, number>;
    readonly runs: { ours: RouterRun[]; seed: RouterRun[] };
    /** oursUncompressed: our router's pure work with the archive left as NDJSON (gzip's share is the difference). */
    readonly cpu: { ours: CpuSample[]; seed: CpuSample[]; oursUncompressed: CpuSample[]; passes: number };
    /** Medians used by the cost model, per design. */
    readonly medians: Record<Design, { callsPer1000: number; calls: Record<string, number>; sqsBilledPer1000: { standard: number; fifo: number }; s3PutBytesPer1000: number; usPerWebhook: number; processCpuUsPerWebhook: number; invocationsPer1000: number; sequentialSendRoundsPerInvocation: number; routedShare: number }>;
    readonly singleProvider?: { provider: string; ours: RouterRun; seed: RouterRun };
    /** Ours on the same mixed traffic with router batches of 100 (the default before it became 500). */
    readonly previousBatch?: RouterRun;
    readonly workerIdempotency: Awaited<ReturnType<typeof measureWorkerIdempotencyCalls>>;
    /** Provider -> share of the traffic that goes through an ingress function (handshake providers). */
    readonly ingressFunctionShare: number;
    /** True when the pure CPU model made exactly the archive and send calls the real router made. */
    readonly pureModelMatchesRouter: boolean;
    readonly notes: string[];
}

function medianCalls(runs: readonly RouterRun[]): Record<string, number> {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.counts.calls)))].sort();
    return Object.fromEntries(keys.map((k) => [k, round(median(runs.map((r) => ((r.counts.calls[k] ?? 0) * 1000) / r.webhooks)), 2)]));
}

function check(run: RouterRun) {
    if (run.failed || run.accepted !== run.webhooks) {
        throw new Error(`${run.design} router: ${run.accepted} of ${run.webhooks} webhooks accepted, ${run.failed} failed${run.firstError ? ` (${run.firstError})` : ""}; the benchmark traffic must all verify`);
    }
    if (run.reported && (run.reported.archive !== (run.counts.calls["S3.PutObject"] ?? 0) || run.reported.send !== (run.counts.calls["SQS.SendMessageBatch"] ?? 0))) {
        throw new Error(`ours: the router reports ${JSON.stringify(run.reported)} calls but the SDK middleware counted ${JSON.stringify(run.counts.calls)}`);
    }
}

export const routerEfficiency: Benchmark = {
    name: "router-efficiency",
    title: "Router efficiency (calls and CPU per webhook)",
    async run(ctx) {
        const endpoint = await ctx.awsEndpoint();
        const webhooks = ctx.quick ? 300 : 1000;
        const passes = ctx.quick ? 3 : 10;
        const values = devStackValues(ctx.root);
        ctx.log(`router: creating two dev-stack pipelines in the emulator (${endpoint})`);
        const ours = await createBenchPipeline(endpoint, values, runPrefix("o"));
        // Both designs verify the same traffic: the same secrets.
        const seed = await createBenchPipeline(endpoint, values, runPrefix("s"), ours.secrets, undefined, ours.sealKey);

        const runs = { ours: [] as RouterRun[], seed: [] as RouterRun[] };
        const cpu = { ours: [] as CpuSample[], seed: [] as CpuSample[], oursUncompressed: [] as CpuSample[], passes };
        let pureModelMatchesRouter = true;
        const notes: string[] = [];
        let mix: Record<string, number> = {};
        for (let r = 0; r < ctx.repeats; r++) {
            const traffic = makeTraffic(ours, { count: webhooks, seed: r + 1, runTag: `r${r}x` });
            mix = traffic.byProvider;
            // Alternate which design goes first, so neither always meets a warmer emulator.
            const order: Design[] = r % 2 ? ["seed", "ours"] : ["ours", "seed"];
            for (const design of order) {
                const run = await runRouter(design === "ours" ? ours : seed, design, traffic.records);
                check(run);
                runs[design].push(run);
            }
            for (const design of order) cpu[design].push(measurePureCpu(design, ours.resources.router, ours.secrets, ours.sealKey, traffic.records, traffic.now, design === "ours" ? OursBatchSize : SeedBatchSize, passes));
            // The same work with the archive left as NDJSON: what gzip adds.
            cpu.oursUncompressed.push(measurePureCpu("ours-uncompressed", ours.resources.router, ours.secrets, ours.sealKey, traffic.records, traffic.now, OursBatchSize, passes));
            const o = runs.ours[runs.ours.length - 1];
            const pure = cpu.ours[cpu.ours.length - 1].stats;
            if (pure.archiveObjects !== (o.counts.calls["S3.PutObject"] ?? 0) || pure.sendCalls !== (o.counts.calls["SQS.SendMessageBatch"] ?? 0)) {
                pureModelMatchesRouter = false;
                notes.push(`repeat ${r + 1}: the pure CPU model made ${pure.archiveObjects} archive objects and ${pure.sendCalls} sends, the router ${JSON.stringify(o.counts.calls)}: the router makes calls its pure stage (planBatch in handlers/router/router.ts) does not plan, or bench/pure-pipeline.ts counts them differently`);
            }
            ctx.log(`router: repeat ${r + 1}/${ctx.repeats}: ours ${o.totalCalls} calls, ${cpu.ours[r].usPerWebhook.toFixed(1)} µs; seed ${runs.seed[r].totalCalls} calls, ${cpu.seed[r].usPerWebhook.toFixed(1)} µs`);
        }

        // One provider only: the floor of our design (no fragmentation across providers and lanes).
        const single = "github";
        let singleProvider: RouterEfficiencyDetails["singleProvider"];
        if (ours.model.providers.some((p) => p.name === single)) {
            const mixOne = Object.fromEntries(ours.model.providers.map((p) => [p.name, p.name === single ? 1 : 0]));
            const traffic = makeTraffic(ours, { count: webhooks, seed: 99, mix: mixOne, runTag: "g" });
            const o = await runRouter(ours, "ours", traffic.records);
            const s = await runRouter(seed, "seed", traffic.records);
            check(o);
            check(s);
            singleProvider = { provider: single, ours: o, seed: s };
        }

        // The same mixed traffic with batches of 100, the default before 500 (router.batchSize; the event source allows up to 10,000 with a batching window).
        const previousBatch = await runRouter(ours, "ours", makeTraffic(ours, { count: webhooks, seed: 1, runTag: "l" }).records, PreviousBatchSize);
        check(previousBatch);

        const workerIdempotency = await measureWorkerIdempotencyCalls(ours, makeTraffic(ours, { count: 200, seed: 7, runTag: "w" }).records, ctx.quick ? 8 : 40);
        const ingressProviders = ours.model.providers.filter((p) => p.ingress === "function").map((p) => p.name);
        const ingressFunctionShare = sum(ingressProviders.map((p) => mix[p] ?? 0)) / webhooks;

        const medianOf = (design: Design) => {
            const rs = runs[design];
            return {
                callsPer1000: median(rs.map((r) => r.callsPer1000)),
                calls: medianCalls(rs),
                sqsBilledPer1000: {
                    standard: median(rs.map((r) => (r.counts.sqsBilled.standard * 1000) / r.webhooks)),
                    fifo: median(rs.map((r) => (r.counts.sqsBilled.fifo * 1000) / r.webhooks)),
                },
                s3PutBytesPer1000: median(rs.map((r) => (r.counts.s3PutBytes * 1000) / r.webhooks)),
                usPerWebhook: median(cpu[design].map((c) => c.usPerWebhook)),
                processCpuUsPerWebhook: median(rs.map((r) => r.processCpuUsPerWebhook)),
                invocationsPer1000: median(rs.map((r) => (r.invocations * 1000) / r.webhooks)),
                routedShare: median(rs.map((r) => r.routed / r.webhooks)),
                sequentialSendRoundsPerInvocation: design === "ours" ? median(cpu.ours.map((c) => c.stats.sequentialSendRounds)) / median(rs.map((r) => r.invocations)) : 1,
            };
        };
        const medians = { ours: medianOf("ours"), seed: medianOf("seed") };
        const details: RouterEfficiencyDetails = { webhooks, repeats: ctx.repeats, bodyBytes: 2048, mix, runs, cpu, medians, singleProvider, previousBatch, workerIdempotency, ingressFunctionShare, pureModelMatchesRouter, notes };

        const o = medians.ours;
        const s = medians.seed;
        const oursUncompressedUs = median(cpu.oursUncompressed.map((c) => c.usPerWebhook));
        const figures = {
            router_calls_per_1000: round(o.callsPer1000, 1),
            baseline_calls_per_1000: round(s.callsPer1000, 1),
            router_us_per_webhook: round(o.usPerWebhook, 2),
            baseline_us_per_webhook: round(s.usPerWebhook, 2),
            router_us_per_webhook_uncompressed: round(oursUncompressedUs, 2),
            router_gzip_us_per_webhook: round(Math.max(0, o.usPerWebhook - oursUncompressedUs), 2),
            router_process_cpu_us_per_webhook: round(o.processCpuUsPerWebhook, 1),
            baseline_process_cpu_us_per_webhook: round(s.processCpuUsPerWebhook, 1),
            ...(singleProvider ? { router_single_provider_calls_per_1000: round(singleProvider.ours.callsPer1000, 1) } : {}),
            worker_dynamodb_calls_per_webhook: round(workerIdempotency.perProcessed, 2),
        };
        const callText = (calls: Record<string, number>) =>
            Object.entries(calls)
                .map(([k, v]) => `${k.split(".")[1]} ${round(v, 1)}`)
                .join(", ");
        const rows: TableRow[] = [
            { metric: `AWS calls per 1,000 webhooks (router batch ${OursBatchSize})`, ours: String(figures.router_calls_per_1000), baseline: String(figures.baseline_calls_per_1000), ratio: `${times(s.callsPer1000 / o.callsPer1000)} fewer`, goal: `<= ${RouterGoals.callsPer1000}`, met: o.callsPer1000 <= RouterGoals.callsPer1000 },
            { metric: "  of which (ours)", ours: callText(o.calls) },
            { metric: "  of which (seed)", ours: "", baseline: callText(s.calls) },
            ...(singleProvider ? [{ metric: `  one provider only (${singleProvider.provider})`, ours: String(round(singleProvider.ours.callsPer1000, 1)), baseline: String(round(singleProvider.seed.callsPer1000, 1)), ratio: `${times(singleProvider.seed.callsPer1000 / singleProvider.ours.callsPer1000)} fewer` }] : []),
            { metric: `  mixed traffic, router batch ${PreviousBatchSize} (the previous default)`, ours: String(round(previousBatch.callsPer1000, 1)) },
            { metric: "Router CPU µs per webhook (pure, 2 KB)", ours: String(figures.router_us_per_webhook), baseline: String(figures.baseline_us_per_webhook), ratio: ratioText(s.usPerWebhook, o.usPerWebhook), goal: `<= ${RouterGoals.usPerWebhook}`, met: o.usPerWebhook <= RouterGoals.usPerWebhook },
            { metric: "  the same without gzip (archive left as NDJSON)", ours: String(figures.router_us_per_webhook_uncompressed), baseline: String(figures.baseline_us_per_webhook), ratio: ratioText(s.usPerWebhook, oursUncompressedUs) },
            { metric: "  of which archive NDJSON + gzip (ours, wall)", ours: String(round(median(cpu.ours.map((c) => c.archiveEncodeUsPerWebhook)), 1)) },
            { metric: "  process CPU µs per webhook incl. SDK + HTTP", ours: String(figures.router_process_cpu_us_per_webhook), baseline: String(figures.baseline_process_cpu_us_per_webhook), ratio: ratioText(s.processCpuUsPerWebhook, o.processCpuUsPerWebhook) },
            { metric: "Archive bytes per webhook (2 KB body)", ours: `${round(o.s3PutBytesPer1000 / 1000, 0)} (gzip NDJSON)`, baseline: `${round(s.s3PutBytesPer1000 / 1000, 0)} (JSON)`, ratio: `${times(s.s3PutBytesPer1000 / o.s3PutBytesPer1000)} less` },
            { metric: "Worker DynamoDB calls per webhook (idempotency)", ours: String(figures.worker_dynamodb_calls_per_webhook), baseline: "0" },
        ];
        if (!pureModelMatchesRouter) rows.push({ metric: "WARNING: pure CPU model differs from the router", ours: notes[0] ?? "" });
        return {
            figures,
            rows,
            goals: [goal("router_calls_per_1000", "<=", RouterGoals.callsPer1000, figures.router_calls_per_1000), goal("router_us_per_webhook", "<=", RouterGoals.usPerWebhook, figures.router_us_per_webhook)],
            details,
        };
    },
};

function ratioText(baseline: number, ours: number): string {
    return baseline >= ours ? `${times(baseline / ours)} less` : `${times(ours / baseline)} more`;
}
