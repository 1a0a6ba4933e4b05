/**
 * Benchmark traffic: a pipeline in the emulator and realistic signed webhooks
 * for it, as API Gateway would put them on the catch-all queue.
 *
 * The default pipeline is the dev stack's (Pulumi.dev.yaml: Stripe with a
 * FIFO billing lane and a drop route, GitHub, Shopify, Slack, Svix on
 * Standard Webhooks, and a config-only HMAC partner), with generated secrets.
 * Bodies are realistic JSON (or form data for Twilio) padded to exactly
 * `bodyBytes` (2 KB by default) with words and random ids, so they compress
 * (gzip archive) and parse like real payloads; event types follow a fixed mix per provider
 * so routes, drops and lanes all see traffic. Traffic is deterministic for a
 * seed.
 */
import { randomBytes } from "crypto";
import { handlerNames } from "../handlers/app";
import type { InboundRecord } from "../handlers/router/router";
import { createLocalResources, LocalResources, localClients } from "../local/resources";
import { validateConfig } from "../model/config";
import { encodeEnvelope } from "../model/envelope";
import { buildPipelineModel, PipelineModel, ProviderModel } from "../model/pipeline";
import type { KafkaRuntime } from "../model/runtime-config";
import { readStackConfig, readStackFile, resolveStackFile } from "../model/stack-config";
import { getPlugin } from "../providers";
import { HmacSchemeOptions, PluginName } from "../providers/types";
import { prng, weighted } from "./stats";

export const DefaultBodyBytes = 2048;

/**
 * Share of traffic per provider of the dev stack: a payments provider
 * dominates, code hosting and commerce follow, the rest is a long tail.
 * Providers not listed here get weight 1.
 */
export const DevStackMix: Readonly<Record<string, number>> = { stripe: 40, github: 20, shopify: 15, svix: 10, acme: 10, slack: 5 };

export interface BenchPipeline {
    readonly prefix: string;
    readonly endpoint: string;
    readonly model: PipelineModel;
    /** Provider -> signing secrets (generated for the benchmark). */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    readonly resources: LocalResources;
    /** The pipeline-internal key: traffic of providers behind the ingress function is sealed with it, as that function seals it. */
    readonly sealKey: string;
}

/** The dev stack's `webhook-pipeline:*` values (secure values are replaced by generated secrets later). */
export function devStackValues(root: string): Record<string, unknown> {
    const { config } = readStackFile(resolveStackFile("dev", { root }).file);
    return readStackConfig(config, () => true).values;
}

function generatedSecret(plugin: PluginName): string {
    return plugin === PluginName.StandardWebhooks ? `whsec_${randomBytes(24).toString("base64")}` : `bench_${randomBytes(16).toString("hex")}`;
}

/**
 * Validate `values` (stack config shape), give each provider a secret (from
 * `secrets`, else a fresh one), and create its queues, bucket, table and
 * secrets in the emulator. Pipelines with Kafka lanes need `kafka` (the
 * brokers the router publishes to; topics are created on first use).
 */
export async function createBenchPipeline(
    endpoint: string,
    values: Record<string, unknown>,
    prefix: string,
    secrets?: Readonly<Record<string, readonly string[]>>,
    kafka?: KafkaRuntime,
    sealKey: string = randomBytes(32).toString("base64"),
): Promise<BenchPipeline> {
    const providers = (values.providers as Record<string, unknown>[]).map((p): Record<string, unknown> & { secret: string[] } => ({ ...p, secret: [...(secrets?.[String(p.name)] ?? [generatedSecret(p.plugin as PluginName)])] }));
    const result = validateConfig({ ...values, providers }, { handlers: handlerNames });
    if (!result.ok) throw new Error(`benchmark pipeline config is invalid:\n  - ${result.problems.join("\n  - ")}`);
    const model = buildPipelineModel(result.config, prefix);
    const used = Object.fromEntries(providers.map((p) => [String(p.name), p.secret]));
    const clients = localClients(endpoint);
    const resources = await createLocalResources(model, used, clients, { prefix, kafka, sealKey });
    for (const client of Object.values(clients)) client.destroy();
    return { prefix, endpoint, model, secrets: used, resources, sealKey };
}

/** Event types per plugin with their weights, and how each is put into a request. */
interface EventShape {
    /** JSON body fields (before padding), or form fields for Twilio. */
    readonly body: Record<string, unknown>;
    /** Unsigned headers that carry the event type (GitHub, Shopify). */
    readonly headers?: Record<string, string>;
}

type ShapeFactory = (n: number, id: string, random: () => number) => EventShape;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)];

function stripeShape(_n: number, id: string, random: () => number): EventShape {
    const type = weighted({ "payment_intent.succeeded": 35, "charge.succeeded": 20, "invoice.paid": 20, "customer.subscription.updated": 20, "radar.early_fraud_warning.created": 5 }, random);
    const customer = `cus_${Math.floor(random() * 500).toString(36).padStart(6, "0")}`;
    return { body: { id: `evt_${id}`, object: "event", api_version: "2024-06-20", created: 1732370000, type, livemode: true, data: { object: { id: `obj_${id}`, customer, amount: 2000, currency: "usd", status: "succeeded" } } } };
}

