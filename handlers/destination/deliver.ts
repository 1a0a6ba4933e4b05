/**
 * Delivering one verified event to a lane's destination: the exact body bytes
 * with the original Content-Type, the headers that identify the event
 * (model/delivery.ts DeliveryHeader), the configured headers, the auth header
 * (its value read from Secrets Manager), and a Standard Webhooks signature
 * when the destination has signing secrets. Redirects are not followed; the
 * answer decides the outcome (outcome.ts), which `deliver` returns or throws
 * as a DeliveryRetryableError / DeliveryPermanentError.
 *
 * Secrets are read through the cached reader (handlers/shared/secrets.ts).
 * A 401 or 403 may mean the secret was rotated since it was cached: the
 * secrets are then re-read (at most once per SecretCache.refreshAfterMs) and,
 * if they changed, the attempt counts as retryable so the next one uses them.
 */
import { performance } from "perf_hooks";
import { DefaultContentType, DeliveryHeader, DestinationDefaults } from "../../model/delivery";
import type { WebhookEvent } from "../../model/lane-message";
import type { DestinationRuntime } from "../../model/runtime-config";
import type { HandlerContext, WebhookHandler } from "../app/types";
import { SecretCache, SecretReader } from "../shared/secrets";
import { outcomeOf, parseRetryAfter, permanentError, readExcerpt, retryableError } from "./outcome";
import type { Pacer } from "./pace";
import { signatureHeaders, webhookIdOf } from "./sign";

/** What one attempt did, for metrics and `/_status`. */
export interface DeliveryReport {
    readonly provider: string;
    readonly lane: string;
    /** The event delivered (its `webhook-pipeline-event-id` header). */
    readonly eventId: string;
    readonly outcome: "delivered" | "permanent" | "retryable";
    /** HTTP status; undefined for a timeout or a connection error. */
    readonly status?: number;
    /** Epoch ms when the request started. */
    readonly startedAt: number;
    /** Milliseconds from the request's start to the answer's headers. */
    readonly ms: number;
    /** performance.now() at the start: on a paced lane, the start time the pacer granted and recorded (pace.ts). */
    readonly startMark: number;
}

export interface DelivererDeps {
    readonly destination: DestinationRuntime;
    readonly secrets: SecretReader;
    /** Paces the starts (rate limit); the same pacer for every call of one worker. */
    readonly pacer?: () => Pacer | undefined;
    readonly now?: () => number;
    readonly onAttempt?: (report: DeliveryReport) => void;
}

/**
 * The event's key for its `webhook-id`: provider, event id and a `replay --force` run id, the idempotency
 * key's form before it became per lane (handlers/worker/worker.ts legacyIdempotencyKey). Deliberately
 * without the lane: the id stays what receivers saw before fan-out, and, as with Svix, one event sent to
 * several endpoints carries the same id at each.
 */
function keyOf(event: Pick<WebhookEvent, "provider" | "eventId" | "force">): string {
    return event.force ? `${event.provider}#${event.eventId}#force:${event.force}` : `${event.provider}#${event.eventId}`;
}

/** Every header of one attempt, secrets included. */
export function deliveryHeaders(event: WebhookEvent, attempt: number, destination: DestinationRuntime, secrets: { signing: readonly string[]; auth?: string }, nowMs: number): Record<string, string> {
    const headers: Record<string, string> = {
        ...destination.headers,
        "content-type": event.contentType ?? DefaultContentType,
        [DeliveryHeader.EventId]: event.eventId,
        [DeliveryHeader.EventType]: event.eventType,
        [DeliveryHeader.Provider]: event.provider,
        [DeliveryHeader.Lane]: event.lane,
        [DeliveryHeader.Attempt]: String(attempt),
        [DeliveryHeader.ReceivedAt]: new Date(event.receivedAt).toISOString(),
        [DeliveryHeader.RequestId]: event.requestId,
        ...(event.replay ? { [DeliveryHeader.Replay]: "true" } : {}),
        ...signatureHeaders(webhookIdOf(keyOf(event)), nowMs / 1000, event.body, secrets.signing),
    };
    if (destination.authHeader && secrets.auth !== undefined) headers[destination.authHeader.toLowerCase()] = secrets.auth;
    return headers;
}

