/**
 * The local stand-in for API Gateway: `POST /webhooks/<provider>` turns each
 * request into exactly the catch-all message AWS would enqueue and answers 200
 * once it is enqueued. A `direct` provider's message is the HTTP API mapping's
 * template filled in by plain substitution (substituteEdgeTemplate), parsed
 * as JSON: a header value that breaks the JSON is refused (400; on AWS SQS
 * refuses it and the sender sees an error status), one that adds attributes
 * gets them, as on AWS (the router then quarantines the request), and a body
 * that is not SQS-safe UTF-8 text is refused (415: the direct integration
 * carries text; `ingress: function` carries any bytes). A `function`
 * provider is answered and enqueued the way the ingress function does it:
 * handshakes, the URL with its query string, any body, sealed with the
 * pipeline-internal key.
 *
 * Answers: 200 enqueued (or the handshake answer), 404 unknown provider or
 * path, 405 other methods, 400 empty body (or one that cannot be read), 413 body over the SQS
 * message limit (API Gateway's direct integration cannot enqueue it either), 503 when the queue
 * refuses or cannot be reached (never 200 without an acknowledged SendMessage; the sender
 * retries, and should the message have been enqueued after all, the worker's idempotency
 * absorbs the second copy).
 */
import * as http from "http";
import { randomUUID } from "crypto";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { apiGatewayMessageAttributes, encodeEnvelope, EnvelopeMessage, isSqsSafeText, SdkAttribute, substituteEdgeTemplate } from "../model/envelope";
import { Limits } from "../model/constants";
import type { ProviderModel } from "../model/pipeline";
import { getPlugin } from "../providers";
import type { ProviderPlugin } from "../providers/types";

export interface HttpIngressOptions {
    readonly sqs: SQSClient;
    readonly catchAllQueueUrl: string;
    readonly providers: readonly ProviderModel[];
    /** Secrets per provider, for answering handshakes. */
    readonly secrets: (provider: string) => Promise<readonly string[]>;
    /** The pipeline-internal key (its first entry seals), for `function` providers' messages. */
    readonly sealKeys: () => Promise<readonly string[]>;
    /** Extra routes (`GET /_status`, ...). Return false to fall through to 404. */
    readonly extra?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
    /** Called for each request: provider (or undefined), status code, and whether it was enqueued (false for handshakes and errors). */
    readonly onRequest?: (provider: string | undefined, status: number, enqueued: boolean) => void;
    readonly now?: () => number;
}

/** Bytes left for the body once the envelope's attributes are in the message. */
export const maxLocalBodyBytes = Limits.sqsMaxMessageBytes - 8 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
    res.writeHead(status, headers);
    res.end(typeof body === "string" ? body : JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > limit) return "too-large";
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
}

