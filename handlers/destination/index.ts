/**
 * A lane that ends in a destination: the handler the workers call instead of
 * a handler module, and the per-worker pacer of its rate limit.
 */
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import type { SecretReader } from "../shared/secrets";
import { createDeliverer, DeliveryReport, destinationHandler } from "./deliver";
import { createPacer, Pacer, paceLimitOf } from "./pace";

export { createDeliverer, destinationHandler, deliveryHeaders } from "./deliver";
export type { Deliver, DeliveryReport } from "./deliver";
export { asPermanent, asRetryable, outcomeOf, parseRetryAfter, permanentError, retryableError } from "./outcome";
export type { DeliveryPermanentError, DeliveryRetryableError } from "./outcome";
export { createPacer, createPacerPool, paceLimitOf } from "./pace";
export type { PaceLimit, Pacer, PacerPool } from "./pace";
export { retryDelaySeconds, nominalDelaySeconds } from "./retry";
export { signatureHeaders, webhookIdOf } from "./sign";

export interface LaneHandler {
    readonly handler: WebhookHandler;
    /** The worker's pacer (a no-op without a rate limit): release it before an invocation returns. */
    readonly pacer: Pacer;
}

/** The handler module for a handler lane; for a destination lane, delivery to it, paced by one pacer per worker. */
export function laneHandler(
    config: WorkerRuntimeConfig,
    handler: WebhookHandler,
    deps: {
        /** Needed by destination lanes (their secrets are read at run time). */
        readonly secrets?: () => SecretReader;
        readonly onAttempt?: (report: DeliveryReport) => void;
        /** The pacer of the current call, when one process runs several workers (the local pool). @default one pacer for the process */
        readonly pacer?: () => Pacer | undefined;
    },
): LaneHandler {
    const pacer = createPacer(paceLimitOf(config.destination));
    if (!config.destination) return { handler, pacer };
    if (!deps.secrets) throw new Error(`lane ${config.lane} delivers to a destination but its worker has no secret reader`);
    return { handler: destinationHandler(createDeliverer({ destination: config.destination, secrets: deps.secrets(), pacer: deps.pacer ?? (() => pacer), onAttempt: deps.onAttempt })), pacer };
}
