/**
 * Sending lane messages: SQS lanes in `SendMessageBatch` calls (10 entries and
 * 1 MiB at most per call; FIFO lanes with group id = ordering key and
 * deduplication id = a hash of the lane and event id), Kafka lanes through a
 * publisher (keyed by the ordering key). Each outcome is per message, so a
 * partial failure fails exactly the records whose messages were not taken.
 *
 * On a FIFO lane, once a message of a group was not taken, the later messages
 * of that group in the same call are withheld (and fail too): they are
 * redelivered with it, so a retry cannot land an earlier event behind a later one.
 */
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createHash } from "crypto";
import { Limits } from "../../model/constants";
import type { LaneRuntime } from "../../model/runtime-config";

export interface OutboundMessage {
    /** The catch-all record this message came from. */
    readonly recordId: string;
    readonly lane: LaneRuntime;
    readonly body: string;
    readonly eventId: string;
    readonly orderingKey?: string;
    readonly provider: string;
}

/** Publishes to Kafka topics; resolves only once the broker acknowledged every message (acks=all). */
export interface KafkaPublisher {
    publish(topic: string, messages: readonly { key: string; value: string }[]): Promise<void>;
}

/** SendMessageBatch: at most 10 entries and 1 MiB of payload (bodies + attributes) per call. */
export const SqsBatch = { maxEntries: 10, maxBytes: Limits.sqsMaxMessageBytes } as const;

const groupIdPattern = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** FIFO message group: the ordering key when it is a legal group id, its hash otherwise; the provider when there is none (one order for the lane). */
export function messageGroupId(orderingKey: string | undefined, provider: string): string {
    const key = orderingKey ?? provider;
    return groupIdPattern.test(key) ? key : createHash("sha256").update(key).digest("hex");
}

/** FIFO deduplication id: stable per lane and provider event id (SQS drops a resend within 5 minutes). */
export function deduplicationId(laneId: string, eventId: string): string {
    return createHash("sha256").update(`${laneId}\n${eventId}`).digest("hex");
}

/** Split into SendMessageBatch-sized chunks by count and bytes. */
export function chunkForSqs<T extends { body: string }>(messages: readonly T[]): T[][] {
    const chunks: T[][] = [];
    let current: T[] = [];
    let bytes = 0;
    for (const m of messages) {
        const size = Buffer.byteLength(m.body) + 256; // ids and group ids
        if (current.length && (current.length === SqsBatch.maxEntries || bytes + size > SqsBatch.maxBytes)) {
            chunks.push(current);
            current = [];
            bytes = 0;
        }
        current.push(m);
        bytes += size;
    }
    if (current.length) chunks.push(current);
    return chunks;
}

/** The SendMessageBatch entries for one chunk of a lane's messages (FIFO lanes: group and deduplication ids). */
export function sqsBatchEntries(lane: LaneRuntime, messages: readonly Pick<OutboundMessage, "body" | "eventId" | "orderingKey" | "provider">[]) {
    return messages.map((m, i) => ({
        Id: String(i),
        MessageBody: m.body,
        ...(lane.ordering ? { MessageGroupId: messageGroupId(m.orderingKey, m.provider), MessageDeduplicationId: deduplicationId(lane.id, m.eventId) } : {}),
    }));
}

export interface SendOutcome {
    /** Record ids whose message was not taken, with why. */
    readonly failed: Map<string, string>;
    /** API calls made. */
    readonly calls: number;
}

/**
 * Send to one SQS lane; never throws: failures are reported per record.
 * A standard lane's calls run concurrently (its order is not kept anyway);
 * a FIFO lane's run one after another, so each group's order holds.
 */
export async function sendToSqsLane(sqs: SQSClient, lane: LaneRuntime, messages: readonly OutboundMessage[]): Promise<SendOutcome> {
    const failed = new Map<string, string>();
    if (!lane.queueUrl) {
        for (const m of messages) failed.set(m.recordId, `lane ${lane.id} has no queue URL`);
        return { failed, calls: 0 };
    }
    const queueUrl = lane.queueUrl;
    const groupOf = (m: OutboundMessage) => messageGroupId(m.orderingKey, m.provider);
    // FIFO groups with a message that was not taken (a local Set: created per call, never at module level).
    const blocked = new Set<string>();
    const fail = (m: OutboundMessage, why: string) => {
        failed.set(m.recordId, why);
        if (lane.ordering) blocked.add(groupOf(m));
    };
    const send = async (entries: readonly OutboundMessage[]) => {
        try {
            const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: sqsBatchEntries(lane, entries) }));
            for (const f of out.Failed ?? []) {
                const m = entries[Number(f.Id)];
                if (m) fail(m, `${f.Code}: ${f.Message ?? ""}`);
            }
        } catch (err) {
            for (const m of entries) fail(m, `${(err as Error).name}: ${(err as Error).message}`);
        }
    };
    const chunks = chunkForSqs(messages);
    if (!lane.ordering) {
        await Promise.all(chunks.map(send));
        return { failed, calls: chunks.length };
    }
    let calls = 0;
    for (const chunk of chunks) {
        const entries = chunk.filter((m) => !blocked.has(groupOf(m)));
        for (const m of chunk) if (!entries.includes(m)) failed.set(m.recordId, `withheld: an earlier message of FIFO group ${groupOf(m)} was not taken`);
        if (entries.length === 0) continue;
        calls += 1;
        await send(entries);
    }
    return { failed, calls };
}

/** Send to one Kafka lane: one produce call for the lane's messages, all or nothing. */
export async function sendToKafkaLane(publisher: KafkaPublisher | undefined, lane: LaneRuntime, messages: readonly OutboundMessage[]): Promise<SendOutcome> {
    const failed = new Map<string, string>();
    if (!publisher || !lane.topic) {
        for (const m of messages) failed.set(m.recordId, `lane ${lane.id} is a Kafka lane but the router has no Kafka producer (set webhook-pipeline:kafka)`);
        return { failed, calls: 0 };
    }
    try {
        await publisher.publish(lane.topic, messages.map((m) => ({ key: m.orderingKey ?? m.eventId, value: m.body })));
    } catch (err) {
        for (const m of messages) failed.set(m.recordId, `${(err as Error).name}: ${(err as Error).message}`);
    }
    return { failed, calls: 1 };
}
