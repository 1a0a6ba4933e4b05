/**
 * Delivery to a destination (issue 13): a lane with `rateLimitPerSecond` R
 * and `concurrency` C delivers a backlog of signed events through the local
 * worker pool (local/lane-runners.ts: the poller that behaves like the SQS
 * event source, C batches at once, each with its own pacer keeping
 * floor(R / C): handlers/destination/pace.ts) to a node http server on
 * loopback in this process, with real SQS, DynamoDB and Secrets Manager
 * from moto.
 *
 * Figures, measured at the sender (the start times the pacers granted and
 * recorded, across the C workers) and at the destination (arrivals):
 * - delivery_rate_ratio: arrivals per second (first to last) / R. Goal 0.9
 *   to 1.0. delivery_seconds is the run's time, delivery_ideal_seconds N / R.
 * - delivery_max_starts_per_second: the most starts in any one-second
 *   window. Goal: never above R (it holds by construction).
 * - delivery_max_arrivals_per_second: the same at the destination. Goal:
 *   never above R. delivery_arrival_delay_spread_ms: how much the delay
 *   from start to arrival varied (one clock: same process).
 * - delivery_peak_in_flight: the most requests at once, counted at the
 *   sender (start to answer) and the destination, on a run without a rate
 *   limit to a destination taking 100 ms, so the C workers are always busy.
 *   Goal: = C. At the rate limit with a 20 ms destination a worker has a
 *   request out ~10% of the time, and C at once needs the C workers' phases
 *   to line up within 20 ms: that peak (delivery_peak_in_flight_paced) is
 *   luck, so it only has to stay <= C. The poller's batches in flight are
 *   sampled too: C batches do run at once.
 * - delivery_overhead_ms: per event, the worker's time beyond the
 *   destination's round trip and the idempotency writes (lane message parse,
 *   secrets from the cache, Standard Webhooks signing, headers, Powertools'
 *   bookkeeping), measured on an unpaced lane with the lane processor called
 *   directly, so SQS receives and deletes are not in it. Goal < 5 ms.
 */
import { performance } from "perf_hooks";
import { laneHandler } from "../handlers/destination";
import type { DeliveryReport } from "../handlers/destination/deliver";
import { createRouter } from "../handlers/router/router";
import { cachedSecretReader } from "../handlers/shared/secrets";
import { createLaneProcessor } from "../handlers/worker/worker";
import { startSqsLaneRunner } from "../local/lane-runners";
import { createLocalLogger, LogLevel } from "../local/log";
import { createLocalResources, localClients } from "../local/resources";
import { PipelineStats } from "../local/stats";
import { parseConfig } from "../model/config";
import { DeliveryHeader } from "../model/delivery";
import { encodeEnvelope } from "../model/envelope";
import { buildPipelineModel, destinationSecretsOf, PaceWindowMs } from "../model/pipeline";
import { getPlugin } from "../providers";
import { CallTimings, timeCalls } from "./call-counter";
import { maxInWindow, peakOverlap, startDestination } from "./destination-server";
import { runPrefix } from "./router-efficiency";
import { median, round } from "./stats";
import { Benchmark, BenchContext, goal, TableRow } from "./types";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";

