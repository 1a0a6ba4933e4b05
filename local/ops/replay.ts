/**
 * `replay`: re-inject archived requests of one provider and time range into
 * the catch-all queue, byte for byte, so they go through the router again.
 *
 * The archive is partitioned by provider and hour (handlers/router/archive.ts):
 * only the hours that overlap the range are listed, then each record is kept
 * when its `receivedAt` lies in [from, to]. Each request is sent as the
 * envelope the edge produced, plus the replay marker (the archive pointer
 * `key#line`): the router verifies the signature again but skips the
 * timestamp tolerance and does not archive it a second time, and the
 * worker's idempotency skips events that were already processed.
 *
 * `force` marks the replay (EnvelopeAttribute.ReplayForce, this run's id) so
 * the worker runs the handler again, once per run.
 *
 * Each message is sealed with the pipeline-internal key (model/seal.ts): the
 * router honours the replay and force markers only under that seal, so a
 * sender who smuggles `wp-replay` into the direct integration gets nowhere.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { createHash, randomUUID } from "crypto";
import { archivedBody, archivePointer, ArchiveRecord, decodeArchive, partitionPrefix } from "../../handlers/router/archive";
import { chunkForSqs } from "../../handlers/router/lanes";
import { ArchivePrefix, Limits } from "../../model/constants";
import { encodeEnvelope, EnvelopeMessage } from "../../model/envelope";
import type { Progress } from "./progress";
import { OpsTarget, sealKeyOf } from "./target";

/** Bodies whose envelope would not fit one SQS message travel by claim check, as the ingress function sends them. */
const inlineLimit = Limits.sqsMaxMessageBytes - 16 * 1024;

const HourMs = 3600_000;

export interface ReplayOptions {
    readonly provider: string;
    /** Epoch ms, inclusive. */
    readonly from: number;
    /** Epoch ms, inclusive. */
    readonly to: number;
    /** List what would be replayed; send nothing. @default false */
    readonly dryRun?: boolean;
    /** Run the handler even for events processed before. @default false */
    readonly force?: boolean;
    readonly progress?: Progress;
}

export interface ReplayedRequest {
    /** `<archive key>#<line>` */
    readonly pointer: string;
    readonly requestId: string;
    readonly receivedAt: string;
    readonly eventId?: string;
    readonly eventType?: string;
    readonly bytes: number;
    /** SHA-256 (hex) of the exact body bytes. */
    readonly sha256: string;
    /** Set when sending it failed. */
    readonly error?: string;
}

export interface ReplaySummary {
    readonly provider: string;
    readonly from: string;
    readonly to: string;
    readonly dryRun: boolean;
    readonly force: boolean;
    /** Archive objects read. */
    readonly objects: number;
    /** Archived requests received in the range. */
    readonly found: number;
    /** Re-injected into the catch-all queue. */
    readonly replayed: number;
    /** Found but not sent (dry run). */
    readonly skipped: number;
    /** Sending failed (see the requests' `error`). */
    readonly failed: number;
    /** Marks this run's forced messages. */
    readonly replayId?: string;
    readonly requests: readonly ReplayedRequest[];
}

/** The `raw/` partition prefixes (one per hour) that overlap [from, to]. */
export function hourPrefixes(provider: string, from: number, to: number): string[] {
    const prefixes: string[] = [];
    for (let t = Math.floor(from / HourMs) * HourMs; t <= to; t += HourMs) prefixes.push(partitionPrefix(ArchivePrefix.Raw, provider, t));
    return prefixes;
}

async function listKeys(target: OpsTarget, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const out = await target.s3.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(out.Contents ?? []).map((o) => o.Key!));
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
}

interface Found {
    readonly pointer: string;
    readonly record: ArchiveRecord;
    readonly body: Buffer;
}

