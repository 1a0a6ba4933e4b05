/**
 * Benchmarks 5 and 6, controlled concurrency: a lane with limit C and a
 * handler that holds a "database" slot for a fixed time (concurrency-probe.ts),
 * fed a backlog of a few hundred webhooks through our router, run by the
 * code the local pipeline runs:
 *
 * - SQS lanes: `startSqsLaneRunner` of local/lane-runners.ts (the poller that
 *   behaves like the event source mapping, with `maximumConcurrency` = C,
 *   and Powertools batch processing around the worker's lane processor, as
 *   handlers/worker/lambda.ts does on AWS).
 * - Kafka lanes: `startLaneConsumer` of handlers/kafka/consumer.ts on a real
 *   broker, topic partitions = C (what `startKafkaLaneRunner` runs), around
 *   the same lane processor.
 *
 * Figures: the peak of concurrent handler calls (must equal C and never
 * exceed it: the maximum over repeats is reported), and throughput as a share
 * of C / hold time (median over repeats). The worker's idempotency makes three
 * DynamoDB calls per event (PutItem before the handler with, beside it, the
 * GetItem of the pre-fan-out key; UpdateItem after),
 * each a round trip to the emulator: they are timed with a middleware on the
 * worker's DynamoDB client, and a run with a hold of 0 measures the whole
 * per-event overhead, so the gap to 100 % is split into the DynamoDB calls,
 * timer lateness and everything else (receives, deletes, commits, idle
 * slots at the end of a fetch or of the backlog).
 */
import { routerKafkaPublisher } from "../handlers/kafka/publisher";
import { startLaneConsumer } from "../handlers/kafka/consumer";
import { createRouter } from "../handlers/router/router";
import { cachedSecretReader } from "../handlers/shared/secrets";
import { createLaneProcessor } from "../handlers/worker/worker";
import { startSqsLaneRunner } from "../local/lane-runners";
import { createLocalLogger, LogLevel } from "../local/log";
import { localClients } from "../local/resources";
import { PipelineStats } from "../local/stats";
import { ProviderDefaults } from "../model/constants";
import type { LaneModel } from "../model/pipeline";
import type { KafkaRuntime } from "../model/runtime-config";
import { KafkaBroker, startKafka } from "../local/services/kafka";
import { CallTimings, timeCalls } from "./call-counter";
import { ConcurrencyProbe, ProbeSummary } from "./concurrency-probe";
import { OursBatchSize, runPrefix } from "./router-efficiency";
import { median, round } from "./stats";
import { BenchPipeline, createBenchPipeline, makeTraffic } from "./traffic";
import { Benchmark, BenchContext, goal, Goal, TableRow } from "./types";

/** The lane limit, the handler's hold and the backlog, full and `--quick`. */
export const ConcurrencySizes = {
    full: { limit: 4, holdMs: 50, messages: 400, repeats: 3 },
    quick: { limit: 4, holdMs: 50, messages: 120, repeats: 1 },
} as const;

/** A hold long enough for every record of the lane's batches in flight to reach the handler. */
const LongHoldMs = 1000;

/** The provider whose lane is measured: Stripe keys Kafka messages by customer (hundreds of keys), so partitions fill evenly. */
const Provider = { name: "stripe", plugin: "stripe" } as const;

export type LaneRunnerKind =
    /** local/lane-runners.ts startSqsLaneRunner, as the local pipeline runs an SQS lane (a batch's records one at a time, as on Lambda). */
    | "sqs-runner"
    /** handlers/kafka/consumer.ts startLaneConsumer, partitions = limit. */
    | "kafka";

export interface LaneRunSpec {
    readonly runner: LaneRunnerKind;
    readonly limit: number;
    readonly holdMs: number;
    readonly messages: number;
    /** SQS lanes: records per batch. @default the lane's default (ProviderDefaults.batchSize, 10) */
    readonly batchSize?: number;
}

