/**
 * Signing forwarded requests with Standard Webhooks (https://www.standardwebhooks.com):
 * `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`,
 * one `v1,<base64 HMAC-SHA256("<id>.<timestamp>.<body>")>` per secret,
 * space-separated, so a receiver holding either the old or the new secret
 * verifies during a rotation. The HMAC is the one providers/ verifies with.
 */
import { createHash } from "crypto";
import { SignatureHeader } from "../../model/delivery";
import { hmac } from "../../providers/crypto";
import { standardWebhooksKey } from "../../providers/standard-webhooks";

/**
 * The `webhook-id` of an event: the same on every attempt (and every worker),
 * so a receiver can deduplicate on it. Derived from the idempotency key
 * (provider, event id, and a `replay --force` run id), hashed so it is a safe
 * header value whatever the provider's ids hold.
 */
export function webhookIdOf(idempotencyKey: string): string {
    return `msg_${createHash("sha256").update(idempotencyKey).digest("base64url").slice(0, 32)}`;
}

/** The three signature headers for `body`, signed with every secret (none: no headers). */
export function signatureHeaders(id: string, timestampSeconds: number, body: Buffer, secrets: readonly string[]): Record<string, string> {
    if (secrets.length === 0) return {};
    const ts = String(Math.floor(timestampSeconds));
    const signatures = secrets.map((secret) => `v1,${hmac("sha256", standardWebhooksKey(secret), `${id}.${ts}.`, body).toString("base64")}`);
    return { [SignatureHeader.Id]: id, [SignatureHeader.Timestamp]: ts, [SignatureHeader.Signature]: signatures.join(" ") };
}
