/**
 * The bad-input corpus: requests a hostile or broken sender could make, each
 * with its defined outcome. The drill sends every case to the running
 * pipeline, then checks the outcome: the HTTP answer, and for acknowledged
 * requests where they ended up, found by the request id of the answer in the
 * archive (quarantine/ with its reason, or raw/) and in the handler journal
 * (processed once, with the exact bytes; or not called again: a duplicate).
 *
 * Outcomes:
 *   refused       answered 4xx by the HTTP ingress (or Node's HTTP parser); nothing enqueued
 *   quarantined   answered 200, then quarantined by the router with the reason; never processed
 *   processed     answered 200, verified, processed exactly once with the exact bytes
 *   duplicate     answered 200, archived, and skipped by the worker: the event id was processed before
 *   handshake     the provider's challenge answered; nothing enqueued
 */
import { randomBytes } from "crypto";
import { maxLocalBodyBytes } from "../local/http-ingress";
import type { ProviderModel } from "../model/pipeline";
import { hmac } from "../providers/crypto";
import { standardWebhooksKey } from "../providers/standard-webhooks";
import { RejectReason } from "../providers/types";
import { Answer, httpRequest, rawRequest } from "./http";
import type { DrillWebhook, WebhookFactory } from "./traffic";

export type Expected =
    | { readonly status: 200; readonly outcome: "quarantined"; readonly reason: string }
    | { readonly status: 200; readonly outcome: "processed" }
    | { readonly status: 200; readonly outcome: "duplicate" }
    | { readonly status: 200; readonly outcome: "handshake"; readonly body: string }
    | { readonly status: number; readonly outcome: "refused" };

export interface CorpusContext {
    readonly baseUrl: string;
    readonly providers: Readonly<Record<string, ProviderModel>>;
    readonly secrets: Readonly<Record<string, string>>;
    readonly factory: WebhookFactory;
    /** An acknowledged drill webhook of this provider that was processed, to deliver again. */
    readonly processed: (provider: string) => DrillWebhook;
    readonly runId: string;
}

/** What a case sends, and what the checks need to know about it. */
export interface CorpusRequest {
    readonly provider?: string;
    /** The event id the provider's plugin reads (processed and duplicate cases). */
    readonly eventId?: string;
    /** SHA-256 of the body (processed cases: the handler must get these bytes). */
    readonly sha256?: string;
    send(): Promise<Answer>;
}

export interface CorpusCase {
    readonly id: string;
    /** What is sent, for the README table. */
    readonly input: string;
    readonly expect: Expected;
    build(ctx: CorpusContext): CorpusRequest;
}

/** `200, quarantined: bad-signature` */
export function describeExpected(e: Expected): string {
    switch (e.outcome) {
        case "quarantined":
            return `${e.status}, quarantined: ${e.reason}`;
        case "handshake":
            return `${e.status}, challenge answered, not enqueued`;
        case "refused":
            return `${e.status}, not enqueued`;
        default:
            return `${e.status}, ${e.outcome}`;
    }
}

const post = (w: Pick<DrillWebhook, "url" | "headers" | "body">, extra: { headers?: Record<string, string>; drop?: string[]; url?: string } = {}) => {
    const headers = Object.fromEntries(Object.entries({ ...w.headers, ...extra.headers }).filter(([k]) => !(extra.drop ?? []).some((d) => d.toLowerCase() === k.toLowerCase())));
    return httpRequest(extra.url ?? w.url, { headers, body: w.body });
};

/** A signed webhook for a corpus case: event id `<run>-corpus-<case>`. */
function signed(ctx: CorpusContext, provider: string, key: string, options: { now?: number; secret?: string; body?: Buffer } = {}): DrillWebhook {
    return ctx.factory(ctx.providers[provider], 0, { ...options, id: `${ctx.runId}-corpus-${key}` });
}

const accepted = (w: DrillWebhook): CorpusRequest => ({ provider: w.provider, eventId: w.eventId, sha256: w.sha256, send: () => post(w) });
const sentAs = (w: DrillWebhook, send: () => Promise<Answer>): CorpusRequest => ({ provider: w.provider, eventId: w.eventId, sha256: w.sha256, send });

