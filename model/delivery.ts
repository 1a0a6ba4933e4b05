/**
 * Delivery to a destination (your existing HTTP service): the headers every
 * forwarded request carries, the headers config may not set, the retry
 * schedule and its bounds. Pure: config validation (model/config.ts) and the
 * runtime (handlers/destination/) read the same names.
 */

/**
 * Headers that identify the event on every forwarded request. The receiver
 * can log them, route on them, and deduplicate on `webhook-id` (Standard
 * Webhooks) or on provider + event id.
 */
export const DeliveryHeader = {
    /** The provider's own event id (the pipeline's idempotency key with the provider). */
    EventId: "webhook-pipeline-event-id",
    /** The event type the provider's plugin read (`invoice.paid`, `push`, ...); `unknown` when it has none. */
    EventType: "webhook-pipeline-event-type",
    /** Provider name as in config (`stripe`). */
    Provider: "webhook-pipeline-provider",
    /** Lane id `<provider>-<lane>`. */
    Lane: "webhook-pipeline-lane",
    /** Delivery attempt, 1 on the first (SQS: ApproximateReceiveCount; Kafka: the runner's attempt). */
    Attempt: "webhook-pipeline-attempt",
    /** When the pipeline's edge received the request, RFC 3339 UTC (`2026-12-01T08:00:00.000Z`). */
    ReceivedAt: "webhook-pipeline-received-at",
    /** The pipeline's request id of the original request (API Gateway request id): find it in the archive. */
    RequestId: "webhook-pipeline-request-id",
    /** Present (value `true`) when the event was re-injected by `ops replay`. */
    Replay: "webhook-pipeline-replay",
} as const;

/** Standard Webhooks signature headers, set when the destination has a `signingSecret`. */
export const SignatureHeader = {
    Id: "webhook-id",
    Timestamp: "webhook-timestamp",
    Signature: "webhook-signature",
} as const;

/** The body's type when the original request had no Content-Type header. */
export const DefaultContentType = "application/octet-stream";

/**
 * Headers `destination.headers` may not set: the ones the pipeline sets
 * itself, and hop-by-hop headers, which belong to one connection and are not
 * forwarded (RFC 9110 section 7.6.1 "Connection": Connection, Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding, Upgrade; plus Trailer, Proxy-Authenticate,
 * Proxy-Authorization, Expect and Host, which the HTTP client owns).
 */
export const ReservedDestinationHeaders: readonly string[] = [
    "content-type",
    "content-length",
    "content-encoding",
    "host",
    SignatureHeader.Id,
    SignatureHeader.Timestamp,
    SignatureHeader.Signature,
    ...Object.values(DeliveryHeader),
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "expect",
];

/** Every header name that starts with this is the pipeline's. */
export const DeliveryHeaderPrefix = "webhook-pipeline-";

export type Backoff = "exponential" | "fixed";

/** When a failed message is delivered again: attempt n waits `initialSeconds * 2^(n-1)` (exponential) or `initialSeconds` (fixed), at most `maxSeconds`. */
export interface RetrySchedule {
    readonly backoff: Backoff;
    readonly initialSeconds: number;
    readonly maxSeconds: number;
}

export const DestinationDefaults = {
    method: "POST",
    timeoutSeconds: 10,
    /** Retry schedule maximum when `retry.maxSeconds` is not set: 15 minutes. */
    retryMaxSeconds: 900,
    /** A jittered delay is between (1 - retryJitter) and 1 times the nominal delay: never above maxSeconds, and retries of a burst spread out. */
    retryJitter: 0.2,
    /** Characters of a destination's answer kept with a permanent failure (DLQ message attribute, log). */
    excerptChars: 256,
} as const;

/**
 * Which backend may deliver to a URL: https anywhere; plain http only to a
 * loopback address, which only the local pipeline (`npm start`) can reach.
 */
export type DestinationBackend = "aws" | "local";

const loopbackHosts: readonly string[] = ["localhost", "127.0.0.1", "[::1]", "::1"];

export function isLoopbackHost(hostname: string): boolean {
    return loopbackHosts.includes(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname.toLowerCase().endsWith(".localhost");
}

/** The backends a destination URL is allowed on (empty: nowhere; validation explains why). */
export function backendsFor(url: URL): readonly DestinationBackend[] {
    if (url.protocol === "https:") return ["aws", "local"];
    if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return ["local"];
    return [];
}
