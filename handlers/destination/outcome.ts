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

/** A delivery failed in a way that a later attempt may fix. */
export class DeliveryRetryableError extends Error {
    public readonly name = "DeliveryRetryableError";
    constructor(
        message: string,
        /** HTTP status, undefined for a timeout or a connection error. */
        public readonly status?: number,
        /** The destination's Retry-After, in seconds from now. */
        public readonly retryAfterSeconds?: number,
    ) {
        super(message);
    }
}

/** A delivery failed in a way no retry fixes (4xx other than 408 and 429, 3xx): dead-letter at once. */
export class DeliveryPermanentError extends Error {
    public readonly name = "DeliveryPermanentError";
    constructor(
        message: string,
        public readonly status: number,
        /** The first characters of the answer's body. */
        public readonly excerpt: string,
    ) {
        super(message);
    }
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