export interface LaneRun extends ProbeSummary {
    readonly spec: LaneRunSpec;
    /** Events per second C slots give when each event holds one for `holdMs` and nothing else takes time. */
    readonly idealPerSecond: number;
    /** eventsPerSecond / idealPerSecond. */
    readonly share: number;
    /** Time a slot spends per event: limit x window / events, ms. */
    readonly slotMsPerEvent: number;
    /** The worker's DynamoDB calls per event and their mean latency (from the middleware). */
    readonly dynamo: { readonly callsPerEvent: number; readonly msPerCall: number; readonly msPerEvent: number };
    /** SQS lanes: the runner's ReceiveMessage (those that returned messages) and DeleteMessageBatch time per event (from the middleware). */
    readonly sqsMsPerEvent: number;
    /** Every AWS call the runner and the worker made until the runner stopped, by operation. */
    readonly awsCalls: CallTimings;
    /** CPU time of this process (runner, worker, SDK) per event, ms. */
    readonly cpuMsPerEvent: number;
    /** Kafka: the consumer's own peak of calls in flight (cross-check of the probe). */
    readonly consumerPeak?: number;
    /** Kafka: events per partition. */
    readonly perPartition?: number[];
}

/** A pipeline with one lane of `kind` and the limit, in the emulator (and broker). */
async function lanePipeline(endpoint: string, spec: LaneRunSpec, kafka: KafkaRuntime | undefined): Promise<{ pipeline: BenchPipeline; lane: LaneModel }> {
    const isKafka = spec.runner === "kafka";
    const values: Record<string, unknown> = {
        providers: [{ ...Provider, concurrency: spec.limit, ...(isKafka ? { lane: "kafka" } : {}), ...(spec.batchSize !== undefined ? { batchSize: spec.batchSize } : {}) }],
        ...(isKafka ? { kafka: { mode: "external", brokers: [...kafka!.brokers] } } : {}),
    };
    const pipeline = await createBenchPipeline(endpoint, values, runPrefix(isKafka ? "k" : "q"), undefined, isKafka ? kafka : undefined);
    return { pipeline, lane: pipeline.model.lanes[0] };
}

/** Route `count` signed webhooks through our router into the lane (queue or topic); resolves once all are in it. */
async function feedLane(pipeline: BenchPipeline, count: number, seed: number): Promise<void> {
    const clients = localClients(pipeline.endpoint);
    const kafka = pipeline.model.usesKafka ? routerKafkaPublisher(pipeline.resources.router, { secrets: clients.secrets }) : undefined;
    try {
        const route = createRouter({ config: pipeline.resources.router, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets), kafka });
        const { records } = makeTraffic(pipeline, { count, seed, runTag: `c${seed}x` });
        let routed = 0;
        for (let i = 0; i < records.length; i += OursBatchSize) {
            const { report } = await route(records.slice(i, i + OursBatchSize));
            if (report.failed) throw new Error(`the router failed ${report.failed} of ${report.received} records while feeding the lane`);
            routed += Object.values(report.routed).reduce((a, b) => a + b, 0);
        }
        if (routed !== count) throw new Error(`the router put ${routed} of ${count} webhooks on the lane`);
    } finally {
        await kafka?.close();
        for (const c of [clients.sqs, clients.s3, clients.secrets, clients.dynamo]) c.destroy();
    }
}

const quietLogger = () => createLocalLogger(LogLevel.ERROR);
const cpuOf = (u: NodeJS.CpuUsage) => u.user + u.system;

/**
 * One measured run: a fresh lane with a backlog of `spec.messages` webhooks,
 * then the runner started and stopped once the handler completed them all.
 */
