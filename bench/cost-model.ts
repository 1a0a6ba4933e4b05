/**
 * Benchmark 2, cost model: USD per million webhooks for the seed-style
 * design and ours, from the call counts measured by the router-efficiency
 * section and the list prices in prices.ts. Every line that is modelled
 * rather than measured says so in `basis`, and the assumptions are listed in
 * the results.
 *
 * Seed-style: REST API -> catch-all queue -> router Lambda per batch of 10
 * (128 MB x86_64, the Lambda default), one archive PUT and one SendMessage
 * per webhook. Ours: HTTP API -> catch-all queue -> router Lambda per batch
 * of 500 (the default router.batchSize; 512 MB arm64), one archive object per provider and hour per batch,
 * SendMessageBatch, and the worker's idempotency writes.
 */
import { RouterDefaults } from "../model/constants";
import { costOf, Prices } from "./prices";
import type { Design, RouterEfficiencyDetails } from "./router-efficiency";
import { round, times } from "./stats";
import { Benchmark, goal, TableRow } from "./types";

export const CostGoal = { ratio: 4 } as const;

/** Assumptions of the model that are not measured here. */
export const CostAssumptions = {
    webhooks: 1e6,
    /** Lambda gives a function one vCPU at 1,769 MB and CPU in proportion below (AWS Lambda docs, "Configure Lambda function memory"). */
    lambdaFullVcpuMb: 1769,
    /** Typical in-region latency of one call, ms (not measured: the emulator is local). */
    s3PutMs: 30,
    sqsSendMs: 10,
    router: {
        ours: { memoryMb: 512, arch: "arm64" as const, batch: RouterDefaults.batchSize },
        seed: { memoryMb: 128, arch: "x86_64" as const, batch: 10 },
    },
    /** Ingress function (providers behind it, ours): duration per request, ms, at 256 MB arm64. */
    ingressFunctionMs: 20,
    ingressFunctionMemoryMb: 256,
    /** The event source reads up to 10 messages per ReceiveMessage and deletes up to 10 per DeleteMessageBatch. */
    eventSourceMessagesPerCall: 10,
    /** Storage of the archive is counted for one month. */
    archiveMonths: 1,
    /** Each idempotency write is one WRU (Powertools records are far below 1 KB). */
    wruPerIdempotencyCall: 1,
} as const;

export interface CostLine {
    readonly item: string;
    readonly seed: number;
    readonly ours: number;
    /** measured / modelled, and from what. */
    readonly basis: string;
}

export interface CostResult {
    readonly lines: CostLine[];
    readonly seedTotal: number;
    readonly oursTotal: number;
    /** Ours without the idempotency writes (the seed has none): the like-for-like ingest path. */
    readonly oursWithoutIdempotency: number;
    readonly lambda: Record<Design, { invocations: number; durationMs: number; cpuMsOnLambda: number; ioMs: number; gbSeconds: number }>;
}

