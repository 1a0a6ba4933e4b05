/**
 * The catch-all message format: the one place that says how an HTTP request
 * becomes an SQS message. The API Gateway mapping (components/), the ingress
 * function, the local ingress server and the router all use this module.
 *
 * Body: the raw request body as the message body (API Gateway passes it as
 * text). Everything else rides in message attributes (SQS allows 10):
 *   wp-provider, wp-request-id, wp-received-at (epoch ms), wp-source-ip,
 *   wp-url (schemes that sign the URL), wp-encoding (only from the ingress
 *   function: base64 for bodies that are not UTF-8, s3 for claim checks),
 *   and one `h.<header>` per header the plugin declares.
 *
 * Trust (model/seal.ts): the pipeline's own writers (ingress function, replay,
 * catch-all redrive) seal their messages (`wp-seal`, which then stands in for
 * wp-received-at); the direct integration cannot. The router honours
 * wp-encoding, wp-replay, wp-replay-force and a received-at time only under a
 * valid seal, and judges everything else by SQS's SentTimestamp.
 *
 * Header values carry a one-character prefix (`=`) so a header the sender left
 * out becomes `"="`, not an empty string that SQS would refuse: the request is
 * still acknowledged and then quarantined as missing-signature, and counted.
 */

import { isUtf8 } from "buffer";
import { Limits } from "./constants";
import { sealEnvelope, sealedTime } from "./seal";
import { isNamedError, namedError } from "./errors";

export const EnvelopeAttribute = {
    Provider: "wp-provider",
    RequestId: "wp-request-id",
    ReceivedAt: "wp-received-at",
    SourceIp: "wp-source-ip",
    Url: "wp-url",
    Encoding: "wp-encoding",
    /** Set by `replay`: the archive key of the original request. The timestamp tolerance is skipped (the signature is still verified) and the request is not archived again. */
    Replay: "wp-replay",
    /** Set by `replay --force` beside Replay: the replay run's id. The worker runs the handler again for an event it processed before (once per run). */
    ReplayForce: "wp-replay-force",
    /** Only when the attributes would exceed SQS's limit of 10: every declared header in one JSON object. */
    Headers: "wp-headers",
    /** Set by the pipeline's own writers instead of wp-received-at: `v1.<received-at>.<HMAC>` over the markers and the body (model/seal.ts). */
    Seal: "wp-seal",
    /**
     * The direct integration's second copy of wp-url, after every header attribute: a header value that
     * smuggles in a `wp-url` lands between the two copies, so whichever copy a duplicate-key parser keeps
     * (first or last), the two disagree and the router quarantines the request.
     */
    UrlEnd: "wp-url-end",
    /**
     * The direct integration's second copy of wp-source-ip, after every header attribute, for providers with
     * `allowedSourceIps`: a header value that smuggles in a `wp-source-ip` (or this) lands between the two
     * copies, so whichever copy a duplicate-key parser keeps, one of the two is the connection's address and
     * a smuggled one makes them differ (model/trust.ts quarantines that).
     */
    SourceIpEnd: "wp-source-ip-end",
    /** Set by `ops redrive --catch-all` on an unsealed message instead of wp-received-at: vouches for its original SentTimestamp (model/seal.ts). */
    Redrive: "wp-redrive",
} as const;

/** Attributes that decide how a request is treated; honoured only under a valid seal. */
export const SealedMarkers = [EnvelopeAttribute.Encoding, EnvelopeAttribute.Replay, EnvelopeAttribute.ReplayForce] as const;

export const HeaderAttributePrefix = "h.";
export const HeaderValuePrefix = "=";

export type BodyEncoding = "utf8" | "base64" | "s3";

