/**
 * The router: a batch of catch-all messages in, lane messages and archive
 * objects out. Plain logic with its clients passed in; `lambda.ts` adapts it
 * to an SQS event source and the local pipeline calls it directly.
 *
 * For each message: read the envelope, find the provider, verify the
 * signature against the provider's secret(s), read the event id, type and
 * ordering key, and pick the lane by the provider's rules. Then, for the
 * batch: write the archive (one object per provider and hour), and send each
 * lane its messages in batches. A message is reported as failed (and so
 * redelivered) unless it was archived AND routed, dropped or quarantined.
 *
 * Bad input never blocks a batch and is never retried: an unreadable
 * envelope, an unknown provider, a missing, malformed, forged or stale
 * signature, or a provider without a secret is written to quarantine/ with
 * its reason and counted.
 *
 * Signed timestamps are checked against the time the edge received the
 * request, not the time the router reads it: a backlog in the catch-all queue
 * or a redelivery after a failed send must not turn a valid webhook stale.
 * That time is one no sender can set: SQS's SentTimestamp, or the time in a
 * valid seal (model/seal.ts) from the pipeline's own writers (a replay or a
 * catch-all redrive vouches for the original time). The markers that change
 * how a request is treated (wp-encoding, wp-replay, wp-replay-force) count only
 * under a valid seal: a message that carries them unsealed, or with a seal
 * that does not check, came through the direct integration with attributes a
 * header value smuggled in, and is quarantined as untrusted-envelope. A request that matches no cached secret (or
 * meets a provider without one) re-reads the secret once it is
 * `SecretCache.refreshAfterMs` old, so a rotation is picked up in seconds.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createHash, randomUUID } from "crypto";
import { ArchivePrefix, Limits } from "../../model/constants";
import { decodeEnvelope, Envelope, EnvelopeError, EventAttribute, isSqsSafe, SdkAttribute, utf8Text } from "../../model/envelope";
import { judgeEnvelope, needsKey, TrustVerdict } from "../../model/trust";
import { LaneMessage, LaneMessageVersion } from "../../model/lane-message";
import { compileRoutes } from "../../model/pipeline";
import type { ProviderRuntime, RouterRuntimeConfig } from "../../model/runtime-config";
import { getPlugin } from "../../providers";
import { ProviderPlugin, RejectReason, VerifyResult, WebhookRequest } from "../../providers/types";
import { silentLogger, HandlerLogger } from "../shared/logger";
import { SecretCache, SecretReader } from "../shared/secrets";
import { archiveLine, archivePointer, ArchiveRecord, bodyMember, encodeArchive, partitionPrefix } from "./archive";
import { KafkaPublisher, OutboundMessage, sendToKafkaLane, sendToSqsLane } from "./lanes";

/** Why a request was quarantined besides the plugins' RejectReasons. */
export const QuarantineReason = {
    MalformedEnvelope: "malformed-envelope",
    UnknownProvider: "unknown-provider",
    /** Markers without a valid seal, a seal that does not check, or an unsealed request for a provider behind its ingress function: attributes a sender shaped. */
    UntrustedEnvelope: "untrusted-envelope",
} as const;

/** Partition name for requests whose provider is unknown or unreadable. */
export const UnknownProvider = "unknown";

/** How far ahead of the router's clock an edge time may be before it is distrusted (clock skew). */
const maxEdgeClockSkewMs = 60_000;

/** An `s3` envelope whose claim-check pointer cannot be right: quarantined as malformed-envelope, not retried. */
class ClaimPointerError extends Error {
    public readonly name = "ClaimPointerError";
}

/** A catch-all message, as the Lambda event or ReceiveMessage gives it. */
export interface InboundRecord {
    readonly messageId: string;
    readonly body: string;
    readonly attributes: Record<string, SdkAttribute | EventAttribute | undefined> | undefined;
    /** SQS's SentTimestamp (epoch ms; the Lambda record's `attributes.SentTimestamp`): when the message was enqueued, which no sender can set. */
    readonly sentTimestamp?: number;
}

