/**
 * What the router may believe of a catch-all message (see model/seal.ts for
 * why): pure, so every way a sender can shape the direct integration's
 * attributes is tested without I/O (test/model/edge-trust.test.ts).
 *
 * - Sealed (`wp-seal`): the seal must check; then its markers (encoding,
 *   replay, force, URL) and its received-at time are the pipeline's own.
 * - Unsealed: no marker may be present, the provider must not be one whose
 *   requests all come through its ingress function, and wp-url must equal its
 *   tail copy wp-url-end (EnvelopeAttribute.UrlEnd), and wp-source-ip its tail copy wp-source-ip-end
 *   (required for a provider with allowedSourceIps). The time is SQS's
 *   SentTimestamp, or the time a catch-all redrive vouched for (`wp-redrive`).
 *
 * Anything else is `untrusted` with the problem named: the router quarantines
 * it (reason untrusted-envelope) and never treats it as a replay.
 */
import { Envelope, EnvelopeAttribute } from "./envelope";
import { checkRedrive, checkSeal } from "./seal";

export interface TrustContext {
    /** SQS's SentTimestamp of the message (epoch ms); undefined when the receiver did not get it. */
    readonly sentTimestamp?: number;
    /** How the envelope's provider reaches the queue, when it is configured. */
    readonly ingress?: "direct" | "function";
    /** The provider has `allowedSourceIps`: an unsealed message must carry wp-source-ip-end equal to wp-source-ip. */
    readonly checksSourceIp?: boolean;
    /** The pipeline-internal key's list (needed only when needsKey() says so). */
    readonly keys: readonly string[];
    /** Fallback clock when SentTimestamp is missing. */
    readonly now: number;
}

export type TrustVerdict =
    | { readonly trusted: true; readonly receivedAt: number; readonly sealed: boolean }
    | { readonly trusted: false; readonly receivedAt: number; readonly problem: string };

/** True when judging the envelope needs the internal key (it carries a seal or a redrive attestation). */
export function needsKey(envelope: Envelope): boolean {
    return envelope.seal !== undefined || envelope.redrive !== undefined;
}

export function judgeEnvelope(envelope: Envelope, messageBody: string, context: TrustContext): TrustVerdict {
    const sent = context.sentTimestamp !== undefined && Number.isFinite(context.sentTimestamp) && context.sentTimestamp > 0 ? context.sentTimestamp : context.now;
    const untrusted = (problem: string): TrustVerdict => ({ trusted: false, receivedAt: sent, problem });
    if (envelope.seal !== undefined) {
        const check = checkSeal(context.keys, envelope.seal, { provider: envelope.provider, requestId: envelope.requestId, encoding: envelope.encoding, replayOf: envelope.replayOf, replayForce: envelope.replayForce, url: envelope.url }, messageBody);
        return check.ok ? { trusted: true, receivedAt: check.receivedAt, sealed: true } : untrusted(check.problem);
    }
    if (envelope.markers.length > 0) {
        return untrusted(`message attribute(s) ${envelope.markers.join(", ")} without ${EnvelopeAttribute.Seal}: only the pipeline's own writers may set them (a header value may have added them)`);
    }
    if (context.ingress === "function") {
        return untrusted(`provider ${envelope.provider} takes requests through its ingress function, which seals every message; this one has no ${EnvelopeAttribute.Seal}`);
    }
    if (envelope.url !== envelope.urlEnd) {
        return untrusted(`message attributes ${EnvelopeAttribute.Url} and ${EnvelopeAttribute.UrlEnd} differ (a header value may have added one)`);
    }
    if (envelope.sourceIpEnd !== undefined ? envelope.sourceIpEnd !== envelope.sourceIp : context.checksSourceIp) {
        return untrusted(
            envelope.sourceIpEnd === undefined
                ? `provider ${envelope.provider} has allowedSourceIps and this unsealed message has no ${EnvelopeAttribute.SourceIpEnd} (the direct route writes it after every header)`
                : `message attributes ${EnvelopeAttribute.SourceIp} and ${EnvelopeAttribute.SourceIpEnd} differ (a header value may have added one)`,
        );
    }
    if (envelope.redrive === undefined) return { trusted: true, receivedAt: sent, sealed: false };
    const check = checkRedrive(context.keys, envelope.redrive, { provider: envelope.provider, requestId: envelope.requestId }, messageBody);
    return check.ok ? { trusted: true, receivedAt: check.receivedAt, sealed: false } : untrusted(check.problem);
}
