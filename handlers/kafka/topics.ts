/**
 * Topics exist before traffic flows: each Kafka lane's topic (partitions = the
 * lane's concurrency) and its dead-letter topic, created idempotently with the
 * kafkajs admin client. The router runs this before its first publish in a
 * container, the consumer runner before it subscribes. A topic that exists is
 * left alone unless it has fewer partitions than configured: then it grows
 * (Kafka cannot shrink a topic; a smaller concurrency is enforced by the
 * consumers instead, see docs/kafka.md).
 *
 * Creating only what is missing means brokers where topics are managed by
 * someone else (no CreateTopic permission) work as long as the topics exist.
 */
import type { Admin, ITopicConfig } from "kafkajs";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { deadLetterTopicOf, KafkaDefaults } from "./constants";

export interface TopicSpec {
    readonly topic: string;
    readonly partitions: number;
    /** -1: the broker's default. */
    readonly replicationFactor: number;
}

export interface EnsureTopicsResult {
    readonly created: string[];
    /** Topic -> [partitions before, after]. */
    readonly grown: Record<string, [number, number]>;
    /** Topics that have more partitions than configured (left as they are). */
    readonly larger: Record<string, number>;
}

/** The lane topic and its dead-letter topic. */
export function laneTopicSpecs(topic: string, partitions: number, replicationFactor: number): TopicSpec[] {
    return [
        { topic, partitions, replicationFactor },
        { topic: deadLetterTopicOf(topic), partitions: KafkaDefaults.deadLetterPartitions, replicationFactor },
    ];
}

/** Error codes that mean "someone else created it first" (another router container racing this one). */
const alreadyExists = (err: unknown) => /TOPIC_ALREADY_EXISTS|already exists/i.test(`${(err as { type?: string })?.type ?? ""} ${(err as Error)?.message ?? ""} ${JSON.stringify((err as { errors?: unknown })?.errors ?? [])}`);

async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Record<string, number>> {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return {};
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
    return Object.fromEntries(metadata.map((m) => [m.name, m.partitions.length]));
}

/** Create missing topics and grow ones with too few partitions. Idempotent; safe to run concurrently. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[], logger: HandlerLogger = silentLogger): Promise<EnsureTopicsResult> {
    const result: EnsureTopicsResult = { created: [], grown: {}, larger: {} };
    const counts = await partitionCounts(admin, specs.map((s) => s.topic));
    const missing = specs.filter((s) => counts[s.topic] === undefined);
    if (missing.length) {
        const topics: ITopicConfig[] = missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor }));
        try {
            await admin.createTopics({ topics, waitForLeaders: true });
        } catch (err) {
            if (!alreadyExists(err)) throw err;
        }
        result.created.push(...missing.map((s) => s.topic));
        logger.info("kafka topics created", { topics: missing.map((s) => `${s.topic} (${s.partitions} partitions)`) });
    }
    const grow = specs.filter((s) => counts[s.topic] !== undefined && counts[s.topic] < s.partitions);
    if (grow.length) {
        await admin.createPartitions({ topicPartitions: grow.map((s) => ({ topic: s.topic, count: s.partitions })) });
        for (const s of grow) result.grown[s.topic] = [counts[s.topic], s.partitions];
        // More partitions move some keys to new partitions: order per key holds again once the old partition is drained.
        logger.warn("kafka topics grown: events of a key may be processed out of order while the old partitions drain", { grown: result.grown });
    }
    for (const s of specs) if (counts[s.topic] !== undefined && counts[s.topic] > s.partitions) result.larger[s.topic] = counts[s.topic];
    return result;
}
