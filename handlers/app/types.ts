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
import type { HandlerSecretOptions, HandlerSecrets } from "../shared/handler-secrets";

export type { HandlerSecretOptions, HandlerSecrets, WebhookEvent };

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
    /**
     * The lane's `secrets`, read from Secrets Manager at run time and cached
     * (`await context.secrets.get("DB_PASSWORD")`); the same on AWS and in `npm start`.
     */
    readonly secrets: HandlerSecrets;
    /**
     * The lane's `environment`. On AWS the same values are the worker's environment variables
     * (process.env); `npm start` runs every lane in one process and sets none: read them here.
     */
    readonly env: Readonly<Record<string, string>>;
}

export type WebhookHandler = (event: WebhookEvent, context: HandlerContext) => Promise<void>;