export async function runLane(endpoint: string, spec: LaneRunSpec, options: { kafka?: KafkaRuntime; seed?: number; timeoutMs?: number; gate?: (probe: ConcurrencyProbe) => Promise<void> } = {}): Promise<LaneRun> {
    const { pipeline, lane } = await lanePipeline(endpoint, spec, options.kafka);
    await feedLane(pipeline, spec.messages, options.seed ?? 1);
    const clients = localClients(endpoint);
    const timings: CallTimings = {};
    timeCalls(clients.dynamo, "DynamoDB", timings);
    timeCalls(clients.sqs, "SQS", timings);
    const probe = new ConcurrencyProbe(spec.holdMs, options.gate);
    const timeoutMs = options.timeoutMs ?? 180_000;
    let consumerPeak: number | undefined;
    let perPartition: number[] | undefined;
    const cpu = process.cpuUsage();
    let cpuUs = 0;
    try {
        if (spec.runner === "kafka") {
            const counts = new Array<number>(spec.limit).fill(0);
            const consumer = await startLaneConsumer({
                kafka: options.kafka!,
                lane: { id: lane.id, topic: lane.topic!, partitions: lane.concurrency, maxReceiveCount: lane.maxReceiveCount, timeoutSeconds: lane.timeoutSeconds },
                process: createLaneProcessor({ config: pipeline.resources.workers[lane.id], handler: probe.handler, s3: clients.s3, dynamo: clients.dynamo }),
                onMessage: (m) => (counts[m.partition] += 1),
            });
            try {
                await probe.waitForCalls(spec.messages, timeoutMs, () => `consumer ${JSON.stringify(consumer.stats)}`);
                cpuUs = cpuOf(process.cpuUsage(cpu));
            } finally {
                await consumer.stop();
            }
            if (consumer.stats.deadLettered || consumer.stats.retries) throw new Error(`the Kafka consumer retried ${consumer.stats.retries} and dead-lettered ${consumer.stats.deadLettered} messages: the benchmark handler never fails`);
            consumerPeak = consumer.stats.peakInFlight;
            perPartition = counts;
        } else {
            const stats = new PipelineStats([Provider.name], { [lane.id]: Provider.name });
            const runner = await startSqsLaneRunner({ lane, resources: pipeline.resources, clients, handler: probe.handler, stats, logger: quietLogger() });
            try {
                await probe.waitForCalls(spec.messages, timeoutMs, () => `in flight ${runner.inFlight}`);
                cpuUs = cpuOf(process.cpuUsage(cpu));
            } finally {
                await runner.stop();
            }
            const counts = stats.providers[Provider.name];
            if ((counts.processed !== spec.messages || counts.failed || counts.duplicates)) {
                throw new Error(`the SQS lane runner counted ${JSON.stringify(counts)} for ${spec.messages} webhooks`);
            }
        }
    } finally {
        for (const c of [clients.sqs, clients.s3, clients.secrets, clients.dynamo]) c.destroy();
    }
    const summary = probe.summary();
    if (summary.calls !== spec.messages) throw new Error(`${summary.calls} handler calls for ${spec.messages} webhooks`);
    const idealPerSecond = (spec.limit * 1000) / spec.holdMs;
    // Every event's calls, the last ones' UpdateItem and delete included (they end after the window); not the idle polls on an empty queue.
    const of = (service: string) => Object.entries(timings).filter(([k]) => k.startsWith(`${service}.`) && !k.endsWith("(empty)")).map(([, t]) => t);
    const dynamoCalls = of("DynamoDB").reduce((n, t) => n + t.calls, 0);
    const dynamoMs = of("DynamoDB").reduce((n, t) => n + t.totalMs, 0);
    const sqsMs = of("SQS").reduce((n, t) => n + t.totalMs, 0);
    return {
        spec,
        ...summary,
        idealPerSecond,
        share: spec.holdMs > 0 ? summary.eventsPerSecond / idealPerSecond : 0,
        slotMsPerEvent: (spec.limit * summary.windowMs) / summary.calls,
        dynamo: { callsPerEvent: dynamoCalls / summary.calls, msPerCall: dynamoCalls ? dynamoMs / dynamoCalls : 0, msPerEvent: dynamoMs / summary.calls },
        sqsMsPerEvent: sqsMs / summary.calls,
        awsCalls: timings,
        cpuMsPerEvent: cpuUs / 1000 / summary.calls,
        ...(consumerPeak !== undefined ? { consumerPeak } : {}),
        ...(perPartition ? { perPartition } : {}),
    };
}