/** Header values must be ISO-8859-1 without control characters; an event id or type that is not becomes percent-encoded. */
function safeHeaders(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k] = /^[\t\x20-\x7e\x80-\xff]*$/.test(v) ? v : encodeURIComponent(v);
    return out;
}

export type Deliver = (event: WebhookEvent, attempt: number) => Promise<DeliveryReport>;

export function createDeliverer(deps: DelivererDeps): Deliver {
    const { destination } = deps;
    const now = deps.now ?? Date.now;

    async function readSecrets(maxAgeMs?: number): Promise<{ signing: readonly string[]; auth?: string }> {
        const options = maxAgeMs === undefined ? undefined : { maxAgeMs };
        const [signing, auth] = await Promise.all([
            destination.signingSecretId ? deps.secrets(destination.signingSecretId, options) : Promise.resolve([] as readonly string[]),
            destination.authSecretId ? deps.secrets(destination.authSecretId, options) : Promise.resolve(undefined),
        ]);
        return { signing, auth: auth?.[0] };
    }

    return async function deliver(event, attempt) {
        const secrets = await readSecrets();
        if (destination.signingSecretId && secrets.signing.length === 0) throw retryableError(`destination signing secret ${destination.signingSecretId} has no value yet`);
        if (destination.authSecretId && secrets.auth === undefined) throw retryableError(`destination auth secret ${destination.authSecretId} has no value yet`);
        const paced = await deps.pacer?.()?.acquire();
        const startMark = paced?.at ?? performance.now();
        const started = now();
        const report = (outcome: DeliveryReport["outcome"], status?: number): DeliveryReport => {
            const r: DeliveryReport = { provider: event.provider, lane: event.lane, eventId: event.eventId, outcome, status, startedAt: started, ms: now() - started, startMark };
            deps.onAttempt?.(r);
            return r;
        };
        let res: Response;
        try {
            res = await fetch(destination.url, {
                method: destination.method,
                headers: safeHeaders(deliveryHeaders(event, attempt, destination, secrets, started)),
                body: event.body,
                redirect: "manual",
                signal: AbortSignal.timeout(destination.timeoutSeconds * 1000),
            });
        } catch (err) {
            paced?.answered();
            report("retryable");
            const e = err as Error & { cause?: { code?: string } };
            const what = e.name === "TimeoutError" ? `no answer within ${destination.timeoutSeconds} s` : `${e.cause?.code ?? e.name}: ${e.message}`;
            throw retryableError(`destination ${destination.url}: ${what}`);
        }
        // The request has arrived by now, whatever comes next: the pacer counts its next starts from here (pace.ts).
        paced?.answered();
        const outcome = outcomeOf(res.status);
        if (outcome === "delivered") {
            // Drain the answer so the connection is reused (keep-alive).
            await res.arrayBuffer().catch(() => undefined);
            return report("delivered", res.status);
        }
        const excerpt = await readExcerpt(res.body);
        if (outcome === "retryable") {
            report("retryable", res.status);
            throw retryableError(`destination answered ${res.status}${excerpt ? `: ${excerpt}` : ""}`, res.status, parseRetryAfter(res.headers.get("retry-after"), now()));
        }
        if (res.status === 401 || res.status === 403) {
            const fresh = await readSecrets(SecretCache.refreshAfterMs).catch(() => secrets);
            if (JSON.stringify(fresh) !== JSON.stringify(secrets)) {
                report("retryable", res.status);
                throw retryableError(`destination answered ${res.status} and its secret changed since it was read: retried with the new one`, res.status);
            }
        }
        report("permanent", res.status);
        const where = res.status >= 300 && res.status < 400 ? ` (redirect to ${res.headers.get("location") ?? "?"} not followed)` : "";
        throw permanentError(`destination answered ${res.status}${where}${excerpt ? `: ${excerpt}` : ""}`, res.status, excerpt.slice(0, DestinationDefaults.excerptChars + 3));
    };
}

/** A destination as a lane handler: resolves when delivered, throws to retry or dead-letter. Idempotency stays the worker's. */
export function destinationHandler(deliver: Deliver): WebhookHandler {
    return async (event: WebhookEvent, context: HandlerContext) => {
        await deliver(event, context.attempt);
    };
}
