/**
 * The default handler: logs a one-line summary of each event (never the body,
 * which may hold personal data). Replace it per provider or lane with
 * `handler: <module>` in stack config.
 */
import type { WebhookHandler } from "./types";

export const log: WebhookHandler = async (event, context) => {
    context.logger.info("webhook processed", {
        provider: event.provider,
        lane: event.lane,
        eventId: event.eventId,
        eventType: event.eventType,
        orderingKey: event.orderingKey,
        bytes: event.body.length,
        replay: event.replay,
        attempt: context.attempt,
    });
};