/**
 * Where a slot's time per event goes, for a runner whose slots run one call
 * at a time (Kafka partitions, SQS lanes' batches): the hold,
 * the worker's DynamoDB calls, the runner's SQS receives and deletes, timer
 * lateness, and the rest (this process's CPU, slots idle while the single
 * receive loop serves another slot or at the end of a Kafka fetch or of the
 * backlog, offset commits). Shares of the slot time; they sum to 1.
 */
export function slotBreakdown(run: Pick<LaneRun, "slotMsPerEvent" | "meanHoldMs" | "dynamo" | "sqsMsPerEvent" | "spec">): { hold: number; dynamo: number; sqs: number; timerLateness: number; other: number } {
    const slot = run.slotMsPerEvent;
    const hold = run.spec.holdMs / slot;
    const dynamo = run.dynamo.msPerEvent / slot;
    const sqs = run.sqsMsPerEvent / slot;
    const timerLateness = Math.max(0, run.meanHoldMs - run.spec.holdMs) / slot;
    return { hold, dynamo, sqs, timerLateness, other: 1 - hold - dynamo - sqs - timerLateness };
}

interface VariantResult {
    readonly spec: LaneRunSpec;
    readonly held: LaneRun[];
    /** The same runner with a hold of 0: the per-event overhead alone. */
    readonly noHold: LaneRun[];
}

/** The medians that go into rows and figures. */
function summarize(v: VariantResult) {
    const m = (f: (r: LaneRun) => number, runs = v.held) => median(runs.map(f));
    return {
        peak: Math.max(...v.held.map((r) => r.peak)),
        peakNoHold: Math.max(...v.noHold.map((r) => r.peak)),
        share: m((r) => r.share),
        eventsPerSecond: m((r) => r.eventsPerSecond),
        meanInFlight: m((r) => r.meanInFlight),
        slotMsPerEvent: m((r) => r.slotMsPerEvent),
        overheadMsPerEvent: m((r) => r.slotMsPerEvent, v.noHold),
        noHold: {
            dynamoMsPerEvent: m((r) => r.dynamo.msPerEvent, v.noHold),
            sqsMsPerEvent: m((r) => r.sqsMsPerEvent, v.noHold),
            cpuMsPerEvent: m((r) => r.cpuMsPerEvent, v.noHold),
        },
        dynamoMsPerEvent: m((r) => r.dynamo.msPerEvent),
        dynamoMsPerCall: m((r) => r.dynamo.msPerCall),
        dynamoCallsPerEvent: m((r) => r.dynamo.callsPerEvent),
        sqsMsPerEvent: m((r) => r.sqsMsPerEvent),
        cpuMsPerEvent: m((r) => r.cpuMsPerEvent),
        breakdown: {
            hold: m((r) => slotBreakdown(r).hold),
            dynamo: m((r) => slotBreakdown(r).dynamo),
            sqs: m((r) => slotBreakdown(r).sqs),
            timerLateness: m((r) => slotBreakdown(r).timerLateness),
            other: m((r) => slotBreakdown(r).other),
        },
    };
}

