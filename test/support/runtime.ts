/**
 * Helpers for the runtime tests: a pipeline in moto per suite (uniquely named
 * queues, bucket, table and secrets), record factories for signed webhooks as
 * API Gateway would enqueue them, and small drivers that do what Lambda's SQS
 * event source does (receive a batch, call the function, delete what
 * succeeded). Nothing here fakes AWS: every call goes to moto.
 */
import { randomBytes, randomUUID } from "crypto";
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { parseConfig } from "../../model/config";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { encodeEnvelope, EnvelopeAttribute, EnvelopeMessage } from "../../model/envelope";
import { buildPipelineModel, destinationSecretsOf, PipelineModel, ProviderModel } from "../../model/pipeline";
import type { WebhookEvent } from "../../model/lane-message";
import { getPlugin } from "../../providers";
import { createLocalResources, LocalClients, localClients, LocalQueuePair, LocalResources } from "../../local/resources";
import { toLambdaEvent, toLambdaRecord } from "../../local/sqs-event";
import { ArchiveRecord, decodeArchive } from "../../handlers/router/archive";
import type { InboundRecord, RouterResult } from "../../handlers/router/router";
import type { WebhookHandler } from "../../handlers/app/types";
import { handlerNames } from "../../handlers/app";
import { services } from "./services";
import { lambdaContext as localLambdaContext } from "../../local/lambda-context";

/** API calls by command name, counted by a middleware on an SDK client. */
export type CallCounts = Record<string, number>;

type CountableClient = { middlewareStack: { add: (mw: never, options: { step: "initialize"; name: string }) => void } };

/** Count every command `client` sends (a live record: read it any time). */
export function countCalls(client: unknown): CallCounts {
    const counts: CallCounts = {};
    const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const name = context.commandName ?? "unknown";
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
    };
    (client as CountableClient).middlewareStack.add(middleware as never, { step: "initialize", name: `countCalls-${randomUUID()}` });
    return counts;
}

/** `rt-<suite>-<6 hex>`: short enough for `<prefix>-<provider>-<lane>-dlq.fifo` (SQS 80) and the bucket name (S3 63). */
export function uniquePrefix(suite: string): string {
    return `rt-${suite}-${randomBytes(3).toString("hex")}`.toLowerCase();
}

export interface RuntimeFixture {
    readonly model: PipelineModel;
    readonly resources: LocalResources;
    readonly clients: LocalClients;
    /** Provider name -> secrets it was created with. */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    /** The pipeline-internal key the resources were created with (seals trusted envelopes). */
    readonly sealKey: string;
    provider(name: string): ProviderModel;
}

export interface RuntimeOptions {
    /** Short name of the suite, part of every resource name. */
    readonly suite: string;
    /** Provider -> signing secrets. @default one `secret-<provider>` each (a whsec_ key for standard-webhooks) */
    readonly secrets?: Readonly<Record<string, readonly string[]>>;
    /** Every queue's visibility timeout, seconds (redelivery tests). */
    readonly visibilityTimeoutSeconds?: number;
    /** Lane id -> destination secrets. @default those declared in the config */
    readonly destinationSecrets?: Readonly<Record<string, { readonly signing: readonly string[]; readonly auth?: string }>>;
}

/** A default secret that suits the provider's scheme. */
export function defaultSecret(provider: ProviderModel): string {
    return provider.plugin === "standard-webhooks" ? `whsec_${Buffer.from(`key-for-${provider.name}`).toString("base64")}` : `secret-${provider.name}`;
}

/** Validate `raw` config, build the model and create its resources in moto under a unique prefix. */
export async function createRuntime(raw: unknown, options: RuntimeOptions): Promise<RuntimeFixture> {
    const config = parseConfig(raw, { handlers: handlerNames });
    const model = buildPipelineModel(config, "rt");
    const secrets: Record<string, readonly string[]> = {};
    for (const p of model.providers) secrets[p.name] = options.secrets?.[p.name] ?? [defaultSecret(p)];
    const clients = localClients(services.awsEndpoint);
    const resources = await createLocalResources(model, secrets, clients, {
        prefix: uniquePrefix(options.suite),
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        destinationSecrets: options.destinationSecrets ?? destinationSecretsOf(config),
    });
    const [sealKey] = await cachedSecretReader(clients.secrets)(resources.sealSecretId);
    return {
        model,
        resources,
        clients,
        secrets,
        sealKey,
        provider(name) {
            const p = model.providers.find((x) => x.name === name);
            if (!p) throw new Error(`no provider ${name} in the test pipeline`);
            return p;
        },
    };
}

