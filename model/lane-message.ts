/**
 * The message the router sends to a lane (SQS queue or Kafka topic) and the
 * event a worker hands to the user's handler. One format for both lane kinds.
 */

export const LaneMessageVersion = 1;

/** Where a body too large for a lane message was put (claim check). */
export interface ClaimCheck {
    readonly bucket: string;
    readonly key: string;
}

export interface LaneMessage {
    readonly v: typeof LaneMessageVersion;
    readonly provider: string;
    /** Lane id (`<provider>-<lane>`). */
    readonly lane: string;
    /** Edge request id. */
    readonly requestId: string;
    /** Provider's event id: with provider and lane, the idempotency key (handlers/worker/worker.ts idempotencyKey). */
    readonly eventId: string;
    readonly eventType: string;
    readonly orderingKey?: string;
    /** Epoch ms at the edge. */
    readonly receivedAt: number;
    /** Archive object key holding the raw request (audit and replay). */
    readonly archiveKey: string;
    /** True when the request was re-injected by `replay`. */
    readonly replay?: boolean;
    /** The original request's Content-Type, when the edge mapped it (providers with a destination lane). */
    readonly contentType?: string;
    /** `replay --force` run id: suffixes the idempotency key, so the handler runs again, once per run (a redelivery of the same forced message is still a duplicate). */
    readonly force?: string;
    /** Body as UTF-8 text (when it is valid UTF-8). Exactly one of body, bodyBase64, claim is set. */
    readonly body?: string;
    /** Body bytes in base64 (when not valid UTF-8). */
    readonly bodyBase64?: string;
    /** Body stored in S3 because it was too large for a lane message. */
    readonly claim?: ClaimCheck;
}

/** What a handler receives: the same whichever lane kind or body transport. */
export interface WebhookEvent {
    readonly provider: string;
    readonly lane: string;
    readonly requestId: string;
    readonly eventId: string;
    readonly eventType: string;
    readonly orderingKey?: string;
    readonly receivedAt: number;
    readonly archiveKey: string;
    readonly replay: boolean;
    /** `replay --force` run id, when set (the idempotency key includes it). */
    readonly force?: string;
    /** The original request's Content-Type, when the edge mapped it (providers with a destination lane). */
    readonly contentType?: string;
    /** Raw body bytes, byte for byte as the provider sent them. */
    readonly body: Buffer;
}

export class LaneMessageError extends Error {
    public readonly name = "LaneMessageError";
}

/** Parse and check a lane message; throws LaneMessageError naming the problem. */
export function parseLaneMessage(text: string): LaneMessage {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new LaneMessageError("lane message is not JSON");
    }
    const m = value as Partial<LaneMessage>;
    if (!m || typeof m !== "object" || m.v !== LaneMessageVersion) throw new LaneMessageError(`lane message version must be ${LaneMessageVersion}`);
    for (const field of ["provider", "lane", "eventId", "eventType", "archiveKey"] as const) {
        if (typeof m[field] !== "string" || !m[field]) throw new LaneMessageError(`lane message field ${field} is missing`);
    }
    const transports = [m.body !== undefined, m.bodyBase64 !== undefined, m.claim !== undefined].filter(Boolean).length;
    if (transports !== 1) throw new LaneMessageError("lane message must carry exactly one of body, bodyBase64, claim");
    return m as LaneMessage;
}