function githubShape(_n: number, id: string, random: () => number): EventShape {
    const event = weighted({ push: 50, pull_request: 30, issues: 15, ping: 5 }, random);
    const repo = pick(["octocat/Hello-World", "acme/api", "acme/web", "acme/infra"], random);
    const body: Record<string, unknown> = event === "ping" ? { zen: "Keep it logically awesome.", hook_id: id } : { ref: "refs/heads/main", after: id, repository: { id: 1296269, full_name: repo }, sender: { login: "octocat" } };
    if (event === "pull_request" || event === "issues") body.action = "opened";
    return { body, headers: { "X-GitHub-Event": event } };
}

function shopifyShape(n: number, _id: string, random: () => number): EventShape {
    const topic = weighted({ "orders/create": 45, "orders/paid": 35, "products/update": 20 }, random);
    return { body: { id: 820982911946154500 + n, email: "jon@example.com", total_price: "199.00", currency: "USD", line_items: [{ id: 1, title: "IPod Nano", quantity: 1 }] }, headers: { "X-Shopify-Topic": topic } };
}

function slackShape(_n: number, id: string, random: () => number): EventShape {
    const type = weighted({ message: 70, app_mention: 25, reaction_added: 5 }, random);
    return { body: { token: "XXYYZZ", team_id: pick(["T123ABC456", "T987XYZ654"], random), api_app_id: "A123ABC456", type: "event_callback", event_id: `Ev${id}`, event_time: 1732370000, event: { type, user: "U123ABC456", text: "hello", channel: "C123ABC456" } } };
}

function standardWebhooksShape(_n: number, id: string, random: () => number): EventShape {
    const type = weighted({ "invoice.paid": 40, "user.created": 30, "email.delivered": 30 }, random);
    return { body: { type, timestamp: "2026-11-23T12:00:00Z", data: { id: `obj_${id}`, amount: 4200, currency: "EUR" } } };
}

function razorpayShape(_n: number, id: string, random: () => number): EventShape {
    const event = weighted({ "payment.captured": 60, "order.paid": 40 }, random);
    return { body: { entity: "event", account_id: "acc_BFQ7uQEaa7j2z7", event, payload: { payment: { entity: { id: `pay_${id}`, amount: 50000, currency: "INR" } } } } };
}

