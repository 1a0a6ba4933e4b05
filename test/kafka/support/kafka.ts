/**
 * What the Kafka tests share: the runner's broker as a KafkaRuntime, unique
 * names, an idempotency table of their own in moto, lane messages, and a
 * handler that records what it was called with and how many calls ran at once.
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { randomUUID } from "crypto";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import type { WebhookEvent, WebhookHandler } from "../../../handlers/app/types";
import { createLaneProcessor } from "../../../handlers/worker/worker";
import type { LaneProcess } from "../../../handlers/kafka/consumer";
import { LaneMessage, LaneMessageVersion } from "../../../model/lane-message";
import type { KafkaRuntime } from "../../../model/runtime-config";
import { kafkaAvailable, services } from "../../support/services";

/** Skip a suite only when the runner did not start Kafka (WEBHOOK_PIPELINE_SKIP_KAFKA=1). */
export function requireKafka(context: Mocha.Context): void {
    if (!kafkaAvailable()) {
        if (process.env.WEBHOOK_PIPELINE_SKIP_KAFKA === "1") context.skip();
        throw new Error("KAFKA_BROKERS is not set but WEBHOOK_PIPELINE_SKIP_KAFKA is not 1: run the tests through the runner (npm test)");
    }
}

export function kafkaRuntime(): KafkaRuntime {
    return { brokers: services.kafkaBrokers, ssl: false, replicationFactor: 1 };
}

export function unique(prefix: string): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function kafkaClient(): Kafka {
    return new Kafka({ clientId: "kafka-tests", brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Create topics (a test's own, with the partitions it needs). */
export async function createTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
        await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })), waitForLeaders: true });
    } finally {
        await admin.disconnect();
    }
}

/** Produce keyed messages in one call per topic (acks=all). */
export async function produce(topic: string, messages: { key: string; value: string; timestamp?: number }[]): Promise<void> {
    const producer = kafkaClient().producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
        await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp) })) });
    } finally {
        await producer.disconnect();
    }
}

/** Read every message of a topic from the beginning (until `count` arrived). */
export interface ReadMessage {
    readonly key: string;
    readonly value: string;
    readonly partition: number;
    readonly offset: string;
    readonly timestamp: string;
    readonly headers: Record<string, string>;
}

export async function readAll(topic: string, count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
    const consumer = kafkaClient().consumer({ groupId: unique("reader"), maxWaitTimeInMs: 100 });
    const out: ReadMessage[] = [];
    await consumer.connect();
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`read ${out.length} of ${count} messages from ${topic} within ${timeoutMs} ms`)), timeoutMs);
            if (count === 0) {
                clearTimeout(timer);
                resolve();
            }
            consumer
                .run({
                    eachMessage: async ({ message, partition }) => {
                        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
                        out.push({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "", partition, offset: message.offset, timestamp: message.timestamp, headers });
                        if (out.length >= count) {
                            clearTimeout(timer);
                            resolve();
                        }
                    },
                })
                .catch(reject);
        });
    } finally {
        await consumer.disconnect();
    }
    return out;
}

/** Committed offsets of a group, summed over the topic's partitions (-1 counts as 0). */
export async function committedCount(groupId: string, topic: string): Promise<number> {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return offsets.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    } finally {
        await admin.disconnect();
    }
}

/** The end offset of each non-empty partition: "caught up" means every partition reached it. */
export async function endOffsets(topic: string): Promise<{ partition: number; offset: string }[]> {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
        return (await admin.fetchTopicOffsets(topic)).filter((p) => p.high !== "0").map((p) => ({ partition: p.partition, offset: p.high }));
    } finally {
        await admin.disconnect();
    }
}

/** A DynamoDB idempotency table of the test's own in moto. */
export async function createIdempotencyTable(dynamo = new DynamoDBClient({})): Promise<string> {
    const TableName = unique("kafka-idempotency");
    await dynamo.send(
        new CreateTableCommand({ TableName, BillingMode: "PAY_PER_REQUEST", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }] }),
    );
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 20, minDelay: 1 }, { TableName });
    return TableName;
}

/** A lane message as the router writes it (inline UTF-8 body). */
export function laneMessage(fields: { provider?: string; lane?: string; eventId: string; orderingKey?: string; body?: string; eventType?: string }): string {
    const message: LaneMessage = {
        v: LaneMessageVersion,
        provider: fields.provider ?? "acme",
        lane: fields.lane ?? "acme-default",
        requestId: `req-${fields.eventId}`,
        eventId: fields.eventId,
        eventType: fields.eventType ?? "order.updated",
        orderingKey: fields.orderingKey,
        receivedAt: Date.now(),
        archiveKey: `raw/acme/${fields.eventId}.ndjson.gz#0`,
        body: fields.body ?? JSON.stringify({ id: fields.eventId }),
    };
    return JSON.stringify(message);
}

/** Records handler calls: order per ordering key, calls per event, and the most calls running at once. */
export class CallRecorder {
    public calls: WebhookEvent[] = [];
    public inFlight = 0;
    public peak = 0;
    /** When the first call started (throughput without the group join). */
    public firstCallAt?: number;

    /**
     * A handler that waits `delayMs` (so calls overlap) and throws for events `fail` picks. With `meet`, calls
     * also wait (up to `withinMs` from the first call) until `count` of them have been in flight at once: a
     * consumer that can run `count` calls at once then shows it whatever the scheduling, and one that cannot
     * stays below (the peak is a count, not a timing).
     */
    handler(delayMs = 0, fail: (event: WebhookEvent) => boolean = () => false, meet?: { readonly count: number; readonly withinMs: number }): WebhookHandler {
        return async (event) => {
            this.firstCallAt ??= Date.now();
            this.inFlight += 1;
            this.peak = Math.max(this.peak, this.inFlight);
            try {
                while (meet && this.peak < meet.count && Date.now() - this.firstCallAt < meet.withinMs) await new Promise((r) => setTimeout(r, 5));
                if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
                if (fail(event)) throw new Error(`poison event ${event.eventId}`);
                this.calls.push(event);
            } finally {
                this.inFlight -= 1;
            }
        };
    }

    /** Ordering key -> event ids in the order the handler finished them. */
    orderByKey(): Record<string, string[]> {
        const out: Record<string, string[]> = {};
        for (const e of this.calls) (out[e.orderingKey ?? ""] ??= []).push(e.eventId);
        return out;
    }
}

/** The lane processor the workers use, on the test's table (AWS_ENDPOINT_URL is moto). */
export function processorFor(table: string, handler: WebhookHandler, lane = "acme-default"): LaneProcess {
    return createLaneProcessor({
        config: { lane, provider: "acme", bucket: "unused", idempotencyTable: table, idempotencyTtlSeconds: 3600 },
        handler,
        s3: new S3Client({ forcePathStyle: true }),
        dynamo: new DynamoDBClient({}),
    });
}

/** Wait for `promise`, or fail after `ms` with what was awaited and the state `detail` describes. */
export async function within<T>(promise: Promise<T>, ms: number, what: string, detail: () => unknown = () => undefined): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms; state: ${JSON.stringify(detail())}`)), ms)));
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