export interface Envelope {
    readonly provider: string;
    readonly requestId: string;
    /** Epoch milliseconds when the edge received the request. */
    readonly receivedAt: number;
    readonly sourceIp: string;
    /** Public URL of the request (only for schemes that sign it). */
    readonly url?: string;
    /** Declared headers, lower-case names; a header the sender left out is absent. */
    readonly headers: Readonly<Record<string, string>>;
    /** Raw body bytes (for `s3` encoding, the JSON pointer until the router resolves it). */
    readonly body: Buffer;
    /**
     * `utf8` encoding: the message body the bytes were made from. utf8Text()
     * takes it instead of decoding the bytes again (the router's hot path).
     */
    readonly text?: string;
    readonly encoding: BodyEncoding;
    /** Archive key of the original request when this is a replay. */
    readonly replayOf?: string;
    /** With replayOf: the `replay --force` run id (the worker bypasses idempotency once per run). */
    readonly replayForce?: string;
    /** The `wp-seal` value, when the message carries one (checked by the router, model/seal.ts). */
    readonly seal?: string;
    /** The direct integration's second copy of the URL (wp-url-end), when present. */
    readonly urlEnd?: string;
    /** The direct integration's second copy of the source IP (wp-source-ip-end), when present. */
    readonly sourceIpEnd?: string;
    /** The `wp-redrive` attestation, when a catch-all redrive added one. */
    readonly redrive?: string;
    /** The SealedMarkers attributes the message carries (they count only under a valid seal). */
    readonly markers: readonly string[];
}

export interface EncodeOptions {
    /** Seal the message with this pipeline-internal key (the ingress function, replay, redrive): wp-seal instead of wp-received-at. */
    readonly sealKey?: string;
}

/** SQS message attribute in the SDK's shape. */
export interface SdkAttribute {
    DataType: "String" | "Number";
    StringValue: string;
}

/** SQS message attribute in the Lambda event's shape. */
export interface EventAttribute {
    dataType: string;
    stringValue?: string;
}

export interface EnvelopeMessage {
    readonly MessageBody: string;
    readonly MessageAttributes: Record<string, SdkAttribute>;
}

/** A message whose envelope cannot be read (an attribute missing or unknown): the router quarantines it as malformed-envelope. */
export interface EnvelopeError extends Error {
    readonly name: "EnvelopeError";
}

/** A plain Error named EnvelopeError, not a class: a class does not survive function serialization (model/errors.ts). */
export const envelopeError = (message: string): EnvelopeError => namedError("EnvelopeError", message);
export const isEnvelopeError = (err: unknown): err is EnvelopeError => isNamedError(err, "EnvelopeError");

/** A surrogate without its pair: a JS string can hold one, UTF-8 cannot. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF in a body. */
// eslint-disable-next-line no-control-regex
const sqsRefused = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * The body as text when its bytes are valid UTF-8 (they survive a round trip
 * through a string), else undefined. `madeFrom` is the string the bytes were
 * encoded from, when known (Envelope.text): it is the answer unless it holds a
 * lone surrogate, and saves decoding the bytes.
 */
export function utf8Text(body: Buffer, madeFrom?: string): string | undefined {
    if (madeFrom !== undefined && !loneSurrogate.test(madeFrom)) return madeFrom;
    return isUtf8(body) ? body.toString("utf8") : undefined;
}

/** True when text can be an SQS message body as it is. */
export function isSqsSafe(text: string): boolean {
    return !sqsRefused.test(text);
}

/** True when bytes survive a round trip through a UTF-8 string and are legal in an SQS body. */
export function isSqsSafeText(body: Buffer): boolean {
    const text = utf8Text(body);
    return text !== undefined && isSqsSafe(text);
}