export const DeliverySizes = {
    full: { rate: 20, concurrency: 4, events: 200, destinationMs: 20, saturatedEvents: 80, saturatedDestinationMs: 100, overheadEvents: 300 },
    quick: { rate: 20, concurrency: 4, events: 60, destinationMs: 20, saturatedEvents: 40, saturatedDestinationMs: 100, overheadEvents: 100 },
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const signingSecret = `whsec_${Buffer.from("bench-delivery-signing-key").toString("base64")}`;
const providerSecret = "bench-delivery-provider-secret";

/** A pipeline with one Stripe lane delivering to `url`, its backlog of `events` routed to the lane. */
async function deliveryLane(ctx: BenchContext, url: string, events: number, lane: { concurrency: number; rate?: number }) {
    const endpoint = await ctx.awsEndpoint();
    const clients = localClients(endpoint);
    const config = parseConfig({
        providers: [{ name: "stripe", plugin: "stripe", secret: providerSecret, concurrency: lane.concurrency, batchSize: 10, destination: { url, signingSecret, ...(lane.rate ? { rateLimitPerSecond: lane.rate } : {}) } }],
    });
    const model = buildPipelineModel(config, "bench");
    const resources = await createLocalResources(model, { stripe: [providerSecret] }, clients, { prefix: runPrefix("dlv"), destinationSecrets: destinationSecretsOf(config) });
    const plugin = getPlugin("stripe");
    const now = Date.now();
    const provider = model.providers[0];
    for (let i = 0; i < events; i += 10) {
        const entries = Array.from({ length: Math.min(10, events - i) }, (_, j) => {
            const body = Buffer.from(JSON.stringify({ id: `evt_bench_${now}_${i + j}`, type: "invoice.paid", data: { object: { customer: `cus_${(i + j) % 37}`, amount: 4200 } } }));
            const headers = Object.fromEntries(Object.entries({ ...plugin.sign(body, providerSecret, now, ""), "content-type": "application/json" }).map(([k, v]) => [k.toLowerCase(), v]));
            return { Id: String(j), ...encodeEnvelope({ provider: "stripe", requestId: `r-${i + j}`, receivedAt: now, sourceIp: "203.0.113.1", headers, body }, provider.headers) };
        });
        await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: resources.catchAll.queue.url, Entries: entries }));
    }
    const route = createRouter({ config: resources.router, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets) });
    for (let routed = 0; routed < events; ) {
        const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.catchAll.queue.url, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }));
        if (!Messages.length) continue;
        const result = await route(Messages.map((m) => ({ messageId: m.MessageId!, body: m.Body!, attributes: m.MessageAttributes as Record<string, { DataType: "String" | "Number"; StringValue: string }> })));
        if (result.failures.length) throw new Error(`router failed ${result.failures.length} messages`);
        await clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: resources.catchAll.queue.url, Entries: Messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
        routed += Messages.length;
    }
    return { clients, model, resources };
}

/** One lane's run through the worker pool, measured at the sender (the starts the pacers granted) and at the destination (arrivals). */
async function poolRun(ctx: BenchContext, sizes: { rate?: number; concurrency: number; events: number; destinationMs: number }) {
    const dest = await startDestination(() => ({ status: 200, delayMs: sizes.destinationMs }));
    try {
        const { clients, model, resources } = await deliveryLane(ctx, dest.url, sizes.events, { concurrency: sizes.concurrency, rate: sizes.rate });
        const reports: DeliveryReport[] = [];
        const stats = new (class extends PipelineStats {
            override onDelivery(report: Parameters<PipelineStats["onDelivery"]>[0]) {
                reports.push(report as DeliveryReport);
                super.onDelivery(report);
            }
        })(["stripe"], { "stripe-default": "stripe" });
        const started = performance.now();
        const runner = await startSqsLaneRunner({ lane: model.lanes[0], resources, clients, handler: async () => undefined, stats, logger: createLocalLogger(LogLevel.SILENT) });
        const deadline = Date.now() + 120_000;
        // Batches in flight (the poller's count), sampled: whether C workers were running at all.
        let peakBatches = 0;
        while (dest.requests.length < sizes.events && Date.now() < deadline) {
            peakBatches = Math.max(peakBatches, runner.inFlight);
            await sleep(5);
        }
        const seconds = (performance.now() - started) / 1000;
        await runner.stop();
        if (dest.requests.length < sizes.events) throw new Error(`only ${dest.requests.length} of ${sizes.events} events were delivered within 120 s`);
        const at = dest.requests.map((r) => r.at);
        const span = (Math.max(...at) - Math.min(...at)) / 1000;
        const starts = reports.map((r) => r.startMark);
        const startSpan = (Math.max(...starts) - Math.min(...starts)) / 1000;
        // Start -> arrival per event (one clock: the destination runs in this process): how much the delay varied.
        const startOf = new Map(reports.map((r) => [r.eventId, r.startMark]));
        const inOrder = dest.requests.map((r) => r.at - (startOf.get(r.headers[DeliveryHeader.EventId]) ?? NaN));
        const delays = inOrder.filter(Number.isFinite).sort((a, b) => a - b);
        // The slowest arrivals and where they were in the run (the first requests open connections and load fetch).
        const slowest = inOrder.map((ms, index) => ({ index, ms: round(ms, 1) })).sort((a, b) => b.ms - a.ms).slice(0, 5);
        return {
            seconds: round(seconds, 2),
            idealSeconds: sizes.rate ? sizes.events / sizes.rate : undefined,
            span: round(span, 2),
            rate: round((at.length - 1) / span, 2),
            startRate: round((starts.length - 1) / startSpan, 2),
            startsWindowMax: maxInWindow(starts),
            arrivalsWindowMax: maxInWindow(at),
            peakInFlightSender: peakOverlap(reports.map((r) => [r.startMark, r.startMark + r.ms] as const)),
            peakInFlightDestination: dest.peakInFlight,
            peakBatches,
            arrivalDelayMs: { min: round(delays[0], 2), p50: round(median(delays), 2), max: round(delays[delays.length - 1], 2), spread: round(delays[delays.length - 1] - delays[0], 2), slowest },
            attempts: reports.length,
            delivered: new Set(dest.requests.map((r) => r.headers[DeliveryHeader.EventId])).size,
        };
    } finally {
        await dest.close();
    }
}

