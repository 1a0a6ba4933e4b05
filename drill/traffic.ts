/**
 * The drill's webhooks and the sender that delivers them the way a provider
 * does: each webhook signed by its provider's plugin (`sample` + `sign`) with
 * an event id unique to the run, POSTed to the local pipeline, and sent again
 * after a 5xx or a broken connection (a 503 is not an acknowledgement), with
 * backoff, until it is answered 200 or the deadline passes.
 */
import { createHash } from "crypto";
import type { ProviderModel } from "../model/pipeline";
import { getPlugin } from "../providers";
import { PluginName, ProviderPlugin } from "../providers/types";

export interface DrillWebhook {
    readonly index: number;
    readonly provider: string;
    /** The event id the plugin reads from the request (the idempotency key). */
    readonly eventId: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Buffer;
    readonly sha256: string;
}

export interface Delivery {
    readonly webhook: DrillWebhook;
    /** Request ids of the answers 200 (normally one; more if an answer was lost and the request sent again). */
    readonly acceptedRequestIds: string[];
    /** HTTP statuses of every attempt (0: no answer). */
    readonly statuses: number[];
    /** Time of the first acknowledgement, epoch ms. */
    ackedAt?: number;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A JSON sample with fields set (dot paths), re-serialized. */
function withJson(sample: Buffer, set: Record<string, unknown>): Buffer {
    const value = JSON.parse(sample.toString("utf8")) as Record<string, unknown>;
    for (const [path, v] of Object.entries(set)) {
        const keys = path.split(".");
        let at: Record<string, unknown> = value;
        for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
        at[keys[keys.length - 1]] = v;
    }
    return Buffer.from(JSON.stringify(value));
}

/**
 * How each scheme carries the event id: in the body (set before signing) or in
 * an unsigned header (set after). Standard Webhooks signs its id, which
 * `sign` draws itself: the drill reads it back from the request.
 */
const stamp: Record<PluginName, { body?: (sample: Buffer, id: string, index: number) => Buffer; header?: string }> = {
    [PluginName.Stripe]: {
        // Eight customers (ordering keys, FIFO message groups); one event in four is billing's. The index is
        // hashed: webhooks go round-robin over the providers, so a provider's indexes share their remainders.
        body: (s, id, i) => {
            const h = Math.imul(i + 1, 2654435761) >>> 0;
            return withJson(s, { id: `evt_${id}`, "data.object.customer": `cus_drill${h >>> 29}`, ...(((h >>> 16) & 3) === 3 ? { type: "invoice.paid" } : {}) });
        },
    },
    [PluginName.GitHub]: { header: "X-GitHub-Delivery" },
    [PluginName.Shopify]: { header: "X-Shopify-Webhook-Id" },
    [PluginName.Slack]: { body: (s, id) => withJson(s, { event_id: `Ev${id}` }) },
    [PluginName.Twilio]: {
        body: (s, id) => {
            const form = new URLSearchParams(s.toString("utf8"));
            form.set("MessageSid", `SM${id}`);
            return Buffer.from(form.toString());
        },
    },
    [PluginName.Razorpay]: { header: "X-Razorpay-Event-Id" },
    [PluginName.StandardWebhooks]: {},
    [PluginName.Hmac]: { body: (s, id) => withJson(s, { id: `evt_${id}` }) },
};

export interface WebhookFactory {
    (provider: ProviderModel, index: number, options?: { now?: number; secret?: string; body?: Buffer; id?: string }): DrillWebhook;
    readonly plugins: Readonly<Record<string, ProviderPlugin>>;
}

/** Webhooks for the pipeline at `baseUrl`, signed with `secrets`, ids `<runId>-<index>`. */
export function webhookFactory(baseUrl: string, providers: readonly ProviderModel[], secrets: Readonly<Record<string, string>>, runId: string): WebhookFactory {
    const plugins = Object.fromEntries(providers.map((p) => [p.name, getPlugin(p.plugin, p.hmac)]));
    const make = (provider: ProviderModel, index: number, options: { now?: number; secret?: string; body?: Buffer; id?: string } = {}): DrillWebhook => {
        const plugin = plugins[provider.name];
        const now = options.now ?? Date.now();
        const id = options.id ?? `${runId}-${index}`;
        const how = stamp[provider.plugin];
        const body = options.body ?? (how.body ? how.body(plugin.sample(now), id, index) : plugin.sample(now));
        const url = `${baseUrl}${provider.path}`;
        const headers = { ...plugin.sign(body, options.secret ?? secrets[provider.name], now, url) };
        if (how.header) headers[how.header] = id;
        headers["Content-Type"] = body[0] === 0x7b ? "application/json" : "application/x-www-form-urlencoded";
        const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        const { eventId } = plugin.facts({ headers: lower, body, url });
        return { index, provider: provider.name, eventId, url, headers, body, sha256: sha256(body) };
    };
    return Object.assign(make, { plugins });
}

/** `count` webhooks spread round-robin over the providers, each with a distinct event id. */
export function drillWebhooks(factory: WebhookFactory, providers: readonly ProviderModel[], count: number): DrillWebhook[] {
    const seen = new Set<string>();
    const out: DrillWebhook[] = [];
    for (let i = 0; i < count; i++) {
        const webhook = factory(providers[i % providers.length], i);
        const key = `${webhook.provider}#${webhook.eventId}`;
        if (seen.has(key)) throw new Error(`two drill webhooks share the event id ${key}: the drill could not tell them apart`);
        seen.add(key);
        out.push(webhook);
    }
    return out;
}

export interface SendOptions {
    /** Requests in flight at once. */
    readonly concurrency: number;
    /** Give up on a webhook after this long without a 200. @default 300000 */
    readonly deadlineMs?: number;
    /** Called after each webhook is acknowledged (or given up), with how many are done. */
    readonly onDone?: (done: number) => void;
    /** A promise to wait for before sending webhook `index` (undefined: go on). */
    readonly gate?: (index: number) => Promise<void> | undefined;
}

export interface SendResult {
    readonly deliveries: Delivery[];
    /** Attempts answered 503, and other 5xx or broken connections, that were sent again. */
    readonly retried503: number;
    readonly retriedOther: number;
    /** Webhooks answered 4xx (never expected for a valid webhook): not sent again. */
    readonly refused: number;
    /** Webhooks without a 200 before the deadline. */
    readonly gaveUp: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST one webhook until it is answered 200 (or 4xx, or the deadline passes). */
async function deliver(webhook: DrillWebhook, deadline: number, counts: { retried503: number; retriedOther: number }): Promise<Delivery> {
    const delivery: Delivery = { webhook, acceptedRequestIds: [], statuses: [] };
    for (let attempt = 0; ; attempt++) {
        let status = 0;
        let text = "";
        try {
            const res = await fetch(webhook.url, { method: "POST", headers: webhook.headers, body: webhook.body, signal: AbortSignal.timeout(30_000) });
            status = res.status;
            text = await res.text();
        } catch {
            status = 0;
        }
        delivery.statuses.push(status);
        if (status === 200) {
            delivery.acceptedRequestIds.push((JSON.parse(text) as { requestId: string }).requestId);
            delivery.ackedAt = Date.now();
            return delivery;
        }
        if (status >= 400 && status < 500) return delivery;
        if (status === 503) counts.retried503 += 1;
        else counts.retriedOther += 1;
        if (Date.now() > deadline) return delivery;
        // Providers back off between retries; a short, growing pause with jitter.
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
}

/** Deliver every webhook with `concurrency` in flight; resolves when each is acknowledged or given up. */
export async function sendAll(webhooks: readonly DrillWebhook[], options: SendOptions): Promise<SendResult> {
    const deadlineMs = options.deadlineMs ?? 300_000;
    const counts = { retried503: 0, retriedOther: 0 };
    const deliveries: Delivery[] = new Array(webhooks.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
        while (next < webhooks.length) {
            const i = next++;
            const wait = options.gate?.(i);
            if (wait) await wait;
            deliveries[i] = await deliver(webhooks[i], Date.now() + deadlineMs, counts);
            done += 1;
            options.onDone?.(done);
        }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, webhooks.length) }, worker));
    const refused = deliveries.filter((d) => d.acceptedRequestIds.length === 0 && d.statuses.some((s) => s >= 400 && s < 500)).length;
    const gaveUp = deliveries.filter((d) => d.acceptedRequestIds.length === 0).length - refused;
    return { deliveries, retried503: counts.retried503, retriedOther: counts.retriedOther, refused, gaveUp };
}
