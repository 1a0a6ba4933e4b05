/**
 * The contract between the pipeline and your code. A handler receives one
 * verified webhook at a time, with its exact bytes, and either resolves
 * ("done") or throws ("retry"): after the lane's `maxReceiveCount` deliveries
 * the message waits in the lane's DLQ. Idempotency is the worker's job: a
 * handler is called at most once per provider event id while its idempotency
 * record lives (see `archive.idempotencyDays`).
 *
 * A handler is serialized into the worker's zip (Pulumi callback function):
 * keep it a plain function; create clients inside it (or cache them in a
 * variable it closes over that starts `undefined`), never capture a secret.
 */
import type { WebhookEvent } from "../../model/lane-message";

export type { WebhookEvent };

/** What a handler can log with: Powertools Logger on AWS, a plain logger locally. */
export interface HandlerLogger {
    info(message: string, ...extra: unknown[]): void;
    warn(message: string, ...extra: unknown[]): void;
    error(message: string, ...extra: unknown[]): void;
}

export interface HandlerContext {
    readonly logger: HandlerLogger;
    /** Delivery attempt of the lane message, 1 on the first. */
    readonly attempt: number;
    /** Milliseconds left before the worker's timeout. */
    readonly remainingMs: () => number;
}

export type WebhookHandler = (event: WebhookEvent, context: HandlerContext) => Promise<void>;
