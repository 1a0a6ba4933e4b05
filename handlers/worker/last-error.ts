/**
 * An event's last failed attempt, where `ops trace` and `ops dlq` find it: one
 * item per provider, lane and event id in the idempotency table, beside the
 * Powertools records, overwritten by each failed attempt and expiring by the
 * table's TTL attribute (`expiration`, epoch seconds).
 *
 *   id          webhook-pipeline#last-error#<provider>#<lane id>#<event id>
 *   errorClass  the error's name (`Error`, `DeliveryRetryableError`, ...)
 *   message     the error's message, secret-shaped tokens masked, at most 500 characters
 *   attempt     the delivery attempt that failed (1 on the first)
 *   at          when it failed (epoch ms)
 *
 * Never the request body: only what the error itself says, as the worker's log
 * line already does (a handler that puts the body in its error message puts
 * it in both). Recording is best effort: bounded in time, and a failure to
 * record never changes the message's outcome (the caller rethrows its error).
 */
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createHash } from "crypto";

/** `webhook-pipeline` (worker.ts IdempotencyKeyPrefix, asserted equal in a test) + `#last-error`. */
export const LastErrorKeyPrefix = "webhook-pipeline#last-error";

/** Characters of the error message kept. */
export const LastErrorMessageChars = 500;

/**
 * How long a last error is kept: 14 days, SQS's longest message retention, so
 * the error outlives any DLQ message it explains ("MessageRetentionPeriod ...
 * from 60 seconds (1 minute) to 1,209,600 seconds (14 days)", Amazon SQS API
 * Reference, SetQueueAttributes).
 */
export const LastErrorTtlSeconds = 14 * 24 * 3600;

/** Time a record may take before it is abandoned (the worker's own deadline matters more). */
export const LastErrorWriteTimeoutMs = 2_000;

/**
 * DynamoDB's partition key value is at most 2048 bytes ("The maximum length of
 * a partition key value is 2048 bytes", Amazon DynamoDB Developer Guide,
 * "Constraints in Amazon DynamoDB", Partition keys and sort keys): an event id
 * that would not fit is replaced by its SHA-256.
 */
const MaxKeyBytes = 2048;

export interface LastErrorFor {
    readonly provider: string;
    /** Lane id (`<provider>-<lane>`). */
    readonly lane: string;
    readonly eventId: string;
}

export interface LastError extends LastErrorFor {
    readonly errorClass: string;
    readonly message: string;
    readonly attempt: number;
    /** Epoch ms. */
    readonly at: number;
}

export function lastErrorKey(of: LastErrorFor): string {
    const key = `${LastErrorKeyPrefix}#${of.provider}#${of.lane}#${of.eventId}`;
    if (Buffer.byteLength(key) <= MaxKeyBytes) return key;
    return `${LastErrorKeyPrefix}#${of.provider}#${of.lane}#sha256:${createHash("sha256").update(of.eventId).digest("hex")}`;
}

/** Tokens that look like credentials, masked wherever an error message quotes them. */
const SecretShapes: readonly (readonly [RegExp, string])[] = [
    [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 ***"],
    [/\b(whsec|sk_live|sk_test|rk_live|rk_test|xox[abpr]|ghp|gho|github_pat)_[A-Za-z0-9_]+/g, "$1_***"],
    [/\b(authorization|x-api-key|api[-_]?key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, "$1$2***"],
    [/\bAKIA[0-9A-Z]{16}\b/g, "AKIA***"],
];

/** The class and message of a thrown value, secret-shaped tokens masked, the message cut to LastErrorMessageChars. */
export function describeError(err: unknown): { errorClass: string; message: string } {
    const e = typeof err === "object" && err !== null ? (err as { name?: unknown; message?: unknown; constructor?: { name?: unknown } }) : undefined;
    const errorClass = (typeof e?.name === "string" && e.name) || (typeof e?.constructor?.name === "string" && e.constructor.name) || typeof err;
    let message = typeof e?.message === "string" ? e.message : String(err);
    for (const [shape, mask] of SecretShapes) message = message.replace(shape, mask);
    if (message.length > LastErrorMessageChars) message = `${message.slice(0, LastErrorMessageChars - 1)}…`;
    return { errorClass: errorClass.slice(0, 100), message };
}

export interface RecordLastErrorOptions {
    readonly table: string;
    /** @default LastErrorTtlSeconds */
    readonly ttlSeconds?: number;
    /** @default LastErrorWriteTimeoutMs */
    readonly timeoutMs?: number;
    /** @default Date.now() */
    readonly now?: number;
}

/** Write the last error of `of`; resolves false (never rejects) when it could not be written. */
export async function recordLastError(dynamo: DynamoDBClient, of: LastErrorFor, err: unknown, attempt: number, options: RecordLastErrorOptions): Promise<boolean> {
    try {
        const at = options.now ?? Date.now();
        const { errorClass, message } = describeError(err);
        await dynamo.send(
            new PutItemCommand({
                TableName: options.table,
                Item: {
                    id: { S: lastErrorKey(of) },
                    provider: { S: of.provider },
                    lane: { S: of.lane },
                    eventId: { S: of.eventId.slice(0, 1024) },
                    errorClass: { S: errorClass },
                    message: { S: message || "(no message)" },
                    attempt: { N: String(Math.max(1, Math.floor(attempt) || 1)) },
                    at: { N: String(at) },
                    expiration: { N: String(Math.floor(at / 1000) + (options.ttlSeconds ?? LastErrorTtlSeconds)) },
                },
            }),
            { abortSignal: AbortSignal.timeout(options.timeoutMs ?? LastErrorWriteTimeoutMs) },
        );
        return true;
    } catch {
        return false;
    }
}

/** The last error recorded for `of`, or undefined (none, or expired and not yet removed by the TTL). */
export async function readLastError(dynamo: DynamoDBClient, table: string, of: LastErrorFor, now = Date.now()): Promise<LastError | undefined> {
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: lastErrorKey(of) } }, ConsistentRead: true }));
    if (!Item) return undefined;
    // DynamoDB's TTL removes expired items eventually, not at once.
    if (Number(Item.expiration?.N) * 1000 < now) return undefined;
    return {
        provider: Item.provider?.S ?? of.provider,
        lane: Item.lane?.S ?? of.lane,
        eventId: of.eventId,
        errorClass: Item.errorClass?.S ?? "Error",
        message: Item.message?.S ?? "",
        attempt: Number(Item.attempt?.N ?? 0),
        at: Number(Item.at?.N ?? 0),
    };
}