/** Build the SQS message for a request, exactly as the API Gateway mapping would (plus encodings the ingress function may use). */
export function encodeEnvelope(
    envelope: Omit<Envelope, "encoding" | "markers" | "seal" | "urlEnd" | "sourceIpEnd" | "redrive"> & { encoding?: BodyEncoding },
    declaredHeaders: readonly string[],
    options: EncodeOptions = {},
): EnvelopeMessage {
    const encoding = envelope.encoding ?? (isSqsSafeText(envelope.body) ? "utf8" : "base64");
    const MessageBody = encoding === "base64" ? envelope.body.toString("base64") : envelope.body.toString("utf8");
    const replayForce = envelope.replayOf ? envelope.replayForce : undefined;
    const time: SdkAttribute =
        options.sealKey === undefined
            ? { DataType: "Number", StringValue: String(envelope.receivedAt) }
            : { DataType: "String", StringValue: sealEnvelope(options.sealKey, { ...envelope, url: envelope.url || undefined, encoding, replayOf: envelope.replayOf || undefined, replayForce: replayForce || undefined }, MessageBody) };
    const attributes: Record<string, SdkAttribute> = {
        [EnvelopeAttribute.Provider]: { DataType: "String", StringValue: envelope.provider },
        [EnvelopeAttribute.RequestId]: { DataType: "String", StringValue: envelope.requestId },
        [options.sealKey === undefined ? EnvelopeAttribute.ReceivedAt : EnvelopeAttribute.Seal]: time,
        [EnvelopeAttribute.SourceIp]: { DataType: "String", StringValue: envelope.sourceIp || "unknown" },
    };
    if (envelope.url) attributes[EnvelopeAttribute.Url] = { DataType: "String", StringValue: envelope.url };
    if (encoding !== "utf8") attributes[EnvelopeAttribute.Encoding] = { DataType: "String", StringValue: encoding };
    if (envelope.replayOf) attributes[EnvelopeAttribute.Replay] = { DataType: "String", StringValue: envelope.replayOf };
    if (envelope.replayOf && replayForce) attributes[EnvelopeAttribute.ReplayForce] = { DataType: "String", StringValue: replayForce };
    const headerNames = declaredHeaders.map((name) => name.toLowerCase());
    if (Object.keys(attributes).length + headerNames.length <= Limits.sqsMaxAttributes) {
        for (const name of headerNames) attributes[HeaderAttributePrefix + name] = { DataType: "String", StringValue: HeaderValuePrefix + (envelope.headers[name] ?? "") };
    } else {
        // Replay markers or an encoding next to many declared headers would pass SQS's 10 attributes: carry the headers as one.
        const headers = Object.fromEntries(headerNames.filter((name) => envelope.headers[name] !== undefined).map((name) => [name, envelope.headers[name]]));
        attributes[EnvelopeAttribute.Headers] = { DataType: "String", StringValue: JSON.stringify(headers) };
    }
    return { MessageBody, MessageAttributes: attributes };
}

/** Read an attribute from either the SDK's or the Lambda event's shape. */
function attr(attributes: Record<string, SdkAttribute | EventAttribute | undefined>, name: string): string | undefined {
    const a = attributes[name];
    if (!a) return undefined;
    return "StringValue" in a ? a.StringValue : a.stringValue;
}

/**
 * Parse a catch-all message (SDK `Message` or Lambda `SQSRecord` fields).
 * Throws EnvelopeError naming what is missing; the router quarantines such messages.
 */
export function decodeEnvelope(body: string, attributes: Record<string, SdkAttribute | EventAttribute | undefined> | undefined): Envelope {
    const a = attributes ?? {};
    const provider = attr(a, EnvelopeAttribute.Provider);
    if (!provider) throw envelopeError(`message attribute ${EnvelopeAttribute.Provider} is missing`);
    const requestId = attr(a, EnvelopeAttribute.RequestId) ?? "unknown";
    const seal = attr(a, EnvelopeAttribute.Seal);
    const stated = attr(a, EnvelopeAttribute.ReceivedAt);
    const receivedAt = stated !== undefined ? Number(stated) : seal !== undefined ? (sealedTime(seal) ?? 0) : 0;
    const encoding = (attr(a, EnvelopeAttribute.Encoding) ?? "utf8") as BodyEncoding;
    if (!["utf8", "base64", "s3"].includes(encoding)) throw envelopeError(`message attribute ${EnvelopeAttribute.Encoding} has unknown value "${encoding}"`);
    const headers: Record<string, string> = {};
    const packed = attr(a, EnvelopeAttribute.Headers);
    if (packed) {
        let value: unknown;
        try {
            value = JSON.parse(packed);
        } catch {
            throw envelopeError(`message attribute ${EnvelopeAttribute.Headers} is not a JSON object`);
        }
        if (!value || typeof value !== "object" || Array.isArray(value)) throw envelopeError(`message attribute ${EnvelopeAttribute.Headers} is not a JSON object`);
        for (const [name, v] of Object.entries(value)) if (typeof v === "string" && v !== "") headers[name.toLowerCase()] = v;
    }
    for (const name of Object.keys(a)) {
        if (!name.startsWith(HeaderAttributePrefix)) continue;
        const raw = attr(a, name) ?? "";
        const value = raw.startsWith(HeaderValuePrefix) ? raw.slice(HeaderValuePrefix.length) : raw;
        if (value !== "") headers[name.slice(HeaderAttributePrefix.length)] = value;
    }
    return {
        provider,
        requestId,
        receivedAt: Number.isFinite(receivedAt) ? receivedAt : 0,
        sourceIp: attr(a, EnvelopeAttribute.SourceIp) ?? "unknown",
        url: attr(a, EnvelopeAttribute.Url),
        headers,
        body: encoding === "base64" ? Buffer.from(body, "base64") : Buffer.from(body, "utf8"),
        ...(encoding === "utf8" ? { text: body } : {}),
        encoding,
        replayOf: attr(a, EnvelopeAttribute.Replay),
        replayForce: attr(a, EnvelopeAttribute.ReplayForce),
        seal,
        urlEnd: attr(a, EnvelopeAttribute.UrlEnd),
        sourceIpEnd: attr(a, EnvelopeAttribute.SourceIpEnd),
        redrive: attr(a, EnvelopeAttribute.Redrive),
        markers: SealedMarkers.filter((name) => a[name] !== undefined),
    };
}

