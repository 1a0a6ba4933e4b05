/**
 * Delivery to a destination (issue 13): a lane with `rateLimitPerSecond` R
 * and `concurrency` C delivers a backlog of signed events through the local
 * worker pool (local/lane-runners.ts: the poller that behaves like the SQS
 * event source, C batches at once, each worker pacing itself to R / C) to a
 * node http server on loopback, with real SQS, DynamoDB and Secrets Manager
 * from moto.
 *
 * Figures:
 * - delivery_rate_ratio: starts per second achieved (first to last start at
 *   the destination) / R. Goal 0.9 to 1.0.
 * - delivery_max_starts_per_second: the most arrivals in any one-second
 *   window at the destination. Goal: never above R.
 * - delivery_peak_in_flight: the most requests the destination held at once.
 *   Goal: = C.
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
import { encodeEnvelope } from "../model/envelope";
import { buildPipelineModel, destinationSecretsOf } from "../model/pipeline";
import { getPlugin } from "../providers";
import { CallTimings, timeCalls } from "./call-counter";
import { maxInWindow, startDestination } from "./destination-server";
import { runPrefix } from "./router-efficiency";
import { median, round } from "./stats";
import { Benchmark, BenchContext, goal, TableRow } from "./types";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";

export const DeliverySizes = {
    full: { rate: 20, concurrency: 4, events: 200, overheadEvents: 300 },
    quick: { rate: 20, concurrency: 4, events: 60, overheadEvents: 100 },
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

/** R and C through the worker pool: starts per second, window max and peak in flight at the destination. */
async function pacedRun(ctx: BenchContext, sizes: { rate: number; concurrency: number; events: number }) {
    const dest = await startDestination(() => ({ status: 200, delayMs: 20 }));
    try {
        const { clients, model, resources } = await deliveryLane(ctx, dest.url, sizes.events, { concurrency: sizes.concurrency, rate: sizes.rate });
        const stats = new PipelineStats(["stripe"], { "stripe-default": "stripe" });
        const started = performance.now();
        const runner = await startSqsLaneRunner({ lane: model.lanes[0], resources, clients, handler: async () => undefined, stats, logger: createLocalLogger(LogLevel.SILENT) });
        const deadline = Date.now() + 120_000;
        while (dest.requests.length < sizes.events && Date.now() < deadline) await sleep(50);
        const seconds = (performance.now() - started) / 1000;
        await runner.stop();
        if (dest.requests.length < sizes.events) throw new Error(`only ${dest.requests.length} of ${sizes.events} events were delivered within 120 s`);
        const at = dest.requests.map((r) => r.at);
        const span = (Math.max(...at) - Math.min(...at)) / 1000;
        return { seconds, span, rate: (at.length - 1) / span, windowMax: maxInWindow(at), peak: dest.peakInFlight, delivered: new Set(dest.requests.map((r) => r.headers["webhook-pipeline-event-id"])).size };
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
            paced.push(await pacedRun(ctx, sizes));
        }
        const overheads = [];
        for (let i = 0; i < repeats; i++) overheads.push(await overheadRun(ctx, sizes.overheadEvents));
        const ratio = round(median(paced.map((p) => p.rate)) / sizes.rate, 3);
        // Correctness figures: the worst over repeats.
        const windowMax = Math.max(...paced.map((p) => p.windowMax));
        const peak = Math.max(...paced.map((p) => p.peak));
        const overhead = round(median(overheads.map((o) => o.overheadMs)), 2);
        const rows: TableRow[] = [
            { metric: `achieved rate / rateLimitPerSecond (${sizes.rate}/s, ${sizes.events} events)`, ours: String(ratio), goal: "0.9 - 1.0", met: ratio >= 0.9 && ratio <= 1 },
            { metric: "most starts in any one-second window", ours: String(windowMax), goal: `<= ${sizes.rate}`, met: windowMax <= sizes.rate },
            { metric: `peak requests in flight (concurrency ${sizes.concurrency})`, ours: String(peak), goal: `= ${sizes.concurrency}`, met: peak === sizes.concurrency },
            { metric: "worker overhead per event beyond the destination and idempotency writes", ours: `${overhead} ms`, goal: "< 5 ms", met: overhead < 5 },
        ];
        return {
            figures: { delivery_rate_ratio: ratio, delivery_max_starts_per_second: windowMax, delivery_peak_in_flight: peak, delivery_concurrency: sizes.concurrency, delivery_rate_limit: sizes.rate, delivery_overhead_ms: overhead },
            rows,
            goals: [
                goal("delivery_rate_ratio", ">=", 0.9, ratio),
                goal("delivery_rate_ratio", "<=", 1, ratio),
                goal("delivery_max_starts_per_second", "<=", sizes.rate, windowMax),
                goal("delivery_peak_in_flight", ">=", sizes.concurrency, peak),
                goal("delivery_peak_in_flight", "<=", sizes.concurrency, peak),
                goal("delivery_overhead_ms", "<=", 5, overhead),
            ],
            details: { sizes, paced, overheads },
        };
    },
};