/** The cost model, from the router-efficiency section's medians. Pure: tested without the emulator. */
export function modelCost(router: Pick<RouterEfficiencyDetails, "medians" | "workerIdempotency" | "ingressFunctionShare">, a = CostAssumptions): CostResult {
    const n = a.webhooks;
    const per = (per1000: number) => (per1000 * n) / 1000;
    const lambda = {} as CostResult["lambda"];
    for (const design of ["ours", "seed"] as const) {
        const m = router.medians[design];
        const fn = a.router[design];
        const invocations = per(m.invocationsPer1000);
        const webhooksPerInvocation = n / invocations;
        const cpuMsOnLambda = (m.processCpuUsPerWebhook * webhooksPerInvocation * Math.max(1, a.lambdaFullVcpuMb / fn.memoryMb)) / 1000;
        // Ours: archive objects in parallel, then lanes in parallel with their chunks in sequence. Seed: the batch's records in parallel, each a PUT then a send.
        const ioMs = design === "ours" ? a.s3PutMs + m.sequentialSendRoundsPerInvocation * a.sqsSendMs : a.s3PutMs + a.sqsSendMs;
        const durationMs = Math.ceil(cpuMsOnLambda + ioMs);
        lambda[design] = { invocations, durationMs, cpuMsOnLambda: round(cpuMsOnLambda, 2), ioMs, gbSeconds: (invocations * durationMs * fn.memoryMb) / 1024 / 1000 };
    }
    const calls = (design: Design, key: string) => per(router.medians[design].calls[key] ?? 0);
    const sqsLane = (design: Design) => costOf(Prices.sqsStandard, per(router.medians[design].sqsBilledPer1000.standard)) + costOf(Prices.sqsFifo, per(router.medians[design].sqsBilledPer1000.fifo));
    const eventSourceCalls = (2 * n) / a.eventSourceMessagesPerCall;
    const ingressShare = router.ingressFunctionShare;
    const idempotencyCalls = router.workerIdempotency.perProcessed * router.medians.ours.routedShare * n;
    const gb = (bytesPer1000: number) => per(bytesPer1000) / 1e9;
    const lines: CostLine[] = [
        { item: "API Gateway (seed: REST API, ours: HTTP API)", seed: costOf(Prices.apiGatewayRest, n), ours: costOf(Prices.apiGatewayHttp, n), basis: "one request per webhook (2 KB < 512 KB metering)" },
        {
            item: "Ingress function (providers behind it: handshake, signed URL)",
            seed: 0,
            ours: costOf(Prices.lambdaRequests, n * ingressShare) + costOf(Prices.lambdaGbSecondArm, (n * ingressShare * a.ingressFunctionMs * a.ingressFunctionMemoryMb) / 1024 / 1000),
            basis: `modelled: ${round(ingressShare * 100, 1)}% of the traffic (Slack) x (1 request + ${a.ingressFunctionMs} ms at ${a.ingressFunctionMemoryMb} MB arm64)`,
        },
        { item: "Catch-all queue SendMessage (by API Gateway)", seed: costOf(Prices.sqsStandard, n), ours: costOf(Prices.sqsStandard, n), basis: "one standard request per webhook (one 64 KB chunk)" },
        { item: "Catch-all event source Receive + DeleteBatch", seed: costOf(Prices.sqsStandard, eventSourceCalls), ours: costOf(Prices.sqsStandard, eventSourceCalls), basis: "modelled: 10 messages per call each, idle polling not counted" },
        { item: "Router Lambda requests", seed: costOf(Prices.lambdaRequests, lambda.seed.invocations), ours: costOf(Prices.lambdaRequests, lambda.ours.invocations), basis: `measured invocations (batches of ${a.router.seed.batch} vs ${a.router.ours.batch})` },
        {
            item: "Router Lambda duration",
            seed: costOf(Prices.lambdaGbSecondX86, lambda.seed.gbSeconds),
            ours: costOf(Prices.lambdaGbSecondArm, lambda.ours.gbSeconds),
            basis: `modelled from measured CPU: seed ${lambda.seed.durationMs} ms x 128 MB x86, ours ${lambda.ours.durationMs} ms x 512 MB arm64 per invocation`,
        },
        { item: "Secrets Manager GetSecretValue", seed: costOf(Prices.secretsManagerApi, calls("seed", "SecretsManager.GetSecretValue")), ours: costOf(Prices.secretsManagerApi, calls("ours", "SecretsManager.GetSecretValue")), basis: "measured (one read per provider per fresh container)" },
        { item: "S3 archive PutObject", seed: costOf(Prices.s3Put, calls("seed", "S3.PutObject")), ours: costOf(Prices.s3Put, calls("ours", "S3.PutObject")), basis: "measured" },
        { item: "S3 claim-check GetObject", seed: costOf(Prices.s3Get, calls("seed", "S3.GetObject")), ours: costOf(Prices.s3Get, calls("ours", "S3.GetObject")), basis: "measured (none for 2 KB bodies)" },
        { item: "Lane sends (SendMessage / SendMessageBatch)", seed: sqsLane("seed"), ours: sqsLane("ours"), basis: "measured, billed per 64 KB chunk; FIFO lanes at the FIFO price" },
        {
            item: "Archive storage, first month",
            seed: costOf(Prices.s3StorageGbMonth, gb(router.medians.seed.s3PutBytesPer1000) * a.archiveMonths),
            ours: costOf(Prices.s3StorageGbMonth, gb(router.medians.ours.s3PutBytesPer1000) * a.archiveMonths),
            basis: "measured bytes (seed: JSON per request; ours: gzip NDJSON)",
        },
        {
            item: "Worker idempotency writes (DynamoDB on-demand)",
            seed: 0,
            ours: costOf(Prices.dynamoDbWrite, idempotencyCalls * a.wruPerIdempotencyCall),
            basis: `measured: ${round(router.workerIdempotency.perProcessed, 2)} writes per processed webhook x ${round(router.medians.ours.routedShare * 100, 1)}% routed; the seed has no idempotency`,
        },
    ];
    const seedTotal = lines.reduce((t, l) => t + l.seed, 0);
    const oursTotal = lines.reduce((t, l) => t + l.ours, 0);
    const oursWithoutIdempotency = oursTotal - lines[lines.length - 1].ours;
    return { lines, seedTotal, oursTotal, oursWithoutIdempotency, lambda };
}