function twilioShape(_n: number, id: string, random: () => number): EventShape {
    const status = weighted({ sent: 30, delivered: 60, failed: 10 }, random);
    return { body: { MessageSid: `SM${id}`, MessageStatus: status, AccountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", From: "+15017122661", To: "+15558675310" } };
}

function hmacShape(hmac: HmacSchemeOptions | undefined): ShapeFactory {
    return (_n, id, random) => {
        const body: Record<string, unknown> = {};
        const set = (path: string | undefined, value: unknown) => {
            if (!path) return;
            const parts = path.split(".");
            let at = body;
            for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
            at[parts[parts.length - 1]] = value;
        };
        set(hmac?.eventIdPath ?? "id", `evt_${id}`);
        set(hmac?.eventTypePath ?? "type", weighted({ "order.created": 60, "order.updated": 40 }, random));
        set(hmac?.orderingKeyPath, `acct_${Math.floor(random() * 50)}`);
        body.data = { total: 1999, currency: "USD" };
        return { body };
    };
}

function shapeFor(provider: ProviderModel): ShapeFactory {
    switch (provider.plugin) {
        case PluginName.Stripe:
            return stripeShape;
        case PluginName.GitHub:
            return githubShape;
        case PluginName.Shopify:
            return shopifyShape;
        case PluginName.Slack:
            return slackShape;
        case PluginName.StandardWebhooks:
            return standardWebhooksShape;
        case PluginName.Razorpay:
            return razorpayShape;
        case PluginName.Twilio:
            return twilioShape;
        case PluginName.Hmac:
            return hmacShape(provider.hmac);
    }
}

/** Words for padding: payload text that compresses like real webhook JSON, not like a run of one letter. */
const Vocabulary = (
    "customer account amount currency status created updated pending active paid order invoice payment subscription item quantity price " +
    "description email address line city country postal shipping billing tax total discount coupon product variant sku inventory " +
    "repository branch commit author message label milestone review comment user team channel event object livemode metadata note"
).split(" ");

/** `length` characters of words and random ids (letters, digits, spaces: safe in JSON and forms). */
export function fillerText(length: number, random: () => number): string {
    let out = "";
    while (out.length < length) {
        const token = random() < 0.85 ? Vocabulary[Math.floor(random() * Vocabulary.length)] : Math.floor(random() * 2 ** 52).toString(36);
        out += (out ? " " : "") + token;
    }
    return out.slice(0, length);
}

/** Serialize and pad to exactly `bytes` (text in a `padding` field, or a form field for Twilio). */
export function paddedBody(shape: EventShape, form: boolean, bytes: number, random: () => number): Buffer {
    const encode = (pad: string) => (form ? new URLSearchParams({ ...(shape.body as Record<string, string>), Body: pad }).toString() : JSON.stringify({ ...shape.body, padding: pad }));
    const missing = bytes - Buffer.byteLength(encode(""));
    if (missing < 0) throw new Error(`benchmark body is already ${bytes - missing} bytes, more than ${bytes}`);
    const body = Buffer.from(encode(fillerText(missing, random)));
    if (body.length !== bytes) throw new Error(`padded body is ${body.length} bytes, wanted ${bytes}`);
    return body;
}

export interface TrafficOptions {
    readonly count: number;
    /** Provider -> weight. @default DevStackMix for its providers, 1 for any other */
    readonly mix?: Readonly<Record<string, number>>;
    /** @default 1 */
    readonly seed?: number;
    /** Signing and receive time, ms. @default Date.now() */
    readonly now?: number;
    /** @default 2048 */
    readonly bodyBytes?: number;
    /** Prefix of event and request ids, so runs never share ids. @default "r" */
    readonly runTag?: string;
}

export interface Traffic {
    readonly records: InboundRecord[];
    /** Provider -> webhooks generated. */
    readonly byProvider: Record<string, number>;
    readonly now: number;
}

/** One signed webhook as the provider sends it over HTTP. */
export interface SignedRequest {
    readonly provider: string;
    /** `/webhooks/<provider>`. */
    readonly path: string;
    /** The signature headers and any unsigned ones the provider sends (lower-case names). */
    readonly headers: Record<string, string>;
    readonly body: Buffer;
    /** The id the benchmark gave the request (`<runTag><n>`), used in its event id and request id. */
    readonly id: string;
}

export interface SignedRequests {
    readonly requests: SignedRequest[];
    readonly byProvider: Record<string, number>;
    readonly now: number;
}

/**
 * Signed webhooks for `pipeline`'s providers, as HTTP requests. Providers
 * that sign the URL (Twilio) are signed for `baseUrl` + their path.
 */
export function makeRequests(pipeline: Pick<BenchPipeline, "model" | "secrets">, options: TrafficOptions & { readonly baseUrl?: string }): SignedRequests {
    const random = prng(options.seed ?? 1);
    const now = options.now ?? Date.now();
    const bytes = options.bodyBytes ?? DefaultBodyBytes;
    const tag = options.runTag ?? "r";
    const baseUrl = options.baseUrl ?? "https://hooks.example.com";
    const providers = pipeline.model.providers;
    const weights = Object.fromEntries(providers.map((p) => [p.name, options.mix?.[p.name] ?? DevStackMix[p.name] ?? 1]));
    const byName = Object.fromEntries(providers.map((p) => [p.name, { provider: p, plugin: getPlugin(p.plugin, p.hmac), shape: shapeFor(p) }]));
    const requests: SignedRequest[] = [];
    const byProvider: Record<string, number> = {};
    for (let n = 0; n < options.count; n++) {
        const name = weighted(weights, random);
        const { provider, plugin, shape } = byName[name];
        const id = `${tag}${n.toString(36).padStart(6, "0")}`;
        const event = shape(n, id, random);
        const body = paddedBody(event, provider.plugin === PluginName.Twilio, bytes, random);
        const signed = { ...plugin.sign(body, pipeline.secrets[name][0], now, `${baseUrl}${provider.path}`), ...(event.headers ?? {}) };
        const headers = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));
        requests.push({ provider: name, path: provider.path, headers, body, id });
        byProvider[name] = (byProvider[name] ?? 0) + 1;
    }
    return { requests, byProvider, now };
}

/** Signed webhooks for `pipeline`, as catch-all messages (body + message attributes) in the router's input shape. */
export function makeTraffic(pipeline: Pick<BenchPipeline, "model" | "secrets" | "sealKey">, options: TrafficOptions): Traffic {
    const baseUrl = "https://hooks.example.com";
    const { requests, byProvider, now } = makeRequests(pipeline, { ...options, baseUrl });
    const providers = Object.fromEntries(pipeline.model.providers.map((p) => [p.name, p]));
    const records = requests.map((r): InboundRecord => {
        const provider = providers[r.provider];
        // Providers behind the ingress function (Slack, Twilio) arrive sealed by it.
        const message = encodeEnvelope(
            { provider: r.provider, requestId: `req-${r.id}`, receivedAt: now, sourceIp: "203.0.113.7", url: provider.signsUrl ? `${baseUrl}${provider.path}` : undefined, headers: r.headers, body: r.body },
            provider.headers,
            { sealKey: provider.ingress === "function" ? pipeline.sealKey : undefined },
        );
        return { messageId: `msg-${r.id}`, body: message.MessageBody, attributes: message.MessageAttributes };
    });
    return { records, byProvider, now };
}
