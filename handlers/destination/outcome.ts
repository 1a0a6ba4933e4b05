/**
 * What a destination's answer means for the message:
 *
 * - 2xx: delivered.
 * - 408 (Request Timeout), 429 (Too Many Requests), 5xx, a timeout, a
 *   connection error: retryable; `Retry-After` (seconds or an HTTP date,
 *   RFC 9110 section 10.2.3) says the earliest next attempt.
 * - 410 (Gone) and every other 4xx: permanent; the message goes to the lane's
 *   DLQ at once with the status and an excerpt of the answer, no retries.
 * - 3xx: permanent too. Redirects are never followed (a destination that
 *   moved is a configuration to fix, and following one could send a signed
 *   event somewhere else).
 */
import { DestinationDefaults } from "../../model/delivery";

export type DeliveryOutcome = "delivered" | "permanent" | "retryable";

/*
 * The two failures are plain Errors made by factories and told apart by `name`, not classes: a class that
 * extends Error does not survive Pulumi's function serialization (the uploaded constructor's instances are
 * not `instanceof Error`, and Powertools idempotency then rethrows them as IdempotencyUnknownError).
 */

/** A delivery failed in a way that a later attempt may fix. */
export interface DeliveryRetryableError extends Error {
    readonly name: "DeliveryRetryableError";
    /** HTTP status, undefined for a timeout or a connection error. */
    readonly status?: number;
    /** The destination's Retry-After, in seconds from now. */
    readonly retryAfterSeconds?: number;
}

/** A delivery failed in a way no retry fixes (4xx other than 408 and 429, 3xx): dead-letter at once. */
export interface DeliveryPermanentError extends Error {
    readonly name: "DeliveryPermanentError";
    readonly status: number;
    /** The first characters of the answer's body. */
    readonly excerpt: string;
}

export function retryableError(message: string, status?: number, retryAfterSeconds?: number): DeliveryRetryableError {
    return Object.assign(new Error(message), { name: "DeliveryRetryableError" as const, status, retryAfterSeconds });
}

export function permanentError(message: string, status: number, excerpt: string): DeliveryPermanentError {
    return Object.assign(new Error(message), { name: "DeliveryPermanentError" as const, status, excerpt });
}

/** The error, or the error it wraps (`cause`), when it is a DeliveryPermanentError. */
export function asPermanent(err: unknown): DeliveryPermanentError | undefined {
    return findError(err, "DeliveryPermanentError") as DeliveryPermanentError | undefined;
}

export function asRetryable(err: unknown): DeliveryRetryableError | undefined {
    return findError(err, "DeliveryRetryableError") as DeliveryRetryableError | undefined;
}

function findError(err: unknown, name: string): Error | undefined {
    for (let e = err as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
        if (e.name === name) return e as Error;
    }
    return undefined;
}

/** The outcome of an HTTP status. */
export function outcomeOf(status: number): DeliveryOutcome {
    if (status >= 200 && status < 300) return "delivered";
    if (status === 408 || status === 429 || status >= 500) return "retryable";
    return "permanent";
}

/** `Retry-After` as seconds from `now` (ms): delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
    if (!value) return undefined;
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text);
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Read at most `chars` characters of a body, then stop reading (a huge error page is not downloaded). */
export async function readExcerpt(body: ReadableStream<Uint8Array> | null, chars: number = DestinationDefaults.excerptChars): Promise<string> {
    if (!body) return "";
    const reader = body.getReader();
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
        while (bytes < chars * 4) {
            const { done, value } = await reader.read();
            if (done) break;
            chunks.push(Buffer.from(value));
            bytes += value.length;
        }
    } catch {
        // a body cut short: keep what arrived
    } finally {
        reader.cancel().catch(() => undefined);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    return text.length > chars ? `${text.slice(0, chars)}...` : text;
}
