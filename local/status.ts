/**
 * `GET /_status`: per provider the counters (stats.ts) and, per lane, the live
 * queue depths from the emulator.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { PipelineModel } from "../model/pipeline";
import type { FailureSwitch } from "./failure-switch";
import { QueueDepth, queueDepth } from "./queues";
import type { LocalResources } from "./resources";
import type { LaneCounts, PipelineStats, ProviderCounts } from "./stats";

export interface LaneStatus {
    readonly kind: string;
    readonly concurrency: number;
    readonly batchSize: number;
    readonly maxReceiveCount: number;
    /** Handler batches (Kafka: handler calls) running now. */
    readonly running: number;
    /** SQS lanes. */
    readonly queue?: QueueDepth;
    readonly dlq?: QueueDepth;
    /** Kafka lanes: messages sent to the dead-letter topic since start. */
    readonly deadLettered?: number;
    /** This lane's counters since start (a fan-out route's event counts on each of its lanes). */
    readonly counts?: LaneCounts;
    /** The worker takes no messages (configured `paused`, or `ops pause`); what the lane holds is in `queue` (SQS) or its topic (Kafka). */
    readonly paused: boolean;
    /** Paused lanes: when the pause began (ISO 8601). */
    readonly pausedAt?: string;
    /**
     * Paused lanes: seconds since the first message routed to the lane after its pause, the oldest it holds (a retry
     * waiting from before the pause is older). undefined when nothing arrived since.
     */
    readonly oldestHeldAgeSeconds?: number;
}

export interface ProviderStatus extends ProviderCounts {
    readonly url: string;
    /** Messages in the provider's lane DLQs now (visible + in flight; Kafka lanes: dead-lettered since start). */
    readonly dlq: number;
    /** The handler fails on demand (see failure-switch.ts). */
    readonly failing: boolean;
    readonly lanes: Readonly<Record<string, LaneStatus>>;
}

export interface PipelineStatus {
    readonly stack: string;
    readonly url: string;
    readonly uptimeSeconds: number;
    readonly providers: Readonly<Record<string, ProviderStatus>>;
    readonly router: PipelineStats["router"] & { readonly queue: QueueDepth; readonly dlq: QueueDepth };
    /** Answers other than a provider's 200, by HTTP status. */
    readonly http: Readonly<Record<string, number>>;
}

export interface StatusSources {
    readonly stack: string;
    readonly url: string;
    readonly startedAt: number;
    readonly model: PipelineModel;
    readonly resources: LocalResources;
    readonly sqs: SQSClient;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
    /** The lane's runner: what runs now, and (Kafka) what was dead-lettered. */
    readonly runner: (lane: string) => { readonly inFlight: number; readonly deadLettered?: number; readonly paused?: boolean; readonly pausedAt?: number } | undefined;
}

function pauseOf(lane: string, runner: ReturnType<StatusSources["runner"]>, stats: PipelineStats, now = Date.now()): Pick<LaneStatus, "paused" | "pausedAt" | "oldestHeldAgeSeconds"> {
    if (!runner?.paused) return { paused: false };
    const since = stats.heldSince(lane);
    return {
        paused: true,
        ...(runner.pausedAt !== undefined ? { pausedAt: new Date(runner.pausedAt).toISOString() } : {}),
        ...(since !== undefined ? { oldestHeldAgeSeconds: Math.max(0, Math.round((now - since) / 1000)) } : {}),
    };
}

export async function buildStatus(s: StatusSources): Promise<PipelineStatus> {
    const depths: Record<string, { queue: QueueDepth; dlq: QueueDepth }> = {};
    await Promise.all(
        Object.entries(s.resources.lanes).map(async ([id, pair]) => {
            const [queue, dlq] = await Promise.all([queueDepth(s.sqs, pair.queue.url), queueDepth(s.sqs, pair.dlq.url)]);
            depths[id] = { queue, dlq };
        }),
    );
    const [catchAll, catchAllDlq] = await Promise.all([queueDepth(s.sqs, s.resources.catchAll.queue.url), queueDepth(s.sqs, s.resources.catchAll.dlq.url)]);
    const providers: Record<string, ProviderStatus> = {};
    for (const p of s.model.providers) {
        const lanes: Record<string, LaneStatus> = {};
        let dlq = 0;
        for (const lane of s.model.lanes.filter((l) => l.provider === p.name)) {
            const depth = depths[lane.id];
            const runner = s.runner(lane.id);
            dlq += depth ? depth.dlq.visible + depth.dlq.inFlight : (runner?.deadLettered ?? 0);
            lanes[lane.id] = {
                kind: lane.kind,
                concurrency: lane.concurrency,
                batchSize: lane.batchSize,
                maxReceiveCount: lane.maxReceiveCount,
                running: runner?.inFlight ?? 0,
                queue: depth?.queue,
                dlq: depth?.dlq,
                deadLettered: runner?.deadLettered,
                counts: s.stats.lanes[lane.id] ? { ...s.stats.lanes[lane.id] } : undefined,
                ...pauseOf(lane.id, runner, s.stats),
            };
        }
        providers[p.name] = { url: `${s.url}${p.path}`, ...s.stats.providers[p.name], dlq, failing: s.failures.failing(p.name), lanes };
    }
    return {
        stack: s.stack,
        url: s.url,
        uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
        providers,
        router: { ...s.stats.router, queue: catchAll, dlq: catchAllDlq },
        http: { ...s.stats.http },
    };
}