/**
 * The `MessageAttributes` request parameter of the HTTP API SQS-SendMessage
 * integration for a provider route: the same attributes `encodeEnvelope`
 * produces, filled by API Gateway from the request context and headers.
 * `scheme` is `http` only for `npm start`'s stand-in, which serves plain HTTP. `checksSourceIp` (the
 * provider has `allowedSourceIps`) adds wp-source-ip-end after the headers (EnvelopeAttribute.SourceIpEnd).
 */
export function apiGatewayMessageAttributes(provider: string, declaredHeaders: readonly string[], signsUrl: boolean, scheme: "https" | "http" = "https", checksSourceIp = false): string {
    const attributes: Record<string, { DataType: string; StringValue: string }> = {
        [EnvelopeAttribute.Provider]: { DataType: "String", StringValue: provider },
        [EnvelopeAttribute.RequestId]: { DataType: "String", StringValue: "${context.requestId}" },
        [EnvelopeAttribute.ReceivedAt]: { DataType: "Number", StringValue: "${context.requestTimeEpoch}" },
        [EnvelopeAttribute.SourceIp]: { DataType: "String", StringValue: "${context.identity.sourceIp}" },
    };
    if (signsUrl) attributes[EnvelopeAttribute.Url] = { DataType: "String", StringValue: `${scheme}://\${context.domainName}\${context.path}` };
    for (const name of declaredHeaders) {
        attributes[HeaderAttributePrefix + name.toLowerCase()] = { DataType: "String", StringValue: `${HeaderValuePrefix}\${request.header.${name.toLowerCase()}}` };
    }
    // Last, after every header: see EnvelopeAttribute.UrlEnd.
    if (signsUrl) attributes[EnvelopeAttribute.UrlEnd] = attributes[EnvelopeAttribute.Url];
    if (checksSourceIp) attributes[EnvelopeAttribute.SourceIpEnd] = attributes[EnvelopeAttribute.SourceIp];
    return JSON.stringify(attributes);
}

/** What API Gateway knows of a request that the direct integration's template refers to. */
export interface EdgeRequest {
    readonly requestId: string;
    readonly requestTimeEpoch: number;
    readonly sourceIp: string;
    readonly domainName: string;
    readonly path: string;
    /** Lower-case names; a header the sender left out is absent. */
    readonly headers: Readonly<Record<string, string>>;
}

/**
 * The direct integration's template filled in for a request the way HTTP API parameter mapping does it
 * ("Create AWS service integrations for HTTP APIs in API Gateway": `$request.header.name`, names
 * case-insensitive, several values joined with commas; nothing there escapes a value for JSON):
 * plain text substitution, no escaping; an absent header becomes "" (if API Gateway refuses the request
 * instead, nothing is enqueued and the sender sees an error status: safe either way). The result is the
 * JSON text SQS receives, which need not parse (a header value with `"` or `\` can break it) and may
 * hold attribute names twice (a header value can add attributes).
 */
export function substituteEdgeTemplate(template: string, request: EdgeRequest): string {
    const context: Record<string, string> = {
        "context.requestId": request.requestId,
        "context.requestTimeEpoch": String(request.requestTimeEpoch),
        "context.identity.sourceIp": request.sourceIp,
        "context.domainName": request.domainName,
        "context.path": request.path,
    };
    return template.replace(/\$\{([a-zA-Z0-9._-]+)\}/g, (whole, name: string) => {
        if (name.startsWith("request.header.")) return request.headers[name.slice("request.header.".length)] ?? "";
        return context[name] ?? whole;
    });
}