/** Per event: the processor's time minus the destination's round trip and the DynamoDB idempotency calls. */
async function overheadRun(ctx: BenchContext, events: number) {
    const dest = await startDestination(() => ({ status: 200 }));
    try {
        const { clients, model, resources } = await deliveryLane(ctx, dest.url, events, { concurrency: 2 });
        const timings: CallTimings = {};
        timeCalls(clients.dynamo, "dynamodb", timings);
        const reports: DeliveryReport[] = [];
        const config = resources.workers[model.lanes[0].id];
        const own = laneHandler(config, async () => undefined, { secrets: () => cachedSecretReader(clients.secrets), onAttempt: (r) => reports.push(r) });
        const process_ = createLaneProcessor({ config, handler: own.handler, s3: clients.s3, dynamo: clients.dynamo });
        const texts: string[] = [];
        while (texts.length < events) {
            const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.lanes[model.lanes[0].id].queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
            texts.push(...Messages.map((m) => m.Body!));
        }
        // Warm-up: the first calls load modules, open connections and fill the secret cache.
        const warm = 10;
        for (const t of texts.slice(0, warm)) await process_(t);
        reports.length = 0;
        for (const k of Object.keys(timings)) delete timings[k];
        const t0 = performance.now();
        for (const t of texts.slice(warm)) await process_(t);
        const totalMs = performance.now() - t0;
        const n = texts.length - warm;
        const destinationMs = reports.reduce((s, r) => s + r.ms, 0);
        const dynamoMs = Object.values(timings).reduce((s, t) => s + t.totalMs, 0);
        return { perEventMs: totalMs / n, destinationMsPerEvent: destinationMs / n, dynamoMsPerEvent: dynamoMs / n, overheadMs: (totalMs - destinationMs - dynamoMs) / n, dynamoCalls: timings };
    } finally {
        await dest.close();
    }
}

