/**
 * What the drill reads at the end, from the durable records rather than the
 * pipeline's counters: the handler journal (every handler call that ended),
 * the archive in S3 (raw/ and quarantine/, every line), and the messages in
 * every DLQ (the catch-all's and each lane's).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ArchiveRecord, decodeArchive } from "../handlers/router/archive";
import { JournalLine, readJournal } from "../local/handler-journal";
import type { LocalState } from "../local/state";
import { ArchivePrefix } from "../model/constants";
import { decodeEnvelope, envelopeError } from "../model/envelope";
import { parseLaneMessage } from "../model/lane-message";
import type { ProviderPlugin } from "../providers/types";

/** `provider#eventId`: the idempotency key without the prefix. */
export const eventKey = (provider: string, eventId: string) => `${provider}#${eventId}`;

export interface ArchivedRequest extends ArchiveRecord {
    readonly kind: "raw" | "quarantine";
    readonly key: string;
}

export interface Evidence {
    readonly journal: readonly JournalLine[];
    /** Completed handler calls per event key. */
    readonly completions: ReadonlyMap<string, readonly JournalLine[]>;
    /** Archive lines by request id (a request archived twice has two). */
    readonly archive: ReadonlyMap<string, readonly ArchivedRequest[]>;
    readonly archiveObjects: number;
    /** Event keys of the messages in a DLQ, with the queue; a key found twice is listed twice. */
    readonly dlq: readonly { readonly key: string; readonly queue: string; readonly requestId?: string }[];
    /** DLQ messages the drill could not read an event id from. */
    readonly dlqUnreadable: number;
}

export function completionsOf(journal: readonly JournalLine[]): Map<string, JournalLine[]> {
    const out = new Map<string, JournalLine[]>();
    for (const line of journal) {
        if (!line.ok) continue;
        const key = eventKey(line.provider, line.eventId);
        const list = out.get(key) ?? [];
        list.push(line);
        out.set(key, list);
    }
    return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            while (next < items.length) {
                const i = next++;
                out[i] = await fn(items[i]);
            }
        }),
    );
    return out;
}

/** Every archive line under raw/ and quarantine/, by request id. */
export async function readArchive(s3: S3Client, bucket: string): Promise<{ byRequest: Map<string, ArchivedRequest[]>; objects: number }> {
    const keys: { key: string; kind: ArchivedRequest["kind"] }[] = [];
    for (const [prefix, kind] of [
        [ArchivePrefix.Raw, "raw"],
        [ArchivePrefix.Quarantine, "quarantine"],
    ] as const) {
        let token: string | undefined;
        do {
            const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
            for (const o of page.Contents ?? []) keys.push({ key: o.Key!, kind });
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
    }
    const byRequest = new Map<string, ArchivedRequest[]>();
    const objects = await mapLimit(keys, 8, async ({ key, kind }) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { key, kind, records: decodeArchive(Buffer.from(await out.Body!.transformToByteArray())) };
    });
    for (const { key, kind, records } of objects) {
        for (const r of records) {
            const list = byRequest.get(r.requestId) ?? [];
            list.push({ ...r, kind, key });
            byRequest.set(r.requestId, list);
        }
    }
    return { byRequest, objects: keys.length };
}

/**
 * Take every message out of a DLQ (FIFO queues hand out a message group's
 * next message only once the one before it is gone, so reading them means
 * deleting them). Run this last.
 */
async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<{ body: string; attributes: Record<string, { DataType?: string; StringValue?: string }> }[]> {
    const out: { body: string; attributes: Record<string, { DataType?: string; StringValue?: string }> }[] = [];
    let empty = 0;
    while (empty < 3) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 120, MessageAttributeNames: ["All"] }));
        if (Messages.length === 0) {
            empty += 1;
            continue;
        }
        empty = 0;
        for (const m of Messages) out.push({ body: m.Body ?? "", attributes: (m.MessageAttributes ?? {}) as Record<string, { DataType?: string; StringValue?: string }> });
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    return out;
}

/** The event keys in every DLQ of the pipeline: lane DLQs hold lane messages, the catch-all DLQ envelopes. */
export async function readDlqs(sqs: SQSClient, state: LocalState, plugins: Readonly<Record<string, ProviderPlugin>>): Promise<{ entries: Evidence["dlq"]; unreadable: number }> {
    const entries: { key: string; queue: string; requestId?: string }[] = [];
    let unreadable = 0;
    for (const lane of state.lanes) {
        if (!lane.dlq) continue;
        for (const m of await drainQueue(sqs, lane.dlq.url)) {
            try {
                const message = parseLaneMessage(m.body);
                entries.push({ key: eventKey(message.provider, message.eventId), queue: lane.dlq.name, requestId: message.requestId });
            } catch {
                unreadable += 1;
            }
        }
    }
    for (const m of await drainQueue(sqs, state.catchAll.dlq.url)) {
        try {
            const envelope = decodeEnvelope(m.body, m.attributes as Parameters<typeof decodeEnvelope>[1]);
            const plugin = plugins[envelope.provider];
            if (!plugin) throw envelopeError(`unknown provider ${envelope.provider}`);
            const { eventId } = plugin.facts({ headers: envelope.headers, body: envelope.body, url: envelope.url ?? "" });
            entries.push({ key: eventKey(envelope.provider, eventId), queue: state.catchAll.dlq.name, requestId: envelope.requestId });
        } catch {
            unreadable += 1;
        }
    }
    return { entries, unreadable };
}

export async function gatherEvidence(clients: { sqs: SQSClient; s3: S3Client }, state: LocalState, journalFile: string, plugins: Readonly<Record<string, ProviderPlugin>>): Promise<Evidence> {
    const journal = readJournal(journalFile);
    const [{ byRequest, objects }, dlq] = await Promise.all([readArchive(clients.s3, state.bucket), readDlqs(clients.sqs, state, plugins)]);
    return { journal, completions: completionsOf(journal), archive: byRequest, archiveObjects: objects, dlq: dlq.entries, dlqUnreadable: dlq.unreadable };
}