async function measureVariant(ctx: BenchContext, endpoint: string, spec: LaneRunSpec, repeats: number, kafka?: KafkaRuntime): Promise<VariantResult> {
    const held: LaneRun[] = [];
    const noHold: LaneRun[] = [];
    for (let r = 0; r < repeats; r++) {
        held.push(await runLane(endpoint, spec, { kafka, seed: r + 1 }));
        noHold.push(await runLane(endpoint, { ...spec, holdMs: 0 }, { kafka, seed: 100 + r }));
        const h = held[held.length - 1];
        const z = noHold[noHold.length - 1];
        ctx.log(
            `${spec.runner}${spec.batchSize ? ` batch ${spec.batchSize}` : ""}: repeat ${r + 1}/${repeats}: peak ${h.peak} (limit ${spec.limit}), ${h.eventsPerSecond.toFixed(1)} events/s = ${(h.share * 100).toFixed(0)} % of ${h.idealPerSecond}; ` +
                `hold 0: ${z.slotMsPerEvent.toFixed(1)} ms per event per slot, DynamoDB ${h.dynamo.msPerCall.toFixed(1)} ms per call`,
        );
    }
    return { spec, held, noHold };
}

/** Mean events per partition / the fullest partition's: 1 when even; the fullest partition ends last and the others idle meanwhile. */
export function partitionBalance(counts: readonly number[]): number {
    return counts.reduce((a, b) => a + b, 0) / counts.length / Math.max(...counts);
}

const pct = (share: number) => `${round(share * 100, 1)} %`;

function peakGoals(prefix: string, limit: number, peak: number): Goal[] {
    // "Must equal C, never exceed it": both bounds, on the highest peak of any repeat.
    return [goal(`${prefix}_concurrency_peak`, "<=", limit, peak), goal(`${prefix}_concurrency_peak`, ">=", limit, peak)];
}

function variantRows(label: string, limit: number, holdMs: number, s: ReturnType<typeof summarize>, headline: boolean): TableRow[] {
    const indent = headline ? "  " : "    ";
    const b = s.breakdown;
    return [
        {
            metric: `${headline ? "" : "  "}${label}: peak handler calls at once (limit ${limit})`,
            ours: String(s.peak),
            goal: `= ${limit}`,
            ...(headline ? { met: s.peak === limit } : {}),
        },
        { metric: `${indent}throughput, share of ${limit} / ${holdMs} ms`, ours: `${pct(s.share)} (${round(s.eventsPerSecond, 1)} events/s of ${(limit * 1000) / holdMs})` },
        { metric: `${indent}slot time per event (hold ${holdMs} ms)`, ours: `${round(s.slotMsPerEvent, 1)} ms: hold ${pct(b.hold)}, DynamoDB ${pct(b.dynamo)}, ${b.sqs > 0 ? `SQS ${pct(b.sqs)}, ` : ""}timer ${pct(b.timerLateness)}, other ${pct(b.other)}` },
        { metric: `${indent}per-event overhead (hold 0)`, ours: `${round(s.overheadMsPerEvent, 1)} ms per slot: DynamoDB ${round(s.noHold.dynamoMsPerEvent, 1)} ms${s.noHold.sqsMsPerEvent > 0 ? `, SQS ${round(s.noHold.sqsMsPerEvent, 1)} ms` : ""}; CPU ${round(s.noHold.cpuMsPerEvent, 1)} ms` },
    ];
}