/** Request line and headers of a webhook for rawRequest, with `lines` added. */
function rawHead(w: DrillWebhook, headers: Record<string, string>, lines: string[]): string {
    const { pathname, host } = new URL(w.url);
    return [`POST ${pathname} HTTP/1.1`, `Host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), ...lines].join("\r\n");
}

const tenMinutes = 10 * 60_000;
const oneHour = 60 * 60_000;

export const corpus: readonly CorpusCase[] = [
    // Forged signatures: acknowledged (the edge cannot verify), quarantined by the router, never processed.
    {
        id: "forged-github",
        input: "github webhook signed with the wrong secret",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.BadSignature },
        build: (ctx) => accepted(signed(ctx, "github", "forged-github", { secret: "not-the-secret" })),
    },
    {
        id: "forged-stripe",
        input: "stripe webhook signed with the wrong secret",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.BadSignature },
        build: (ctx) => accepted(signed(ctx, "stripe", "forged-stripe", { secret: "whsec_wrong" })),
    },
    {
        id: "forged-standard-webhooks",
        input: "Standard Webhooks (svix) signed with another whsec_ key",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.BadSignature },
        build: (ctx) => accepted(signed(ctx, "svix", "forged-svix", { secret: `whsec_${randomBytes(24).toString("base64")}` })),
    },
    {
        id: "forged-twilio-url",
        input: "twilio webhook signed for another URL",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.BadSignature },
        build: (ctx) => {
            const w = signed(ctx, "twilio", "forged-twilio");
            const elsewhere = ctx.factory.plugins.twilio.sign(w.body, ctx.secrets.twilio, Date.now(), `${ctx.baseUrl}/webhooks/elsewhere`);
            return accepted({ ...w, headers: { ...w.headers, ...elsewhere } });
        },
    },
    {
        id: "forged-body-swapped",
        input: "shopify: a valid signature with another body",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.BadSignature },
        build: (ctx) => {
            const w = signed(ctx, "shopify", "swapped");
            return accepted({ ...w, body: Buffer.from(w.body.toString("utf8").replace("199.00", "0.01")) });
        },
    },
    // Stale and future timestamps, correctly signed.
    {
        id: "stale-stripe",
        input: "stripe webhook signed 1 hour ago (tolerance 300 s)",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.Stale },
        build: (ctx) => accepted(signed(ctx, "stripe", "stale-stripe", { now: Date.now() - oneHour })),
    },
    {
        id: "future-stripe",
        input: "stripe webhook signed 1 hour in the future",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.Stale },
        build: (ctx) => accepted(signed(ctx, "stripe", "future-stripe", { now: Date.now() + oneHour })),
    },
    {
        id: "stale-slack",
        input: "slack event signed 10 minutes ago",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.Stale },
        build: (ctx) => accepted(signed(ctx, "slack", "stale-slack", { now: Date.now() - tenMinutes })),
    },
    {
        id: "stale-standard-webhooks",
        input: "Standard Webhooks (svix) signed 10 minutes ago",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.Stale },
        build: (ctx) => accepted(signed(ctx, "svix", "stale-svix", { now: Date.now() - tenMinutes })),
    },
    {
        id: "stale-hmac",
        input: "hmac provider (acme) with a timestamp 10 minutes old",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.Stale },
        build: (ctx) => accepted(signed(ctx, "acme", "stale-acme", { now: Date.now() - tenMinutes })),
    },
    // Missing and malformed signature headers.
    {
        id: "missing-signature",
        input: "shopify webhook without X-Shopify-Hmac-Sha256",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MissingSignature },
        build: (ctx) => {
            const w = signed(ctx, "shopify", "missing-signature");
            return sentAs(w, () => post(w, { drop: ["X-Shopify-Hmac-Sha256"] }));
        },
    },
    {
        id: "missing-timestamp",
        input: "slack event without X-Slack-Request-Timestamp",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MissingSignature },
        build: (ctx) => {
            const w = signed(ctx, "slack", "missing-timestamp");
            return sentAs(w, () => post(w, { drop: ["X-Slack-Request-Timestamp"] }));
        },
    },
    {
        id: "missing-all-headers",
        input: "razorpay body with no headers at all",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MissingSignature },
        build: (ctx) => {
            const w = signed(ctx, "razorpay", "no-headers");
            return sentAs(w, () => httpRequest(w.url, { body: w.body }));
        },
    },
    {
        id: "missing-hmac-timestamp",
        input: "hmac provider (acme) without its X-Acme-Timestamp",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MissingSignature },
        build: (ctx) => {
            const w = signed(ctx, "acme", "missing-ts");
            return sentAs(w, () => post(w, { drop: ["X-Acme-Timestamp"] }));
        },
    },
    {
        id: "malformed-stripe-signature",
        input: "Stripe-Signature: t=abc,v1=zz",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MalformedSignature },
        build: (ctx) => {
            const w = signed(ctx, "stripe", "malformed-stripe");
            return sentAs(w, () => post(w, { headers: { "Stripe-Signature": "t=abc,v1=zz" } }));
        },
    },
    {
        id: "malformed-github-signature",
        input: "X-Hub-Signature-256: sha1=<hex> (wrong prefix)",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MalformedSignature },
        build: (ctx) => {
            const w = signed(ctx, "github", "malformed-github");
            return sentAs(w, () => post(w, { headers: { "X-Hub-Signature-256": `sha1=${"ab".repeat(20)}` } }));
        },
    },
    {
        id: "signature-8kb",
        input: "github with an 8 KB garbage X-Hub-Signature-256",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MalformedSignature },
        build: (ctx) => {
            const w = signed(ctx, "github", "sig-8k");
            return sentAs(w, () => post(w, { headers: { "X-Hub-Signature-256": `sha256=${"zz".repeat(4096)}` } }));
        },
    },
    // Header values that break or extend the direct integration's MessageAttributes template (plain substitution).
    {
        id: "header-smuggles-replay",
        input: "acme: a valid signature header that closes its attribute and adds wp-replay and wp-replay-force",
        expect: { status: 200, outcome: "quarantined", reason: "untrusted-envelope" },
        build: (ctx) => {
            const w = signed(ctx, "acme", "smuggled-replay");
            const sig = w.headers["X-Acme-Signature"];
            const smuggled = `${sig}"},"wp-replay":{"DataType":"String","StringValue":"raw/provider=acme/x#0"},"wp-replay-force":{"DataType":"String","StringValue":"run"},"h.x-pad":{"DataType":"String","StringValue":"=`;
            return sentAs(w, () => post(w, { headers: { "X-Acme-Signature": smuggled } }));
        },
    },
    {
        id: "header-breaks-template",
        input: 'acme: a signature header ending in `"` (the filled-in template is not JSON: the queue refuses it)',
        expect: { status: 400, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "acme", "quote");
            return sentAs(w, () => post(w, { headers: { "X-Acme-Signature": `${w.headers["X-Acme-Signature"]}"` } }));
        },
    },
    // Repeated headers, on the wire (a client library would merge them first).
    {
        id: "duplicated-signature-header",
        input: "X-Hub-Signature-256 twice: the valid one and garbage (joined with a comma, as API Gateway does)",
        expect: { status: 200, outcome: "quarantined", reason: RejectReason.MalformedSignature },
        build: (ctx) => {
            const w = signed(ctx, "github", "dup-sig");
            const { "X-Hub-Signature-256": sig, ...rest } = w.headers;
            return sentAs(w, () => rawRequest(w.url, rawHead(w, { ...rest, "Content-Length": String(w.body.length) }, [`X-Hub-Signature-256: ${sig}`, `X-Hub-Signature-256: sha256=${"00".repeat(32)}`]), w.body));
        },
    },
    {
        id: "duplicated-stripe-signature",
        input: "Stripe-Signature twice with the same valid value (any v1 may match)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => {
            const w = signed(ctx, "stripe", "dup-stripe-sig");
            const { "Stripe-Signature": sig, ...rest } = w.headers;
            return sentAs(w, () => rawRequest(w.url, rawHead(w, { ...rest, "Content-Length": String(w.body.length) }, [`Stripe-Signature: ${sig}`, `Stripe-Signature: ${sig}`]), w.body));
        },
    },
    {
        id: "duplicated-event-id-header",
        input: "shopify with X-Shopify-Webhook-Id twice, `a` and `a-b` (joined with a comma: one event, id `a, a-b`)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => {
            const w = signed(ctx, "shopify", "dup-id");
            const { "X-Shopify-Webhook-Id": id, ...rest } = w.headers;
            const lower = Object.fromEntries(Object.entries({ ...rest, "x-shopify-webhook-id": `${id}, ${id}-b` }).map(([k, v]) => [k.toLowerCase(), v]));
            const eventId = ctx.factory.plugins.shopify.facts({ headers: lower, body: w.body, url: w.url }).eventId;
            return {
                provider: w.provider,
                eventId,
                sha256: w.sha256,
                send: () => rawRequest(w.url, rawHead(w, { ...rest, "Content-Length": String(w.body.length) }, [`X-Shopify-Webhook-Id: ${id}`, `X-Shopify-Webhook-Id: ${id}-b`]), w.body),
            };
        },
    },
    {
        id: "conflicting-content-length",
        input: "two Content-Length headers with different values",
        expect: { status: 400, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "dup-cl");
            return { send: () => rawRequest(w.url, rawHead(w, w.headers, [`Content-Length: ${w.body.length}`, `Content-Length: ${w.body.length + 1}`]), w.body) };
        },
    },
    {
        id: "nul-in-header",
        input: "a header value with a NUL byte",
        expect: { status: 400, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "nul");
            return { send: () => rawRequest(w.url, rawHead(w, { ...w.headers, "Content-Length": String(w.body.length) }, ["X-Note: a\u0000b"]), w.body) };
        },
    },
    {
        id: "broken-chunked-body",
        input: "Transfer-Encoding: chunked with a chunk size that is not hex",
        expect: { status: 400, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "chunked");
            return { send: () => rawRequest(w.url, rawHead(w, w.headers, ["Transfer-Encoding: chunked"]), Buffer.from("zz\r\nhello\r\n0\r\n\r\n")) };
        },
    },
    {
        id: "header-64kb",
        input: "a 64 KB header value (Node's limit is 16 KB of headers)",
        expect: { status: 431, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "long-header");
            return { send: () => rawRequest(w.url, rawHead(w, { ...w.headers, "Content-Length": String(w.body.length) }, [`X-Hub-Signature-256: sha256=${"a".repeat(64 * 1024)}`]), w.body) };
        },
    },
    // Bodies.
    {
        id: "malformed-json-github",
        input: "github: truncated JSON, correctly signed (the signature covers bytes; the id is a header)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => accepted(signed(ctx, "github", "bad-json", { body: Buffer.from('{"ref":"refs/heads/main","commits":[{"id":') })),
    },
    {
        id: "malformed-json-stripe",
        input: "stripe: truncated JSON, correctly signed (no id in the body: the id is the body's SHA-256)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => accepted(signed(ctx, "stripe", "bad-json", { body: Buffer.from(`{"id":"evt_${ctx.runId}_broken","type":`) })),
    },
    {
        id: "non-utf8-body",
        input: "razorpay (direct route): 2 KB of bytes that are not UTF-8, correctly signed (the direct integration carries text only; ingress: function carries any bytes)",
        expect: { status: 415, outcome: "refused" },
        build: (ctx) => accepted(signed(ctx, "razorpay", "non-utf8", { body: Buffer.from(Array.from({ length: 2048 }, (_, i) => 0x80 + ((i * 37) % 128))) })),
    },
    {
        id: "non-utf8-forged",
        input: "shopify (direct route): bytes that are not UTF-8, wrong signature",
        expect: { status: 415, outcome: "refused" },
        build: (ctx) => accepted(signed(ctx, "shopify", "non-utf8-forged", { secret: "wrong", body: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1]) })),
    },
    {
        id: "sqs-unsafe-text",
        input: "acme (direct route): valid UTF-8 JSON holding U+0001 and U+FFFF (text SQS refuses), correctly signed",
        expect: { status: 415, outcome: "refused" },
        build: (ctx) => accepted(signed(ctx, "acme", "unsafe", { body: Buffer.from(JSON.stringify({ id: `evt_${ctx.runId}_unsafe`, type: "order.created", note: "a\u0001b\uffffc", account: { id: "acct_1" } })) })),
    },
    {
        id: "empty-body",
        input: "github: empty body, correctly signed",
        expect: { status: 400, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "empty", { body: Buffer.alloc(0) });
            return { send: () => post(w) };
        },
    },
    {
        id: "large-body",
        input: "github: 600 KB JSON body, correctly signed (over the lane's inline limit: claim check)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => accepted(signed(ctx, "github", "large", { body: Buffer.from(JSON.stringify({ ref: "refs/heads/main", padding: "x".repeat(600 * 1024) })) })),
    },
    {
        id: "oversized-body",
        input: `shopify: body of ${maxLocalBodyBytes + 1} bytes (over what an SQS message can carry)`,
        expect: { status: 413, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "shopify", "oversized", { body: Buffer.alloc(maxLocalBodyBytes + 1, 0x61) });
            return { send: () => post(w) };
        },
    },
    {
        id: "extra-headers",
        input: "github with 100 extra headers nobody declared (dropped by the edge mapping)",
        expect: { status: 200, outcome: "processed" },
        build: (ctx) => {
            const w = signed(ctx, "github", "extra-headers");
            const extra = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`X-Extra-${i}`, `value-${i}`]));
            return sentAs(w, () => post(w, { headers: extra }));
        },
    },
    // Routing.
    {
        id: "unknown-provider",
        input: "POST /webhooks/nobody",
        expect: { status: 404, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "unknown");
            return { send: () => post(w, { url: `${ctx.baseUrl}/webhooks/nobody` }) };
        },
    },
    {
        id: "unknown-path",
        input: "POST /hooks/github",
        expect: { status: 404, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "github", "unknown-path");
            return { send: () => post(w, { url: `${ctx.baseUrl}/hooks/github` }) };
        },
    },
    {
        id: "wrong-method",
        input: "GET /webhooks/github",
        expect: { status: 405, outcome: "refused" },
        build: (ctx) => ({ send: () => httpRequest(`${ctx.baseUrl}/webhooks/github`, { method: "GET" }) }),
    },
    // Handshakes.
    {
        id: "slack-challenge",
        input: "slack url_verification, correctly signed",
        expect: { status: 200, outcome: "handshake", body: "drill-challenge" },
        build: (ctx) => {
            const w = signed(ctx, "slack", "challenge", { body: Buffer.from(JSON.stringify({ token: "x", challenge: "drill-challenge", type: "url_verification" })) });
            return { send: () => post(w) };
        },
    },
    {
        id: "slack-challenge-forged",
        input: "slack url_verification with the wrong secret",
        expect: { status: 401, outcome: "refused" },
        build: (ctx) => {
            const w = signed(ctx, "slack", "challenge-forged", { secret: "wrong", body: Buffer.from(JSON.stringify({ token: "x", challenge: "drill-challenge", type: "url_verification" })) });
            return { send: () => post(w) };
        },
    },
    // Replays: the same event again, as providers retry.
    {
        id: "replayed-delivery",
        input: "github: an acknowledged and processed webhook, byte for byte again",
        expect: { status: 200, outcome: "duplicate" },
        build: (ctx) => accepted(ctx.processed("github")),
    },
    {
        id: "replayed-resigned",
        input: "stripe: a processed event re-signed with a fresh timestamp (a provider retry)",
        expect: { status: 200, outcome: "duplicate" },
        build: (ctx) => {
            const original = ctx.processed("stripe");
            return accepted(ctx.factory(ctx.providers.stripe, original.index, { body: original.body }));
        },
    },
    {
        id: "replayed-standard-webhooks",
        input: "svix: a processed message sent again as Standard Webhooks retries are: same webhook-id and body, fresh timestamp and signature",
        expect: { status: 200, outcome: "duplicate" },
        build: (ctx) => {
            const original = ctx.processed("svix");
            const id = original.headers["webhook-id"];
            const ts = String(Math.floor(Date.now() / 1000));
            const signature = `v1,${hmac("sha256", standardWebhooksKey(ctx.secrets.svix), `${id}.${ts}.`, original.body).toString("base64")}`;
            return accepted({ ...original, headers: { ...original.headers, "webhook-timestamp": ts, "webhook-signature": signature } });
        },
    },
];