export interface RouterDeps {
    readonly config: RouterRuntimeConfig;
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretReader;
    /** Needed only when a lane is a Kafka lane. */
    readonly kafka?: KafkaPublisher;
    readonly logger?: HandlerLogger;
    readonly now?: () => number;
}

/** What one batch did, for metrics, `/_status` and benchmarks. */
export interface RouterReport {
    readonly received: number;
    /** Verified and archived. */
    accepted: number;
    /** Provider -> reason -> count. */
    readonly quarantined: Record<string, Record<string, number>>;
    /** Lane id -> messages taken by the lane. */
    readonly routed: Record<string, number>;
    /** Provider -> events archived and dropped by a `drop` route. */
    readonly dropped: Record<string, number>;
    /** Provider -> requests archived (raw/), replays excluded. */
    readonly archived: Record<string, number>;
    /** Records reported as batch item failures (redelivered). */
    failed: number;
    /** AWS API calls made by this batch, by kind. */
    readonly calls: { archive: number; send: number; claims: number };
}

export interface RouterResult {
    /** Message ids to report as batch item failures. */
    readonly failures: string[];
    readonly report: RouterReport;
}

/**
 * A lane message with the body inline: as text when SQS takes it as it is;
 * text SQS refuses (U+FFFE, U+FFFF, control characters) travels as base64,
 * like bytes that are not UTF-8. `text` is utf8Text(body).
 */
export function inlineLaneMessage(base: Omit<LaneMessage, "body" | "bodyBase64" | "claim">, body: Buffer, text: string | undefined, textJson?: string): string {
    // The same JSON as stringifying `{ ...base, body }`, without building that object per message (the router's hot path).
    const head = JSON.stringify(base);
    return `${head.slice(0, -1)},${bodyMember(body, text !== undefined && isSqsSafe(text) ? text : undefined, textJson)}}`;
}

/** The body text as JSON, serialized once per request (a 2 KB body takes ~5 µs). */
function textJsonOf(p: { text?: string; textJson?: string }): string | undefined {
    if (p.text === undefined) return undefined;
    return (p.textJson ??= JSON.stringify(p.text));
}

interface Pending {
    readonly record: InboundRecord;
    envelope?: Envelope;
    body?: Buffer;
    /** With body: the body as UTF-8 text, undefined when it is not UTF-8. */
    text?: string;
    /** JSON.stringify(text), made once for the archive line and the lane message (textJsonOf). */
    textJson?: string;
    provider?: ProviderRuntime;
    /** Set when the request goes to quarantine. */
    reject?: { reason: string; detail: string };
    facts?: { eventId: string; eventType: string; orderingKey?: string };
    target?: string;
    archiveKey?: string;
    /** Transient problem: report as failure, do nothing else. */
    error?: string;
}

const verdictOf = (v: TrustVerdict) => (v.trusted ? { receivedAt: v.receivedAt } : { receivedAt: v.receivedAt, problem: v.problem });

const inc = (map: Record<string, number>, key: string, by = 1) => {
    map[key] = (map[key] ?? 0) + by;
};