export const sqsConcurrency: Benchmark = {
    name: "sqs-concurrency",
    title: "Controlled concurrency, SQS lane (local lane runner)",
    async run(ctx) {
        const endpoint = await ctx.awsEndpoint();
        const size = ctx.quick ? ConcurrencySizes.quick : ConcurrencySizes.full;
        const repeats = Math.min(ctx.repeats, size.repeats);
        const base = { limit: size.limit, holdMs: size.holdMs, messages: size.messages };
        // The lane as configured by default (batch 10) and with batchSize 1 (one record per poll and delete).
        const runner = await measureVariant(ctx, endpoint, { ...base, runner: "sqs-runner" }, repeats);
        const batchOne = await measureVariant(ctx, endpoint, { ...base, runner: "sqs-runner", batchSize: 1 }, repeats);
        // How far the default lane goes: with a hold long enough for every record of C batches to start, C x batch size at once.
        const longHold = await runLane(endpoint, { runner: "sqs-runner", limit: size.limit, holdMs: LongHoldMs, messages: size.limit * ProviderDefaults.batchSize * 2 }, { seed: 50 });
        ctx.log(`sqs-runner, hold ${LongHoldMs} ms: peak ${longHold.peak} (limit ${size.limit}, batch ${ProviderDefaults.batchSize})`);
        const [r, b1] = [summarize(runner), summarize(batchOne)];
        const figures = {
            sqs_concurrency_peak: r.peak,
            sqs_concurrency_limit: size.limit,
            sqs_throughput_share: round(r.share, 3),
            sqs_concurrency_peak_long_hold: longHold.peak,
            sqs_concurrency_peak_batch_1: b1.peak,
            sqs_throughput_share_batch_1: round(b1.share, 3),
            sqs_overhead_ms_per_event: round(r.overheadMsPerEvent, 1),
            sqs_dynamodb_ms_per_call: round(r.dynamoMsPerCall, 1),
        };
        const rows: TableRow[] = [
            ...variantRows(`Default lane (batch ${ProviderDefaults.batchSize})`, size.limit, size.holdMs, r, true),
            { metric: `  the same, hold ${LongHoldMs / 1000} s: peak (records of a batch run one at a time, so the limit holds however long a call takes)`, ours: String(longHold.peak) },
            ...variantRows("batchSize 1", size.limit, size.holdMs, b1, false),
        ];
        return {
            figures,
            rows,
            goals: peakGoals("sqs", size.limit, r.peak),
            details: { size, repeats, provider: Provider, variants: { runner, batchOne, longHold }, medians: { runner: r, batchOne: b1 } },
        };
    },
};

export const kafkaConcurrency: Benchmark = {
    name: "kafka-concurrency",
    title: "Controlled concurrency, Kafka lane (consumer runner, real broker)",
    async run(ctx) {
        const endpoint = await ctx.awsEndpoint();
        const size = ctx.quick ? ConcurrencySizes.quick : ConcurrencySizes.full;
        const repeats = Math.min(ctx.repeats, size.repeats);
        let broker: KafkaBroker | undefined;
        let brokers = (process.env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
        if (!brokers.length) {
            ctx.log("kafka: starting a broker (KAFKA_BROKERS is not set)");
            broker = await startKafka();
            brokers = [...broker.brokers];
            ctx.log(`kafka: broker on ${brokers.join(",")} in ${(broker.startMs / 1000).toFixed(1)} s`);
        }
        try {
            const kafka: KafkaRuntime = { brokers, ssl: false, replicationFactor: 1 };
            const v = await measureVariant(ctx, endpoint, { runner: "kafka", limit: size.limit, holdMs: size.holdMs, messages: size.messages }, repeats, kafka);
            const s = summarize(v);
            const skew = median(v.held.map((r) => partitionBalance(r.perPartition!)));
            const figures = {
                kafka_concurrency_peak: s.peak,
                kafka_concurrency_limit: size.limit,
                kafka_throughput_share: round(s.share, 3),
                kafka_overhead_ms_per_event: round(s.overheadMsPerEvent, 1),
                kafka_dynamodb_ms_per_call: round(s.dynamoMsPerCall, 1),
            };
            const rows: TableRow[] = [
                ...variantRows(`Kafka lane, ${size.limit} partitions`, size.limit, size.holdMs, s, true),
                { metric: "  consumer's own peak in flight (cross-check)", ours: String(Math.max(...v.held.map((r) => r.consumerPeak ?? 0))) },
                { metric: "  partition balance (mean / fullest partition)", ours: pct(skew) },
            ];
            return { figures, rows, goals: peakGoals("kafka", size.limit, s.peak), details: { size, repeats, brokers: broker ? "started by the benchmark" : "KAFKA_BROKERS", variant: v, medians: s, partitionBalance: skew } };
        } finally {
            await broker?.stop();
        }
    },
};
