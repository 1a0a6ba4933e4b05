/**
 * What keeps the console a local tool: it answers only requests addressed to
 * the loopback name it listens on (a page on another site that rebinds its
 * own DNS name to 127.0.0.1 sends its own Host, and is refused), every action
 * is a POST carrying the token printed at start in `x-console-token` (a
 * cross-site form cannot set a header, and a cross-site fetch that sets one
 * needs a CORS preflight this server never grants), tokens are compared in
 * constant time, and every answer carries headers that keep the browser from
 * running anything but the console's own scripts.
 */
import { createHash, randomBytes, timingSafeEqual } from "crypto";
import type * as http from "http";

export const TokenHeader = "x-console-token";

/** A fresh token: 32 random bytes, hex. */
export function newToken(): string {
    return randomBytes(32).toString("hex");
}

/** `given` equals `token`, compared in constant time (both hashed first, so their lengths leak nothing either). */
export function tokenMatches(given: string | string[] | undefined, token: string): boolean {
    if (typeof given !== "string" || given.length === 0) return false;
    const a = createHash("sha256").update(given).digest();
    const b = createHash("sha256").update(token).digest();
    return timingSafeEqual(a, b);
}

/**
 * The Host header names this server: `127.0.0.1`, `localhost` or `[::1]`, with the port it listens on.
 * Anything else (a rebound DNS name, another port) is refused.
 */
export function hostAllowed(host: string | undefined, port: number, extraHosts: readonly string[] = []): boolean {
    if (!host) return false;
    const names = ["127.0.0.1", "localhost", "[::1]", ...extraHosts];
    return names.some((n) => host === `${n}:${port}`);
}

/**
 * The Origin a browser sends with a POST, if any, must be this server: a page elsewhere cannot act here even
 * if it got hold of the token some other way.
 */
export function originAllowed(origin: string | undefined, port: number, extraHosts: readonly string[] = []): boolean {
    if (origin === undefined) return true; // not a browser, or a same-origin GET
    return ["127.0.0.1", "localhost", "[::1]", ...extraHosts].some((n) => origin === `http://${n}:${port}`);
}

/**
 * Only the console's own scripts, styles and images; no inline script or style element, no frames, no forms
 * posting elsewhere; fetches to this server only. uPlot sizes its elements through the DOM's style
 * properties, which a style-src policy does not govern (it governs style elements and attributes in markup).
 */
export const ContentSecurityPolicy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
].join("; ");

export function securityHeaders(): http.OutgoingHttpHeaders {
    return {
        "content-security-policy": ContentSecurityPolicy,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "no-store",
    };
}
