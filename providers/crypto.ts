/**
 * Shared primitives for plugins: HMAC, constant-time comparison, header and
 * JSON helpers. One place, so every scheme compares the same safe way.
 */
import { createHash, createHmac, timingSafeEqual } from "crypto";
import { EventFacts, RejectReason, VerifyResult, WebhookRequest } from "./types";

export type Algorithm = "sha1" | "sha256" | "sha512";

export function hmac(algorithm: Algorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
    const mac = createHmac(algorithm, key);
    for (const part of parts) mac.update(part);
    return mac.digest();
}

/** Constant-time equality of two byte strings; false on different lengths (length is not secret). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
    return a.length === b.length && timingSafeEqual(a, b);
}

/** Decode a hex or base64 digest; undefined when it is not valid in that encoding. */
export function decodeDigest(text: string, encoding: "hex" | "base64"): Buffer | undefined {
    const trimmed = text.trim();
    if (encoding === "hex") return /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0 ? Buffer.from(trimmed, "hex") : undefined;
    return /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : undefined;
}

export function header(request: WebhookRequest, name: string): string | undefined {
    const value = request.headers[name.toLowerCase()];
    return value === undefined || value === "" ? undefined : value;
}

export const ok: VerifyResult = { ok: true };

export function reject(reason: RejectReason, detail: string): VerifyResult {
    return { ok: false, reason, detail };
}

export function missing(name: string): VerifyResult {
    return reject(RejectReason.MissingSignature, `header ${name} is missing`);
}

export function noSecret(): VerifyResult {
    return reject(RejectReason.NoSecret, "no signing secret is configured for this provider");
}

/** Seconds timestamp within tolerance of now (ms)? */
export function checkTimestamp(timestampSeconds: number, now: number, toleranceSeconds = 300, headerName = "timestamp"): VerifyResult | undefined {
    if (!Number.isFinite(timestampSeconds)) return reject(RejectReason.MalformedSignature, `${headerName} is not a unix timestamp`);
    const skew = Math.abs(now / 1000 - timestampSeconds);
    return skew > toleranceSeconds ? reject(RejectReason.Stale, `${headerName} is ${Math.round(skew)} s from now (tolerance ${toleranceSeconds} s)`) : undefined;
}

/** Does any of `candidates` equal the MAC computed with any of `secrets`? Every pair is compared: no early exit on secrets. */
export function anyMatch(secrets: readonly string[], candidates: readonly Buffer[], compute: (secret: string) => Buffer): boolean {
    let matched = false;
    for (const secret of secrets) {
        const expected = compute(secret);
        for (const candidate of candidates) if (safeEqual(expected, candidate)) matched = true;
    }
    return matched;
}

/**
 * The common scheme: one header holds `<prefix><digest>`, the digest an HMAC
 * of `signed` (the body unless given) under any configured secret. Missing
 * header, no secret, malformed digest and no match each get their reason.
 */
export function verifyHeaderHmac(
    request: WebhookRequest,
    secrets: readonly string[],
    spec: { readonly header: string; readonly encoding: "hex" | "base64"; readonly algorithm?: Algorithm; readonly prefix?: string; readonly signed?: string | Buffer; readonly what?: string },
): VerifyResult {
    const value = header(request, spec.header);
    if (!value) return missing(spec.header);
    if (!secrets.length) return noSecret();
    const prefix = spec.prefix ?? "";
    const digest = value.startsWith(prefix) ? decodeDigest(value.slice(prefix.length), spec.encoding) : undefined;
    if (!digest) return reject(RejectReason.MalformedSignature, `header ${spec.header} must be ${prefix ? `${prefix}<${spec.encoding}>` : spec.encoding}`);
    const signed = spec.signed ?? request.body;
    return anyMatch(secrets, [digest], (secret) => hmac(spec.algorithm ?? "sha256", secret, signed)) ? ok : reject(RejectReason.BadSignature, `header ${spec.header} matches no configured secret${spec.what ? ` ${spec.what}` : ""}`);
}

export function parseJson(body: Buffer): unknown {
    try {
        return JSON.parse(body.toString("utf8"));
    } catch {
        return undefined;
    }
}

/** `a.b.c` in a parsed JSON value; only string and number leaves count. */
export function pathValue(value: unknown, path: string): string | undefined {
    let current: unknown = value;
    for (const key of path.split(".")) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[key];
    }
    return typeof current === "string" ? current : typeof current === "number" ? String(current) : undefined;
}

export function bodyHash(body: Buffer): string {
    return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

/** Facts with the fallbacks every plugin shares: body hash for the id, "unknown" for the type. */
export function facts(body: Buffer, eventId: string | undefined, eventType: string | undefined, orderingKey: string | undefined): EventFacts {
    return { eventId: eventId || bodyHash(body), eventType: eventType || "unknown", ...(orderingKey ? { orderingKey } : {}) };
}

export function parseForm(body: Buffer): URLSearchParams {
    return new URLSearchParams(body.toString("utf8"));
}

export function randomId(prefix: string, now: number): string {
    return `${prefix}${now.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}
