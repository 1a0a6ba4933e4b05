/**
 * The ingress function: used instead of the direct API Gateway -> SQS
 * integration on the routes of providers that challenge the endpoint (Slack's
 * url_verification, any plugin with a `handshake`). It answers a verified
 * challenge synchronously and enqueues everything else in exactly the
 * envelope the direct integration produces, so the router cannot tell them
 * apart. Signatures of ordinary events are verified by the router, not here:
 * the hot path stays one SendMessage. Every message is sealed (model/seal.ts)
 * with the pipeline-internal key: the router trusts the function's received-at
 * time, URL and body encoding because the seal says this function wrote them.
 *
 * Answers: the handshake answer (verified challenge), 401 `{"error": <reason>}`
 * (challenge not verified), 400 (empty body: SQS cannot carry an empty
 * message, and no provider signs one), 200 once enqueued; an AWS failure
 * throws (API Gateway answers 500 and the provider retries).
 */
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import { s3Package } from "../shared/clients";
import { createHash } from "crypto";
import { encodeEnvelope } from "../../model/envelope";
import { ArchivePrefix, Limits } from "../../model/constants";
import { getPlugin } from "../../providers";
import type { ProviderRuntime } from "../../model/runtime-config";

export interface IngressRuntimeConfig {
    readonly provider: ProviderRuntime;
    /** Lower-case headers the router needs. */
    readonly headers: readonly string[];
    readonly signsUrl: boolean;
    readonly catchAllQueueUrl: string;
    readonly bucket: string;
    /** Secrets Manager secret holding the pipeline-internal key (`{"secrets": [...]}`; the first seals). */
    readonly sealSecretId: string;
}

/** The subset of an API Gateway HTTP API (payload 2.0) event the ingress reads. */
export interface HttpRequestEvent {
    readonly headers?: Record<string, string | undefined>;
    readonly body?: string;
    readonly isBase64Encoded?: boolean;
    readonly rawPath?: string;
    readonly rawQueryString?: string;
    readonly requestContext: {
        readonly requestId: string;
        readonly timeEpoch: number;
        readonly domainName?: string;
        readonly http?: { readonly sourceIp?: string };
    };
}

export interface HttpResponse {
    readonly statusCode: number;
    readonly headers?: Record<string, string>;
    readonly body: string;
}

export interface IngressDeps {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: (secretId: string) => Promise<readonly string[]>;
    readonly config: IngressRuntimeConfig;
    readonly now?: () => number;
}

/** Message body budget once attributes are accounted for (attributes are small; keep 16 KiB spare). */
const inlineLimit = Limits.sqsMaxMessageBytes - 16 * 1024;

export function createIngress(deps: IngressDeps) {
    const plugin = getPlugin(deps.config.provider.plugin, deps.config.provider.hmac);
    const now = deps.now ?? Date.now;
    return async function handle(event: HttpRequestEvent): Promise<HttpResponse> {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
        const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
        // The host the sender called: on a custom domain its name, on the generated URL the execute-api one
        // (payload format 2.0 `requestContext.domainName`; unverified here for custom domains, see README Known limits).
        const url = `https://${event.requestContext.domainName ?? "localhost"}${event.rawPath ?? ""}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`;
        const request = { headers, body, url };

        if (body.length === 0) return json(400, { error: "empty body: nothing to deliver" });

        const challenge = plugin.handshake?.(request);
        if (challenge) {
            // Answer only a challenge that is signed by the provider: never echo for strangers.
            const verdict = plugin.verify(request, await deps.secrets(deps.config.provider.secretId), { now: now(), toleranceSeconds: deps.config.provider.toleranceSeconds });
            return verdict.ok ? { ...challenge, headers: { ...challenge.headers } } : json(401, { error: verdict.reason });
        }

        const base = {
            provider: deps.config.provider.name,
            requestId: event.requestContext.requestId,
            receivedAt: event.requestContext.timeEpoch,
            sourceIp: event.requestContext.http?.sourceIp ?? "unknown",
            url: deps.config.signsUrl ? url : undefined,
            headers,
        };
        // Read once per cache period; without a key nothing can be sealed, so the request fails (500) and the provider retries.
        const [sealKey] = await deps.secrets(deps.config.sealSecretId);
        if (!sealKey) throw new Error(`the pipeline-internal key ${deps.config.sealSecretId} holds no key`);
        let message = encodeEnvelope({ ...base, body }, deps.config.headers, { sealKey });
        if (Buffer.byteLength(message.MessageBody) > inlineLimit) {
            // Claim check: the body goes to S3 first, the envelope carries the pointer.
            const key = `${ArchivePrefix.Claims}/ingress/${deps.config.provider.name}/${createHash("sha256").update(event.requestContext.requestId).digest("hex")}`;
            await deps.s3.send(new (s3Package().PutObjectCommand)({ Bucket: deps.config.bucket, Key: key, Body: body }));
            message = encodeEnvelope({ ...base, body: Buffer.from(JSON.stringify({ bucket: deps.config.bucket, key })), encoding: "s3" }, deps.config.headers, { sealKey });
        }
        await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.config.catchAllQueueUrl, ...message }));
        return json(200, { accepted: true, requestId: base.requestId });
    };
}

function json(statusCode: number, body: unknown): HttpResponse {
    return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