export const webhookUrl = (provider: string) => `https://hooks.example.com/webhooks/${provider}`;

/** One webhook as a provider sends it and as the edge enqueues it. */
export interface SignedWebhook {
    readonly provider: string;
    readonly requestId: string;
    readonly receivedAt: number;
    readonly body: Buffer;
    /** Lower-case headers the sender sent (signature headers included). */
    readonly headers: Readonly<Record<string, string>>;
    /** The catch-all message API Gateway's mapping produces for it. */
    readonly message: EnvelopeMessage;
}

export interface SignOptions {
    /** When the sender signed it (ms). @default receivedAt */
    readonly signedAt?: number;
    /** When the edge received it (ms). @default now */
    readonly receivedAt?: number;
    readonly requestId?: string;
    /** Headers to set after signing (override or add); `undefined` removes one. */
    readonly headers?: Readonly<Record<string, string | undefined>>;
    /** Seal the envelope with this pipeline-internal key, as the ingress function does. @default unsealed, as the direct integration sends it */
    readonly sealKey?: string;
}

const lower = (headers: Readonly<Record<string, string | undefined>>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

/** Sign `body` as the provider's scheme does with `secret`, and build the envelope for it. */
export function signedWebhook(provider: ProviderModel, body: Buffer | string, secret: string, options: SignOptions = {}): SignedWebhook {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
    const receivedAt = options.receivedAt ?? Date.now();
    const plugin = getPlugin(provider.plugin, provider.hmac);
    const signed = lower(plugin.sign(bytes, secret, options.signedAt ?? receivedAt, webhookUrl(provider.name)));
    const merged = { ...signed, ...lower(options.headers ?? {}) };
    const headers = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
    return envelopeFor(provider, bytes, headers, { receivedAt, requestId: options.requestId, sealKey: options.sealKey });
}

/** The envelope for a request with exactly these headers (unsigned, forged, ...). */
export function envelopeFor(
    provider: ProviderModel | { name: string; headers: readonly string[]; signsUrl: boolean },
    body: Buffer,
    headers: Readonly<Record<string, string>>,
    options: { receivedAt?: number; requestId?: string; sealKey?: string } = {},
): SignedWebhook {
    const receivedAt = options.receivedAt ?? Date.now();
    const requestId = options.requestId ?? `req-${randomUUID()}`;
    const url = provider.signsUrl ? webhookUrl(provider.name) : undefined;
    const message = encodeEnvelope({ provider: provider.name, requestId, receivedAt, sourceIp: "203.0.113.9", url, headers, body }, provider.headers, { sealKey: options.sealKey });
    if (url && !options.sealKey) {
        // The direct integration's second copy of the URL (EnvelopeAttribute.UrlEnd), after the headers.
        message.MessageAttributes[EnvelopeAttribute.UrlEnd] = { DataType: "String", StringValue: url };
    }
    return { provider: provider.name, requestId, receivedAt, body, headers, message };
}

/** Send envelopes to a queue in SendMessageBatch calls (10 entries and under 1 MiB each). */
export async function enqueue(sqs: SQSClient, queueUrl: string, messages: readonly EnvelopeMessage[]): Promise<void> {
    let chunk: EnvelopeMessage[] = [];
    let bytes = 0;
    const flush = async () => {
        if (!chunk.length) return;
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, i) => ({ Id: String(i), ...m })) }));
        if (out.Failed?.length) throw new Error(`enqueue failed: ${JSON.stringify(out.Failed)}`);
        chunk = [];
        bytes = 0;
    };
    for (const m of messages) {
        const size = Buffer.byteLength(m.MessageBody) + 4096;
        if (chunk.length === 10 || bytes + size > 900 * 1024) await flush();
        chunk.push(m);
        bytes += size;
    }
    await flush();
}

/** Receive until the queue answers empty (messages become in flight). */
export async function drain(sqs: SQSClient, queueUrl: string, limit = 10_000): Promise<Message[]> {
    const out: Message[] = [];
    while (out.length < limit) {
        const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, limit - out.length), WaitTimeSeconds: 0, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }),
        );
        if (!Messages.length) break;
        out.push(...Messages);
    }
    return out;
}

/** Receive until empty, deleting after each receive (moto's receive slows with every message in flight): the queue's messages, taken for good. */
export async function take(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
        const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }),
        );
        if (!Messages.length) return out;
        await deleteMessages(sqs, queueUrl, Messages);
        out.push(...Messages);
    }
}

