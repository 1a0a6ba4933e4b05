/**
 * Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64>` (space-separated for key rotation),
 * HMAC-SHA256 of `"<id>.<timestamp>.<body>"` keyed by the base64-decoded
 * `whsec_` secret.
 */
import { anyMatch, checkTimestamp, decodeDigest, facts, header, hmac, missing, noSecret, ok, parseJson, pathValue, randomId, reject } from "./crypto";
import { PluginName, ProviderPlugin, RejectReason } from "./types";

const ID = "webhook-id";
const TIMESTAMP = "webhook-timestamp";
const SIGNATURE = "webhook-signature";

/** `whsec_<base64>` -> key bytes. A secret without the prefix is taken as base64 too, as the spec's libraries do. */
export function standardWebhooksKey(secret: string): Buffer {
    return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

export const standardWebhooks: ProviderPlugin = {
    name: PluginName.StandardWebhooks,
    headers: [ID, TIMESTAMP, SIGNATURE],
    signsUrl: false,
    signsTimestamp: true,
    verify(request, secrets, options) {
        const value = header(request, SIGNATURE);
        if (!value) return missing(SIGNATURE);
        const id = header(request, ID);
        if (!id) return missing(ID);
        const ts = header(request, TIMESTAMP);
        if (!ts) return missing(TIMESTAMP);
        if (!secrets.length) return noSecret();
        if (!/^\d+$/.test(ts)) return reject(RejectReason.MalformedSignature, `header ${TIMESTAMP} must be a unix timestamp`);
        // Other versions (v1a, ...) are ignored, as the specification asks.
        const candidates = value
            .split(" ")
            .map((entry) => entry.split(",", 2))
            .filter(([version, sig]) => version === "v1" && sig)
            .map(([, sig]) => decodeDigest(sig, "base64"))
            .filter((d): d is Buffer => d !== undefined);
        if (!candidates.length) return reject(RejectReason.MalformedSignature, `header ${SIGNATURE} has no v1,<base64> entry`);
        const stale = checkTimestamp(Number(ts), options.now, options.toleranceSeconds, TIMESTAMP);
        if (stale) return stale;
        return anyMatch(secrets, candidates, (secret) => hmac("sha256", standardWebhooksKey(secret), `${id}.${ts}.`, request.body))
            ? ok
            : reject(RejectReason.BadSignature, `header ${SIGNATURE} matches no configured secret`);
    },
    facts(request) {
        const body = parseJson(request.body);
        return facts(request.body, header(request, ID), pathValue(body, "type"), pathValue(body, "data.id"));
    },
    sign(body, secret, now) {
        const id = randomId("msg_", now);
        const ts = String(Math.floor(now / 1000));
        return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${hmac("sha256", standardWebhooksKey(secret), `${id}.${ts}.`, body).toString("base64")}` };
    },
    sample(now) {
        return Buffer.from(JSON.stringify({ type: "invoice.paid", timestamp: new Date(now).toISOString(), data: { id: randomId("inv_", now), amount: 4200, currency: "EUR" } }));
    },
};
