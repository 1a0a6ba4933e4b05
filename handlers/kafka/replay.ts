/**
 * Replay: re-consume a Kafka lane from a timestamp or an offset. The consumer
 * runner joins a consumer group (a fresh `<topic>.replay-<time>` one, or one
 * you name that has no running members), seeks the chosen partitions to the
 * starting point (committing it), processes until it reached the end offsets
 * taken at the start, and stops. A fresh group reads nothing else; a named
 * group also catches up on its other partitions from their committed offsets. Events that were processed before are skipped by
 * idempotency (while their records live, `archive.idempotencyDays`); events
 * that failed, were dead-lettered or were never processed run the handler.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { KafkaRuntime } from "../../model/runtime-config";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { createKafkaClient, CredentialsProvider } from "./client";
import { KafkaNames } from "./constants";
import { ConsumerLane, ConsumerStats, LaneProcess, startLaneConsumer } from "./consumer";

export interface ReplayOptions {
    readonly kafka: KafkaRuntime;
    readonly lane: ConsumerLane;
    readonly process: LaneProcess;
    /** Start at the first message at or after this time. Exactly one of `from` and `offset`. */
    readonly from?: Date;
    /** Start at this offset (clamped to what the partition still holds). */
    readonly offset?: bigint | number | string;
    /** Only this partition. @default every partition */
    readonly partition?: number;
    /** Use this group (it must have no running members). @default `<topic>.replay-<UTC time>` */
    readonly groupId?: string;
    readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
    readonly secrets?: SecretsManagerClient;
    readonly credentials?: CredentialsProvider;
    readonly logger?: HandlerLogger;
    /** Called with the plan before consuming starts. */
    readonly onPlan?: (plan: ReplayPlan) => void;
}

export interface ReplayPlan {
    readonly groupId: string;
    /** Where each partition starts and the end offset it must reach. */
    readonly partitions: readonly { partition: number; start: string; end: string }[];
    /** Messages to re-consume. */
    readonly messages: number;
}

export interface ReplayResult extends ReplayPlan {
    readonly stats: ConsumerStats;
}

export class ReplayError extends Error {
    public readonly name = "ReplayError";
}

/** `2024-05-17T12:34:56.789Z` -> `20240517T123456Z` */
function compactTime(date: Date): string {
    return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export function replayGroupOf(topic: string, at = new Date()): string {
    return `${topic}${KafkaNames.replayGroupInfix}${compactTime(at)}`;
}

const big = (v: string | number | bigint) => BigInt(v);
const clamp = (v: bigint, low: bigint, high: bigint) => (v < low ? low : v > high ? high : v);

export async function replayLane(options: ReplayOptions): Promise<ReplayResult> {
    const { lane } = options;
    if ((options.from === undefined) === (options.offset === undefined)) throw new ReplayError("give exactly one of from (a time) and offset");
    if (options.from && Number.isNaN(options.from.getTime())) throw new ReplayError("from is not a valid time");
    const logger = options.logger ?? silentLogger;
    const groupId = options.groupId ?? replayGroupOf(lane.topic);
    const kafka = await createKafkaClient(options.kafka, { secrets: options.secrets, credentials: options.credentials, logger, clientId: `webhook-pipeline-replay-${lane.id}` });
    const admin = kafka.admin();
    await admin.connect();
    let plan: ReplayPlan;
    try {
        const ends = await admin.fetchTopicOffsets(lane.topic);
        const selected = ends.filter((p) => options.partition === undefined || p.partition === options.partition);
        if (selected.length === 0) throw new ReplayError(`topic ${lane.topic} has no partition ${options.partition} (partitions: ${ends.map((p) => p.partition).join(", ")})`);
        const starts: Record<number, string> = {};
        if (options.from) {
            for (const p of await admin.fetchTopicOffsetsByTimestamp(lane.topic, options.from.getTime())) starts[p.partition] = p.offset;
        } else {
            for (const p of selected) starts[p.partition] = clamp(big(options.offset!), big(p.low), big(p.high)).toString();
        }
        const partitions = selected.map((p) => ({ partition: p.partition, start: starts[p.partition] ?? p.high, end: p.high })).sort((a, b) => a.partition - b.partition);
        if (options.groupId) {
            // Joining a group with running members would take partitions away from them.
            const [group] = (await admin.describeGroups([groupId])).groups;
            if (group && !["Empty", "Dead"].includes(group.state)) throw new ReplayError(`consumer group ${groupId} has running members (state ${group.state}): stop them first, or leave out the group to replay with a fresh one`);
        }
        const messages = partitions.reduce((n, p) => n + Number(big(p.end) - big(p.start)), 0);
        plan = { groupId, partitions, messages };
    } catch (err) {
        if (err instanceof ReplayError) throw err;
        throw new ReplayError(`preparing the replay of ${lane.topic} with group ${groupId} failed: ${(err as Error).message}`);
    } finally {
        await admin.disconnect().catch(() => undefined);
    }
    options.onPlan?.(plan);
    logger.info("replay planned", { ...plan });

    const targets = plan.partitions.filter((p) => big(p.start) < big(p.end)).map((p) => ({ partition: p.partition, offset: p.end }));
    const empty: ConsumerStats = { processed: 0, duplicates: 0, deadLettered: 0, retries: 0, inFlight: 0, peakInFlight: 0 };
    if (targets.length === 0) return { ...plan, stats: empty };
    const consumer = await startLaneConsumer({
        kafka: options.kafka,
        lane,
        process: options.process,
        groupId,
        ensureTopics: false,
        // A fresh group starts the partitions it was not asked to replay at their end.
        fromBeginning: false,
        startAt: plan.partitions.map((p) => ({ partition: p.partition, offset: p.start })),
        retry: options.retry,
        secrets: options.secrets,
        credentials: options.credentials,
        logger,
        clientId: `webhook-pipeline-replay-${lane.id}`,
    });
    try {
        await Promise.race([consumer.caughtUp(targets), consumer.done.then(() => Promise.reject(new ReplayError("the replay consumer stopped before it caught up")))]);
    } finally {
        await consumer.stop();
    }
    return { ...plan, stats: { ...consumer.stats } };
}