/** Poll (1 s long polls) until `count` messages were received or `timeoutMs` passed. */
export async function receiveAtLeast(sqs: SQSClient, queueUrl: string, count: number, timeoutMs = 10_000): Promise<Message[]> {
    const out: Message[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) {
        const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }),
        );
        out.push(...Messages);
    }
    return out;
}

export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
    }
}

/** What the router's Lambda adapter passes to `createRouter`'s function. */
export function inboundRecords(messages: readonly Message[], queueArn = "arn:aws:sqs:us-east-1:123456789012:catch-all"): InboundRecord[] {
    return messages.map((m) => {
        const r = toLambdaRecord(m, queueArn);
        return { messageId: r.messageId, body: r.body, attributes: r.messageAttributes, sentTimestamp: Number(r.attributes.SentTimestamp) };
    });
}

/** In-memory catch-all records for envelopes (as Lambda would deliver them), for tests that measure the router alone. */
export function recordsFor(webhooks: readonly SignedWebhook[]): InboundRecord[] {
    return webhooks.map((w) => ({
        messageId: randomUUID(),
        body: w.message.MessageBody,
        attributes: Object.fromEntries(Object.entries(w.message.MessageAttributes).map(([k, v]) => [k, { dataType: v.DataType, stringValue: v.StringValue }])),
        // SQS stamps a message as the edge enqueues it.
        sentTimestamp: w.receivedAt,
    }));
}

export type RouteFn = (records: readonly InboundRecord[]) => Promise<RouterResult>;

/**
 * One router invocation the way the event source mapping runs it: receive the
 * catch-all's visible messages (up to `batchSize`), route them, delete those
 * not reported as failures. Returns the result and the messages received.
 */
export async function routeCatchAll(route: RouteFn, sqs: SQSClient, catchAll: LocalQueuePair, batchSize = 100): Promise<{ result: RouterResult; messages: Message[] }> {
    const messages = await drain(sqs, catchAll.queue.url, batchSize);
    const result = await route(inboundRecords(messages, catchAll.queue.arn));
    await deleteMessages(sqs, catchAll.queue.url, messages.filter((m) => !result.failures.includes(m.MessageId!)));
    return { result, messages };
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** One worker invocation: receive the lane's visible messages, call the handler, delete what did not fail. */
export async function runWorker(handler: SqsHandler, sqs: SQSClient, lane: LocalQueuePair, name = "worker"): Promise<{ response: SQSBatchResponse; messages: Message[] }> {
    const messages = await drain(sqs, lane.queue.url, 10);
    if (!messages.length) return { response: { batchItemFailures: [] }, messages };
    const response = await handler(toLambdaEvent(messages, lane.queue.arn), lambdaContext(name));
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    await deleteMessages(sqs, lane.queue.url, messages.filter((m) => !failed.has(m.MessageId!)));
    return { response, messages };
}

/** A Lambda context good enough for Powertools (logger context, remaining time). */
export function lambdaContext(name: string, remainingMs = 30_000): Context {
    return localLambdaContext(name, { timeoutMs: remainingMs, memoryMb: 256 });
}

/** A handler that records every event it is given (and can be told to throw). */
export function recordingHandler(options: { fail?: (event: WebhookEvent) => boolean } = {}): { handler: WebhookHandler; events: WebhookEvent[]; attempts: number[] } {
    const events: WebhookEvent[] = [];
    const attempts: number[] = [];
    const handler: WebhookHandler = async (event, context) => {
        attempts.push(context.attempt);
        if (options.fail?.(event)) throw new Error(`handler refused ${event.eventId}`);
        events.push(event);
    };
    return { handler, events, attempts };
}

/** Every key under `prefix` (all pages). */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of out.Contents ?? []) keys.push(o.Key!);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
}

/** Every archive line under `prefix`, with the key it came from. */
export async function readArchive(s3: S3Client, bucket: string, prefix: string): Promise<(ArchiveRecord & { key: string; line: number })[]> {
    const out: (ArchiveRecord & { key: string; line: number })[] = [];
    for (const key of await listKeys(s3, bucket, prefix)) {
        decodeArchive(await getObject(s3, bucket, key)).forEach((r, line) => out.push({ ...r, key, line }));
    }
    return out;
}

/** "equal", or where two byte strings first differ (a readable assertion message). */
export function byteDiff(a: Buffer, b: Buffer): string {
    if (a.equals(b)) return "equal";
    const n = Math.min(a.length, b.length);
    let i = 0;
    while (i < n && a[i] === b[i]) i++;
    return `lengths ${a.length} vs ${b.length}, first difference at byte ${i}`;
}