export function createHttpIngress(options: HttpIngressOptions): http.Server {
    const byName = new Map<string, { model: ProviderModel; plugin: ProviderPlugin }>(options.providers.map((p) => [p.name, { model: p, plugin: getPlugin(p.plugin, p.hmac) }]));
    const now = options.now ?? Date.now;
    return http.createServer(async (req, res) => {
        const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
        const match = /^\/webhooks\/([^/]+)\/?$/.exec(url.pathname);
        try {
            if (!match) {
                if (options.extra && (await options.extra(req, res))) return;
                options.onRequest?.(undefined, 404, false);
                return send(res, 404, { error: `no route for ${req.method} ${url.pathname}; webhooks go to POST /webhooks/<provider>` });
            }
            const name = match[1];
            const provider = byName.get(name);
            if (!provider) {
                options.onRequest?.(name, 404, false);
                return send(res, 404, { error: `unknown provider "${name}" (configured: ${[...byName.keys()].join(", ")})` });
            }
            if (req.method !== "POST") {
                options.onRequest?.(name, 405, false);
                return send(res, 405, { error: "use POST" }, { "content-type": "application/json", allow: "POST" });
            }
            let body: Buffer | "too-large";
            try {
                body = await readBody(req, maxLocalBodyBytes);
            } catch (err) {
                // The sender broke the body off or sent one HTTP cannot parse (Node's parser answers 400 itself): a client error.
                options.onRequest?.(name, 400, false);
                if (!res.headersSent && !res.destroyed) send(res, 400, { error: `could not read the body: ${(err as Error).message}` });
                return;
            }
            if (body === "too-large") {
                options.onRequest?.(name, 413, false);
                return send(res, 413, { error: `body exceeds ${maxLocalBodyBytes} bytes, the most an SQS message can carry with the envelope` });
            }
            if (body.length === 0) {
                // SQS refuses an empty message: the ingress function answers 400 too, and the direct integration cannot enqueue it.
                options.onRequest?.(name, 400, false);
                return send(res, 400, { error: "empty body: nothing to deliver" });
            }
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(req.headers)) {
                // A repeated header arrives as several values; API Gateway joins them with commas.
                if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
            }
            const publicUrl = `${url.protocol}//${url.host}${url.pathname}${url.search}`;
            const challenge = provider.plugin.handshake?.({ headers, body, url: publicUrl });
            if (challenge) {
                const verdict = provider.plugin.verify({ headers, body, url: publicUrl }, await options.secrets(name), { now: now(), toleranceSeconds: provider.model.toleranceSeconds });
                const status = verdict.ok ? challenge.statusCode : 401;
                options.onRequest?.(name, status, false);
                return verdict.ok ? send(res, status, challenge.body, challenge.headers as Record<string, string>) : send(res, 401, { error: verdict.reason });
            }
            const requestId = randomUUID();
            let message: EnvelopeMessage;
            if (provider.model.ingress === "direct") {
                const edge = directMessage(provider.model, { requestId, requestTimeEpoch: now(), sourceIp: req.socket.remoteAddress ?? "unknown", domainName: url.host, path: url.pathname, headers }, body);
                if ("refused" in edge) {
                    options.onRequest?.(name, edge.refused, false);
                    return send(res, edge.refused, { error: edge.error });
                }
                message = edge;
            } else {
                const [sealKey] = await options.sealKeys();
                if (!sealKey) throw new Error("the pipeline-internal key holds no key");
                message = encodeEnvelope(
                    { provider: name, requestId, receivedAt: now(), sourceIp: req.socket.remoteAddress ?? "unknown", url: provider.model.signsUrl ? publicUrl : undefined, headers, body },
                    provider.model.headers,
                    { sealKey },
                );
            }
            try {
                await options.sqs.send(new SendMessageCommand({ QueueUrl: options.catchAllQueueUrl, ...message }));
            } catch (err) {
                options.onRequest?.(name, 503, false);
                return send(res, 503, { error: `could not enqueue: ${(err as Error).message}` });
            }
            options.onRequest?.(name, 200, true);
            return send(res, 200, { accepted: true, requestId });
        } catch (err) {
            options.onRequest?.(match?.[1], 500, false);
            return send(res, 500, { error: (err as Error).message });
        }
    });
}

/**
 * The message the direct integration makes of a request: its template filled in as HTTP API does
 * (plain substitution) and parsed as SQS parses it (JSON; of a name given twice the last counts here).
 * `refused`: the status the sender gets, with why.
 */
export function directMessage(
    provider: Pick<ProviderModel, "name" | "headers" | "signsUrl" | "allowedSourceIps">,
    request: Parameters<typeof substituteEdgeTemplate>[1],
    body: Buffer,
): EnvelopeMessage | { readonly refused: 400 | 415; readonly error: string } {
    if (!isSqsSafeText(body)) return { refused: 415, error: "body is not text SQS can carry as it is (the direct integration passes text only; give the provider ingress: function for any bytes)" };
    const text = substituteEdgeTemplate(apiGatewayMessageAttributes(provider.name, provider.headers, provider.signsUrl, "http", provider.allowedSourceIps !== undefined), request);
    let attributes: Record<string, SdkAttribute>;
    try {
        attributes = JSON.parse(text) as Record<string, SdkAttribute>;
    } catch {
        return { refused: 400, error: `a header value breaks the direct integration's message attributes (a " or \\ in one of ${provider.headers.join(", ")}): the queue refuses the message` };
    }
    return { MessageBody: body.toString("utf8"), MessageAttributes: attributes };
}
