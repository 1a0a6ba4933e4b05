/**
 * The envelope seal: how the router tells a catch-all message written by the
 * pipeline's own writers (the ingress function, `ops replay`, `ops redrive
 * --catch-all`) from one the direct API Gateway integration built out of
 * request headers.
 *
 * The direct integration fills `MessageAttributes` by plain substitution of
 * header values into a JSON template (apiGatewayMessageAttributes): a header
 * value holding `"` can close its string and add attributes of the sender's
 * choosing. So no attribute decides a security question on its own. The
 * markers that do (the received-at time a trusted path vouches for, the body
 * encoding, the replay marker and its force run id, the URL the signature
 * covers) count only under `wp-seal`: an HMAC-SHA256, keyed by the
 * pipeline-internal key (Secrets Manager, readable by the router, the ingress
 * functions and operators only), over the provider, the request id, those
 * markers and the exact message body. Every marker is covered
 * whether present or not, so adding, dropping or changing one breaks the seal.
 *
 * The seal also carries the received-at time in clear (`v1.<epoch ms>.<mac>`):
 * the time a replay or a redrive of the catch-all DLQ vouches for, so the
 * detour does not turn a request stale. A message without a seal is judged
 * by SQS's own SentTimestamp, which no sender can set.
 *
 * A redrive of the catch-all DLQ cannot seal what it did not write: for an
 * unsealed message it adds `wp-redrive` instead, a MAC over the provider, the
 * request id, the body and the SentTimestamp the DLQ shows (the original
 * enqueue time: SQS keeps it when it moves a message to a standard queue's
 * DLQ), which vouches for that time alone and for nothing else.
 *
 * Why a seal and not SenderId: every writer in `npm start` (moto) has the same
 * SenderId, and on AWS the ingress functions, operators and API Gateway would
 * each need their role ids in the router's config. Why not a replay queue of
 * its own: the ingress function sets `wp-encoding` legitimately on the same
 * queue as the direct integration, so the catch-all still needs a trusted mark.
 */
import { createHmac, timingSafeEqual } from "crypto";

export const SealVersion = "v1";

/** The fields a seal covers, besides the message body. Absent markers are covered as absent. */
export interface SealFields {
    readonly provider: string;
    readonly requestId: string;
    /** Epoch ms: when a trusted writer says the edge received the request. */
    readonly receivedAt: number;
    readonly encoding: string;
    readonly replayOf?: string;
    readonly replayForce?: string;
    readonly url?: string;
}

export type SealCheck = { readonly ok: true; readonly receivedAt: number } | { readonly ok: false; readonly problem: string };

/** What a MAC vouches for: a whole envelope (seal) or one time (a catch-all redrive's attestation). */
type SealKind = "envelope" | "redrive";

/** The fields a redrive attestation covers, besides the message body. */
export type RedriveFields = Pick<SealFields, "provider" | "requestId" | "receivedAt">;

/**
 * The MAC over the fields (a JSON array, so no field can spill into the next; it holds no raw newline)
 * then a newline then the exact message body: one HMAC-SHA256 pass over the body.
 */
function mac(key: string, kind: SealKind, fields: SealFields | RedriveFields, messageBody: string): Buffer {
    const head =
        kind === "redrive"
            ? [SealVersion, kind, fields.provider, fields.requestId, fields.receivedAt]
            : [SealVersion, kind, fields.provider, fields.requestId, fields.receivedAt, (fields as SealFields).encoding, (fields as SealFields).replayOf ?? null, (fields as SealFields).replayForce ?? null, (fields as SealFields).url ?? null];
    return createHmac("sha256", key).update(JSON.stringify(head), "utf8").update("\n").update(messageBody, "utf8").digest();
}

/** The `wp-seal` value for a message: `v1.<receivedAt>.<base64url HMAC>`, made with `key` (the first of the internal key's list). */
export function sealEnvelope(key: string, fields: SealFields, messageBody: string): string {
    if (!key) throw new Error("sealing needs the pipeline-internal key (it is empty)");
    return `${SealVersion}.${fields.receivedAt}.${mac(key, "envelope", fields, messageBody).toString("base64url")}`;
}

/** The `wp-redrive` value for an unsealed message taken from the catch-all DLQ: vouches for `receivedAt` (its SentTimestamp there) only. */
export function attestRedrive(key: string, fields: RedriveFields, messageBody: string): string {
    if (!key) throw new Error("attesting a redrive needs the pipeline-internal key (it is empty)");
    return `${SealVersion}.${fields.receivedAt}.${mac(key, "redrive", fields, messageBody).toString("base64url")}`;
}

/** The received-at time a seal claims, before it is checked (undefined when the value has not the seal's shape). */
export function sealedTime(seal: string): number | undefined {
    const m = /^v1\.(\d{1,16})\.[A-Za-z0-9_-]{43}$/.exec(seal);
    return m ? Number(m[1]) : undefined;
}

/**
 * Check a seal against the message's fields and body with any of `keys` (rotation: the first signs,
 * any verifies). Constant-time comparison; the problem names what is wrong, never the key.
 */
export function checkSeal(keys: readonly string[], seal: string, fields: Omit<SealFields, "receivedAt">, messageBody: string): SealCheck {
    return check("envelope", "wp-seal", keys, seal, fields, messageBody);
}

/** Check a `wp-redrive` attestation (see attestRedrive). */
export function checkRedrive(keys: readonly string[], value: string, fields: Omit<RedriveFields, "receivedAt">, messageBody: string): SealCheck {
    return check("redrive", "wp-redrive", keys, value, fields, messageBody);
}

function check(kind: SealKind, attribute: string, keys: readonly string[], value: string, fields: Omit<SealFields, "receivedAt"> | Omit<RedriveFields, "receivedAt">, messageBody: string): SealCheck {
    const receivedAt = sealedTime(value);
    if (receivedAt === undefined) return { ok: false, problem: `${attribute} is not of the form ${SealVersion}.<epoch ms>.<mac>` };
    if (keys.length === 0) return { ok: false, problem: `the pipeline-internal key is not set, so ${attribute} cannot be checked` };
    const given = Buffer.from(value.slice(value.lastIndexOf(".") + 1), "base64url");
    for (const key of keys) {
        const expected = mac(key, kind, { ...fields, receivedAt } as SealFields, messageBody);
        if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, receivedAt };
    }
    return { ok: false, problem: `${attribute} does not match the message (a marker, the request id or the body differs from what the pipeline vouched for, or another key made it)` };
}