/** Archived requests of `provider` received in [from, to], oldest first, and how many objects were read. */
export async function findArchived(target: OpsTarget, provider: string, from: number, to: number): Promise<{ objects: number; found: Found[] }> {
    const keys = (await Promise.all(hourPrefixes(provider, from, to).map((p) => listKeys(target, p)))).flat();
    const found: Found[] = [];
    for (const key of keys) {
        const out = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
        const records = decodeArchive(Buffer.from(await out.Body!.transformToByteArray()));
        records.forEach((record, line) => {
            if (record.receivedAt >= from && record.receivedAt <= to) found.push({ pointer: archivePointer(key, line), record, body: archivedBody(record) });
        });
    }
    found.sort((a, b) => a.record.receivedAt - b.record.receivedAt || a.pointer.localeCompare(b.pointer));
    return { objects: keys.length, found };
}

/** The catch-all message for an archived request, marked as a replay of `pointer`. */
async function replayMessage(target: OpsTarget, item: Found, replayId: string | undefined, sealKey: string): Promise<EnvelopeMessage> {
    const { record, body, pointer } = item;
    // The archive holds exactly the declared headers the request carried.
    const declared = Object.keys(record.headers);
    const base = { provider: record.provider, requestId: record.requestId, receivedAt: record.receivedAt, sourceIp: record.sourceIp, url: record.url, headers: record.headers, replayOf: pointer, replayForce: replayId };
    let message = encodeEnvelope({ ...base, body }, declared, { sealKey });
    if (Buffer.byteLength(message.MessageBody) > inlineLimit) {
        // The router follows claim checks only under claims/ingress/ (what its role may read).
        const key = `${ArchivePrefix.Claims}/ingress/replay/${createHash("sha256").update(body).digest("hex")}`;
        await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
        message = encodeEnvelope({ ...base, body: Buffer.from(JSON.stringify({ bucket: target.bucket, key })), encoding: "s3" }, declared, { sealKey });
    }
    return message;
}

export async function replay(target: OpsTarget, options: ReplayOptions): Promise<ReplaySummary> {
    if (!target.providers.includes(options.provider)) throw new Error(`unknown provider "${options.provider}" (configured: ${target.providers.join(", ")})`);
    if (!(options.from <= options.to)) throw new Error(`--from (${new Date(options.from).toISOString()}) must not be after --to (${new Date(options.to).toISOString()})`);
    const { objects, found } = await findArchived(target, options.provider, options.from, options.to);
    const replayId = options.force ? randomUUID() : undefined;
    const errors = new Map<string, string>();
    let replayed = 0;
    if (!options.dryRun) {
        const sealKey = await sealKeyOf(target);
        const messages = await Promise.all(found.map(async (item) => ({ item, message: await replayMessage(target, item, replayId, sealKey) })));
        const chunks = chunkForSqs(messages.map((m) => ({ ...m, body: m.message.MessageBody })));
        options.progress?.update(0, found.length);
        for (const chunk of chunks) {
            try {
                const out = await target.sqs.send(
                    new SendMessageBatchCommand({ QueueUrl: target.catchAll.queueUrl, Entries: chunk.map((m, i) => ({ Id: String(i), MessageBody: m.message.MessageBody, MessageAttributes: m.message.MessageAttributes })) }),
                );
                for (const f of out.Failed ?? []) errors.set(chunk[Number(f.Id)].item.pointer, `${f.Code}: ${f.Message ?? ""}`);
                replayed += chunk.length - (out.Failed?.length ?? 0);
            } catch (err) {
                for (const m of chunk) errors.set(m.item.pointer, `${(err as Error).name}: ${(err as Error).message}`);
            }
            options.progress?.update(replayed + errors.size, found.length, errors.size ? `(${errors.size} failed)` : "");
        }
        options.progress?.finish();
    }
    return {
        provider: options.provider,
        from: new Date(options.from).toISOString(),
        to: new Date(options.to).toISOString(),
        dryRun: options.dryRun === true,
        force: options.force === true,
        objects,
        found: found.length,
        replayed,
        skipped: options.dryRun ? found.length : 0,
        failed: errors.size,
        replayId,
        requests: found.map(({ pointer, record, body }) => ({
            pointer,
            requestId: record.requestId,
            receivedAt: new Date(record.receivedAt).toISOString(),
            eventId: record.eventId,
            eventType: record.eventType,
            bytes: body.length,
            sha256: createHash("sha256").update(body).digest("hex"),
            error: errors.get(pointer),
        })),
    };
}
