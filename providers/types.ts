/**
 * The contract every provider plugin fulfils.
 *
 * A plugin is plain data plus small pure functions: no I/O, no clock reads
 * (the caller passes `now`), no globals. The router, the local ingress and the
 * tests all call the same functions, so a plugin is tested once and trusted
 * everywhere.
 */

/** A webhook request as the router sees it: the raw bytes and the headers the plugin declared. */
export interface WebhookRequest {
    /**
     * Header values keyed by lower-case header name. Only the headers listed in
     * {@link ProviderPlugin.headers} are guaranteed to be present (the API Gateway
     * mapping forwards exactly those).
     */
    readonly headers: Readonly<Record<string, string>>;
    /** The request body, byte for byte as the sender sent it. */
    readonly body: Buffer;
    /**
     * The public URL the sender called (scheme, host, path and query). Needed by
     * schemes that sign the URL (Twilio).
     */
    readonly url: string;
}

/** Why a request was not accepted. Stable strings: they name S3 prefixes and metric dimensions. */
export const RejectReason = {
    /** A header the scheme needs is absent or empty. */
    MissingSignature: "missing-signature",
    /** The signature header is present but not in the scheme's format. */
    MalformedSignature: "malformed-signature",
    /** The signature does not match any configured secret. */
    BadSignature: "bad-signature",
    /** The signed timestamp is outside the tolerance window. */
    Stale: "stale",
    /** No secret is configured or readable for this provider. */
    NoSecret: "no-secret",
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export interface VerifyOptions {
    /** Current time in milliseconds since the epoch. */
    readonly now: number;
    /** Allowed clock skew for schemes that sign a timestamp, in seconds. @default 300 */
    readonly toleranceSeconds?: number;
}

/** What a provider expects back synchronously, for schemes that challenge the endpoint. */
export interface HandshakeResponse {
    readonly statusCode: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
}

/** Facts read from a verified request. */
export interface EventFacts {
    /** The provider's id for this delivery, used as the idempotency key. Falls back to a body hash when the provider sends none. */
    readonly eventId: string;
    /** The provider's event type, matched against routing patterns. `"unknown"` when absent. */
    readonly eventType: string;
    /** Entity key for ordered lanes (customer, repository, shop, ...); undefined when the event has none. */
    readonly orderingKey?: string;
}

/** Built-in plugin names. `hmac` is the generic scheme declared entirely in config. */
export const PluginName = {
    Stripe: "stripe",
    GitHub: "github",
    Shopify: "shopify",
    Slack: "slack",
    Twilio: "twilio",
    Razorpay: "razorpay",
    StandardWebhooks: "standard-webhooks",
    Hmac: "hmac",
} as const;
export type PluginName = (typeof PluginName)[keyof typeof PluginName];

/** The generic scheme, declared in stack config with no code (`plugin: hmac`). */
export interface HmacSchemeOptions {
    readonly signature: {
        /** Header carrying the signature, any case. */
        readonly header: string;
        readonly algorithm: "sha1" | "sha256" | "sha512";
        readonly encoding: "hex" | "base64";
        /** Text before the digest in the header, e.g. `sha256=`. @default "" */
        readonly prefix?: string;
        /**
         * Header carrying a unix timestamp (seconds). When set, the signed
         * string is `"<timestamp>.<body>"` and stale requests are refused.
         */
        readonly timestampHeader?: string;
    };
    /** Dot path into a JSON body for the event id, e.g. `data.id`. Conflicts with eventIdHeader. */
    readonly eventIdPath?: string;
    /** Dot path into a JSON body for the event type. Conflicts with eventTypeHeader. */
    readonly eventTypePath?: string;
    /** Header carrying the event id. */
    readonly eventIdHeader?: string;
    /** Header carrying the event type. */
    readonly eventTypeHeader?: string;
    /** Dot path into a JSON body for the ordering key. */
    readonly orderingKeyPath?: string;
}

export interface ProviderPlugin {
    readonly name: PluginName;
    /**
     * Lower-case names of the headers the router needs (signature, timestamp,
     * event id, event type, ...). The API Gateway route maps exactly these into
     * SQS message attributes, so keep it short: at most 6 (SQS allows 10
     * attributes and the envelope uses 4).
     */
    readonly headers: readonly string[];
    /** True when the scheme signs the request URL (so the envelope must carry it). */
    readonly signsUrl: boolean;
    /** True when the scheme signs a timestamp (stale requests are refused). */
    readonly signsTimestamp: boolean;
    /** Verify the raw request against any of the secrets (rotation). Constant-time compare. */
    verify(request: WebhookRequest, secrets: readonly string[], options: VerifyOptions): VerifyResult;
    /** Read event id, type and ordering key from a verified request. Never throws on odd bodies. */
    facts(request: WebhookRequest): EventFacts;
    /** Answer for an endpoint challenge (Slack url_verification), or undefined for a normal event. */
    handshake?(request: WebhookRequest): HandshakeResponse | undefined;
    /**
     * Produce the headers a real sender would send for `body` signed with `secret`
     * at time `now` (ms). Used by `npm run send`, tests, benchmarks and drills.
     */
    sign(body: Buffer, secret: string, now: number, url: string): Record<string, string>;
    /** A realistic sample body for `npm run send`. */
    sample(now: number): Buffer;
}