const usd = (v: number) => (v >= 1 ? v.toFixed(2) : v >= 0.01 ? v.toFixed(3) : v.toFixed(4));

export const costModel: Benchmark = {
    name: "cost-model",
    title: "Cost per million webhooks (us-east-1 list prices)",
    needs: ["router-efficiency"],
    async run(ctx) {
        const router = ctx.results.get("router-efficiency")!.details as RouterEfficiencyDetails;
        const cost = modelCost(router);
        const ratio = cost.seedTotal / cost.oursTotal;
        const figures = {
            cost_usd_per_million: round(cost.oursTotal, 3),
            baseline_cost_usd_per_million: round(cost.seedTotal, 3),
            cost_ratio: round(ratio, 2),
            cost_usd_per_million_without_idempotency: round(cost.oursWithoutIdempotency, 3),
        };
        const rows: TableRow[] = [
            { metric: "USD per million webhooks", ours: usd(cost.oursTotal), baseline: usd(cost.seedTotal), ratio: `${times(ratio)} cheaper`, goal: `>= ${CostGoal.ratio}x cheaper`, met: ratio >= CostGoal.ratio },
            { metric: "  same without idempotency writes (seed has none)", ours: usd(cost.oursWithoutIdempotency), baseline: usd(cost.seedTotal), ratio: `${times(cost.seedTotal / cost.oursWithoutIdempotency)} cheaper` },
            ...cost.lines.filter((l) => l.seed || l.ours).map((l) => ({ metric: `  ${l.item}`, ours: usd(l.ours), baseline: usd(l.seed) })),
        ];
        return {
            figures,
            rows,
            goals: [goal("cost_ratio", ">=", CostGoal.ratio, figures.cost_ratio)],
            details: { ...cost, assumptions: CostAssumptions, prices: Prices, excluded: Excluded },
        };
    },
};

/** What the model leaves out, and why. */
export const Excluded = [
    "Lane consumption (worker ReceiveMessage/DeleteMessageBatch and worker Lambda): the same in both designs and set by the lane's batch size and your handler.",
    "CloudWatch Logs and metrics, data transfer, KMS requests, secret storage ($0.40 per secret-month), DynamoDB storage: not per-webhook, or the same in both.",
    "Lambda cold starts (INIT billing): rare at steady state in both designs.",
    "Free tiers and volume tiers: first-tier list prices throughout.",
] as const;
