/**
 * Signing secrets, read from Secrets Manager at run time and cached per
 * container (never in code, environment or logs). The stored value is JSON
 * `{"secrets": ["current", "previous"]}`; any listed secret may match, which
 * is how rotation works: add the new one first, remove the old one later.
 *
 * A plain TTL cache on the SDK call instead of Powertools Parameters:
 * the router needs one GetSecretValue per provider per TTL and must tell "no
 * secret set yet" (quarantine as no-secret) from "Secrets Manager failed"
 * (retry), which the SDK's error names say directly.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretUnavailableError } from "./errors";

/** How long secrets are cached, resolved in one place. */
export const SecretCache = {
    /** A secret read is reused for this long. */
    ttlMs: 5 * 60_000,
    /**
     * A request that matches no cached secret (or a provider with no secret)
     * re-reads the secret once it is this old: a rotated or newly set secret
     * is picked up within seconds, and forged requests cost at most one
     * GetSecretValue per secret per container per this period.
     */
    refreshAfterMs: 30_000,
} as const;

export interface SecretReadOptions {
    /** Serve the cached value only if it was read at most this long ago (capped at the TTL). @default the reader's TTL */
    readonly maxAgeMs?: number;
}

export type SecretReader = (secretId: string, options?: SecretReadOptions) => Promise<readonly string[]>;

/** `{"secrets": [...]}`, or a bare string for a single secret set by hand. */
export function parseSecretValue(text: string | undefined): string[] {
    if (!text) return [];
    try {
        const value = JSON.parse(text) as unknown;
        if (value && typeof value === "object" && Array.isArray((value as { secrets?: unknown }).secrets)) {
            return ((value as { secrets: unknown[] }).secrets).filter((s): s is string => typeof s === "string" && s.length > 0);
        }
        if (typeof value === "string") return value ? [value] : [];
    } catch {
        // not JSON: a bare secret
    }
    return [text];
}

/** Errors that mean "the secret has no value yet": the provider is quarantined as no-secret, not retried. */
// An array, not a Set: module-level Sets and Maps do not survive function serialization.
const notSetErrors: readonly string[] = ["ResourceNotFoundException"];

/** A reader that caches each secret for `ttlMs` (default {@link SecretCache.ttlMs}) and shares in-flight reads. */
export function cachedSecretReader(client: SecretsManagerClient, ttlMs: number = SecretCache.ttlMs, now: () => number = Date.now): SecretReader {
    const cache: Record<string, { at: number; value: Promise<readonly string[]> }> = {};
    return (secretId, options = {}) => {
        const maxAge = Math.min(options.maxAgeMs ?? ttlMs, ttlMs);
        const hit = cache[secretId];
        if (hit && now() - hit.at < maxAge) return hit.value;
        // The package is loaded on the first read: a worker that reads no secret (a handler lane) never loads it.
        const { GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager");
        const value: Promise<readonly string[]> = client.send(new GetSecretValueCommand({ SecretId: secretId })).then(
            (out) => parseSecretValue(out.SecretString),
            (err: Error) => {
                if (notSetErrors.includes(err.name)) return [];
                if (cache[secretId]?.value === value) delete cache[secretId]; // do not cache failures
                throw secretUnavailableError(`reading secret ${secretId} failed: ${err.name}: ${err.message}`);
            },
        );
        cache[secretId] = { at: now(), value };
        return value;
    };
}