export const delivery: Benchmark = {
    name: "delivery",
    title: "Delivery to a destination (rate limit, concurrency, overhead)",
    async run(ctx) {
        const sizes = ctx.quick ? DeliverySizes.quick : DeliverySizes.full;
        const repeats = ctx.quick ? 1 : Math.min(ctx.repeats, 3);
        const paced = [];
        for (let i = 0; i < repeats; i++) {
            ctx.log(`delivery: ${sizes.events} events at ${sizes.rate}/s, concurrency ${sizes.concurrency} (${i + 1}/${repeats})`);
            paced.push(await poolRun(ctx, { rate: sizes.rate, concurrency: sizes.concurrency, events: sizes.events, destinationMs: sizes.destinationMs }));
        }
        ctx.log(`delivery: ${sizes.saturatedEvents} events without a rate limit to a destination taking ${sizes.saturatedDestinationMs} ms, concurrency ${sizes.concurrency}`);
        const saturated = await poolRun(ctx, { concurrency: sizes.concurrency, events: sizes.saturatedEvents, destinationMs: sizes.saturatedDestinationMs });
        const overheads = [];
        for (let i = 0; i < repeats; i++) overheads.push(await overheadRun(ctx, sizes.overheadEvents));
        const ratio = round(median(paced.map((p) => p.rate)) / sizes.rate, 3);
        // Correctness figures: the worst over repeats.
        const startsMax = Math.max(...paced.map((p) => p.startsWindowMax));
        const arrivalsMax = Math.max(...paced.map((p) => p.arrivalsWindowMax));
        const pacedPeak = Math.max(...paced.map((p) => Math.max(p.peakInFlightSender, p.peakInFlightDestination)));
        const peak = Math.max(saturated.peakInFlightSender, saturated.peakInFlightDestination);
        const seconds = round(median(paced.map((p) => p.seconds)), 2);
        const ideal = sizes.events / sizes.rate;
        const spread = Math.max(...paced.map((p) => p.arrivalDelayMs.spread));
        const overhead = round(median(overheads.map((o) => o.overheadMs)), 2);
        const guardMs = PaceWindowMs - 1000;
        const rows: TableRow[] = [
            { metric: `achieved rate / rateLimitPerSecond (${sizes.rate}/s, ${sizes.events} events, arrivals first to last)`, ours: String(ratio), goal: "0.9 - 1.0", met: ratio >= 0.9 && ratio <= 1 },
            { metric: "  run time (median), against the ideal events / rate", ours: `${seconds} s (ideal ${ideal} s)` },
            { metric: "most starts in any one-second window (sender: the starts the pacers granted)", ours: String(startsMax), goal: `<= ${sizes.rate}`, met: startsMax <= sizes.rate },
            { metric: "most arrivals in any one-second window (destination)", ours: String(arrivalsMax), goal: `<= ${sizes.rate}`, met: arrivalsMax <= sizes.rate },
            { metric: `  start -> arrival delay, min / p50 / max (guard ${guardMs} ms)`, ours: paced.map((p) => `${p.arrivalDelayMs.min} / ${p.arrivalDelayMs.p50} / ${p.arrivalDelayMs.max} ms`).join("; ") },
            { metric: `  peak in flight at the rate limit, sender / destination (destination takes ${sizes.destinationMs} ms)`, ours: paced.map((p) => `${p.peakInFlightSender} / ${p.peakInFlightDestination} (batches ${p.peakBatches})`).join("; "), goal: `<= ${sizes.concurrency}`, met: pacedPeak <= sizes.concurrency },
            {
                metric: `peak requests in flight (concurrency ${sizes.concurrency}; no rate limit, destination takes ${sizes.saturatedDestinationMs} ms), sender / destination`,
                ours: `${saturated.peakInFlightSender} / ${saturated.peakInFlightDestination}`,
                goal: `= ${sizes.concurrency}`,
                met: peak === sizes.concurrency && saturated.peakInFlightDestination === sizes.concurrency,
            },
            { metric: "worker overhead per event beyond the destination and idempotency writes", ours: `${overhead} ms`, goal: "< 5 ms", met: overhead < 5 },
        ];
        return {
            figures: {
                delivery_rate_ratio: ratio,
                delivery_max_starts_per_second: startsMax,
                delivery_max_arrivals_per_second: arrivalsMax,
                delivery_arrival_delay_spread_ms: spread,
                delivery_seconds: seconds,
                delivery_ideal_seconds: ideal,
                delivery_peak_in_flight: peak,
                delivery_peak_in_flight_paced: pacedPeak,
                delivery_concurrency: sizes.concurrency,
                delivery_rate_limit: sizes.rate,
                delivery_overhead_ms: overhead,
            },
            rows,
            goals: [
                goal("delivery_rate_ratio", ">=", 0.9, ratio),
                goal("delivery_rate_ratio", "<=", 1, ratio),
                goal("delivery_max_starts_per_second", "<=", sizes.rate, startsMax),
                goal("delivery_max_arrivals_per_second", "<=", sizes.rate, arrivalsMax),
                goal("delivery_peak_in_flight", ">=", sizes.concurrency, peak),
                goal("delivery_peak_in_flight", "<=", sizes.concurrency, peak),
                goal("delivery_peak_in_flight_paced", "<=", sizes.concurrency, pacedPeak),
                goal("delivery_overhead_ms", "<=", 5, overhead),
            ],
            details: { sizes, guardMs, paced, saturated, overheads },
        };
    },
};
