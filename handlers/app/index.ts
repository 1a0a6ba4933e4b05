/**
 * Handler modules by name: `handler: <name>` on a provider or lane picks one.
 * Add yours here (see the README, "Writing a handler").
 */
import { log } from "./log";
import type { WebhookHandler } from "./types";

export type { HandlerContext, HandlerLogger, HandlerSecretOptions, HandlerSecrets, WebhookEvent, WebhookHandler } from "./types";

export const handlers: Readonly<Record<string, WebhookHandler>> = Object.freeze({
    log,
});

/** Names accepted by config validation. */
export const handlerNames: readonly string[] = Object.keys(handlers);