export function createRouter(deps: RouterDeps): (records: readonly InboundRecord[]) => Promise<RouterResult> {
    const logger = deps.logger ?? silentLogger;
    const now = deps.now ?? Date.now;
    const { config } = deps;
    // Plugins and route tables are compiled once per container.
    const plugins: Record<string, ProviderPlugin> = {};
    const routers: Record<string, (eventType: string) => string> = {};
    for (const p of Object.values(config.providers)) {
        plugins[p.name] = getPlugin(p.plugin, p.hmac);
        routers[p.name] = compileRoutes(p.routes);
    }

    async function resolveBody(p: Pending, calls: RouterReport["calls"]) {
        const envelope = p.envelope!;
        if (envelope.encoding !== "s3") return envelope.body;
        // The ingress function put a large body into S3 first (claim check).
        const pointer = claimPointer(envelope.body);
        calls.claims += 1;
        const out = await deps.s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
        return Buffer.from(await out.Body!.transformToByteArray());
    }

    async function inspect(p: Pending, calls: RouterReport["calls"]) {
        try {
            p.envelope = decodeEnvelope(p.record.body, p.record.attributes);
        } catch (err) {
            if (!(err instanceof EnvelopeError)) throw err;
            p.reject = { reason: QuarantineReason.MalformedEnvelope, detail: err.message };
            return;
        }
        const trust = await trusted(p.envelope, p.record);
        if ("error" in trust) {
            p.error = trust.error;
            return;
        }
        if ("problem" in trust) {
            // Quarantined with the message body as it arrived: an unsealed encoding is not followed.
            p.body = Buffer.from(p.record.body, "utf8");
            p.text = p.record.body;
            p.provider = config.providers[p.envelope.provider];
            p.envelope = { ...p.envelope, receivedAt: trust.receivedAt };
            p.reject = { reason: QuarantineReason.UntrustedEnvelope, detail: trust.problem };
            return;
        }
        p.envelope = { ...p.envelope, receivedAt: trust.receivedAt };
        try {
            p.body = await resolveBody(p, calls);
            p.text = utf8Text(p.body, p.body === p.envelope.body ? p.envelope.text : undefined);
        } catch (err) {
            // A pointer that cannot be right is bad input; a failed read may be transient.
            if (err instanceof ClaimPointerError) {
                // Quarantined with the pointer itself as the body: it is all there is.
                p.body = p.envelope.body;
                p.text = utf8Text(p.body, p.envelope.text);
                p.reject = { reason: QuarantineReason.MalformedEnvelope, detail: err.message };
            } else {
                p.error = `reading the claim-checked body failed: ${(err as Error).name}: ${(err as Error).message}`;
            }
            return;
        }
        const provider = config.providers[p.envelope.provider];
        if (!provider) {
            p.reject = { reason: QuarantineReason.UnknownProvider, detail: `provider "${p.envelope.provider}" is not configured` };
            return;
        }
        p.provider = provider;
        let secrets: readonly string[];
        try {
            secrets = await deps.secrets(provider.secretId);
        } catch (err) {
            p.error = (err as Error).message;
            return;
        }
        const request: WebhookRequest = { headers: p.envelope.headers, body: p.body, url: p.envelope.url ?? "" };
        const plugin = plugins[provider.name];
        // A replay re-sends archived bytes: the signature must still verify, the timestamp may be old.
        const tolerance = p.envelope.replayOf ? Number.MAX_SAFE_INTEGER : provider.toleranceSeconds;
        const options = { now: edgeTime(p.envelope), toleranceSeconds: tolerance };
        let verdict: VerifyResult = plugin.verify(request, secrets, options);
        if (!verdict.ok && (verdict.reason === RejectReason.BadSignature || verdict.reason === RejectReason.NoSecret)) {
            // The cached secret may predate a rotation or the secret being set: read it again (at most every refreshAfterMs).
            const fresh = await deps.secrets(provider.secretId, { maxAgeMs: SecretCache.refreshAfterMs }).catch(() => secrets);
            if (fresh !== secrets) verdict = plugin.verify(request, fresh, options);
        }
        if (!verdict.ok) {
            p.reject = { reason: verdict.reason, detail: verdict.detail };
            return;
        }
        p.facts = plugin.facts(request);
        p.target = routers[provider.name](p.facts.eventType);
    }

    /**
     * The time the request counts as received, and whether its markers may be honoured (model/trust.ts).
     * `problem`: quarantine as untrusted-envelope; `error`: retry (the internal key could not be read).
     */
    async function trusted(envelope: Envelope, record: InboundRecord): Promise<{ receivedAt: number } | { receivedAt: number; problem: string } | { error: string }> {
        const context = { sentTimestamp: record.sentTimestamp, ingress: config.providers[envelope.provider]?.ingress, now: now() };
        if (!needsKey(envelope)) return verdictOf(judgeEnvelope(envelope, record.body, { ...context, keys: [] }));
        let keys: readonly string[];
        try {
            keys = await deps.secrets(config.sealSecretId);
        } catch (err) {
            return { error: (err as Error).message };
        }
        let verdict = judgeEnvelope(envelope, record.body, { ...context, keys });
        if (!verdict.trusted) {
            // The cached key may predate a rotation: read it again (at most every refreshAfterMs).
            const fresh = await deps.secrets(config.sealSecretId, { maxAgeMs: SecretCache.refreshAfterMs }).catch(() => keys);
            if (fresh !== keys) verdict = judgeEnvelope(envelope, record.body, { ...context, keys: fresh });
        }
        return verdictOf(verdict);
    }

    /** When the edge received the request; the router's clock when that is missing or in the future. */
    function edgeTime(envelope: Envelope): number {
        const at = now();
        return envelope.receivedAt > 0 && envelope.receivedAt <= at + maxEdgeClockSkewMs ? envelope.receivedAt : at;
    }

    /** The ingress function's pointer: only into this pipeline's bucket, under claims/ingress/. */
    function claimPointer(body: Buffer): { bucket: string; key: string } {
        let pointer: unknown;
        try {
            pointer = JSON.parse(body.toString("utf8"));
        } catch {
            throw new ClaimPointerError("the s3-encoded body is not a JSON claim-check pointer");
        }
        const { bucket, key } = (pointer ?? {}) as { bucket?: unknown; key?: unknown };
        if (bucket !== config.bucket || typeof key !== "string" || !key.startsWith(`${ArchivePrefix.Claims}/ingress/`)) {
            throw new ClaimPointerError(`the claim-check pointer must name s3://${config.bucket}/${ArchivePrefix.Claims}/ingress/...`);
        }
        return { bucket, key };
    }

    return async function route(records) {
        const report: RouterReport = { received: records.length, accepted: 0, quarantined: {}, routed: {}, dropped: {}, archived: {}, failed: 0, calls: { archive: 0, send: 0, claims: 0 } };
        const pending: Pending[] = records.map((record) => ({ record }));
        await Promise.all(pending.map((p) => inspect(p, report.calls).catch((err: Error) => void (p.error = `${err.name}: ${err.message}`))));

        // Archive: one object per (prefix, provider, hour). Replays are already archived.
        const groups = new Map<string, { items: Pending[]; lines: string[] }>();
        for (const p of pending) {
            if (p.error || !p.envelope) {
                if (!p.error && p.reject) {
                    // An unreadable envelope still gets quarantined, with what can be read.
                    const key = partitionPrefix(ArchivePrefix.Quarantine, UnknownProvider, now());
                    const group = groups.get(key) ?? { items: [], lines: [] };
                    group.items.push(p);
                    const line: ArchiveRecord = { v: 1, provider: UnknownProvider, requestId: p.record.messageId, receivedAt: now(), sourceIp: "unknown", headers: {}, body: p.record.body, reason: p.reject.reason, detail: p.reject.detail };
                    group.lines.push(JSON.stringify(line));
                    groups.set(key, group);
                }
                continue;
            }
            if (p.envelope.replayOf && !p.reject) {
                p.archiveKey = p.envelope.replayOf;
                continue;
            }
            const prefix = p.reject ? ArchivePrefix.Quarantine : ArchivePrefix.Raw;
            // Only configured names become key parts: an unknown provider's name is whatever the message said.
            const key = partitionPrefix(prefix, p.provider ? p.provider.name : UnknownProvider, p.envelope.receivedAt);
            const group = groups.get(key) ?? { items: [], lines: [] };
            group.items.push(p);
            const extra = p.reject ? { reason: p.reject.reason, detail: p.reject.detail } : { eventId: p.facts!.eventId, eventType: p.facts!.eventType, target: p.target };
            group.lines.push(archiveLine(p.envelope, extra, bodyMember(p.body!, p.text, textJsonOf(p))));
            groups.set(key, group);
        }
        const batchId = randomUUID();
        await Promise.all(
            [...groups].map(async ([prefix, group]) => {
                const key = `${prefix}${now()}-${batchId}.ndjson.gz`;
                report.calls.archive += 1;
                try {
                    await deps.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: encodeArchive(group.lines), ContentType: "application/x-ndjson", ContentEncoding: "gzip" }));
                    group.items.forEach((p, line) => (p.archiveKey = archivePointer(key, line)));
                } catch (err) {
                    for (const p of group.items) p.error = `archiving to ${key} failed: ${(err as Error).message}`;
                }
            }),
        );

        // Quarantined and dropped requests are done once archived; the rest go to their lanes
        // (claim checks written concurrently, messages kept in record order for FIFO lanes).
        const outbound = await Promise.all(
            pending.map(async (p): Promise<OutboundMessage | undefined> => {
                if (p.error) return undefined;
                const provider = p.envelope?.provider ?? UnknownProvider;
                if (p.reject) {
                    inc((report.quarantined[provider] ??= {}), p.reject.reason);
                    logger.warn("webhook quarantined", { provider, requestId: p.envelope?.requestId, reason: p.reject.reason, detail: p.reject.detail, archiveKey: p.archiveKey });
                    return undefined;
                }
                report.accepted += 1;
                if (!p.envelope!.replayOf) inc(report.archived, provider);
                if (p.target === "drop") {
                    inc(report.dropped, provider);
                    return undefined;
                }
                const lane = config.lanes[p.target!];
                if (!lane) {
                    p.error = `route target ${p.target} is not a lane of this pipeline`;
                    return undefined;
                }
                const body = await laneMessageBody(p, lane.id, report.calls).catch((err: Error) => {
                    p.error = `claim check failed: ${err.name}: ${err.message}`;
                    return undefined;
                });
                return body === undefined ? undefined : { recordId: p.record.messageId, lane, body, eventId: p.facts!.eventId, orderingKey: p.facts!.orderingKey, provider };
            }),
        );
        const byLane = new Map<string, OutboundMessage[]>();
        for (const m of outbound) {
            if (!m) continue;
            const list = byLane.get(m.lane.id) ?? [];
            list.push(m);
            byLane.set(m.lane.id, list);
        }

        const failedSends = new Map<string, string>();
        await Promise.all(
            [...byLane].map(async ([laneId, messages]) => {
                const lane = config.lanes[laneId];
                const outcome = lane.kind === "kafka" ? await sendToKafkaLane(deps.kafka, lane, messages) : await sendToSqsLane(deps.sqs, lane, messages);
                report.calls.send += outcome.calls;
                for (const [id, why] of outcome.failed) failedSends.set(id, `sending to lane ${laneId} failed: ${why}`);
                const taken = messages.length - outcome.failed.size;
                if (taken > 0) inc(report.routed, laneId, taken);
            }),
        );

        const failures: string[] = [];
        for (const p of pending) {
            const error = p.error ?? failedSends.get(p.record.messageId);
            if (!error) continue;
            failures.push(p.record.messageId);
            logger.error("webhook will be retried", { messageId: p.record.messageId, provider: p.envelope?.provider, requestId: p.envelope?.requestId, error });
        }
        report.failed = failures.length;
        return { failures, report };

        async function laneMessageBody(p: Pending, laneId: string, calls: RouterReport["calls"]): Promise<string> {
            const body = p.body!;
            const base = {
                v: LaneMessageVersion,
                provider: p.envelope!.provider,
                lane: laneId,
                requestId: p.envelope!.requestId,
                eventId: p.facts!.eventId,
                eventType: p.facts!.eventType,
                orderingKey: p.facts!.orderingKey,
                receivedAt: p.envelope!.receivedAt,
                archiveKey: p.archiveKey!,
                ...(p.envelope!.replayOf ? { replay: true } : {}),
                ...(p.envelope!.replayOf && p.envelope!.replayForce ? { force: p.envelope!.replayForce } : {}),
            } satisfies Omit<LaneMessage, "body" | "bodyBase64" | "claim">;
            if (body.length <= config.inlineBodyBytes) {
                const inline = inlineLaneMessage(base, body, p.text, textJsonOf(p));
                if (Buffer.byteLength(inline) <= Limits.sqsMaxMessageBytes) return inline;
            }
            // Claim check: the body goes to S3, the lane message carries the pointer.
            const key = `${ArchivePrefix.Claims}/${base.provider}/${createHash("sha256").update(`${base.requestId}\n${base.eventId}`).digest("hex")}`;
            calls.claims += 1;
            await deps.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body }));
            return JSON.stringify({ ...base, claim: { bucket: config.bucket, key } });
        }
    };
}
