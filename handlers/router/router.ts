/**
 * The router: a batch of catch-all messages in, lane messages and archive
 * objects out. Plain logic with its clients passed in; `lambda.ts` adapts it
 * to an SQS event source and the local pipeline calls it directly.
 *
 * For each message: read the envelope, find the provider, verify the
 * signature against the provider's secret(s), read the event id, type and
 * ordering key, and pick the lane(s) by the provider's rules. Then, for the
 * batch: write the archive (one object per provider and hour), and send each
 * lane its messages in batches. A message is reported as failed (and so
 * redelivered) unless it was archived AND routed, dropped or quarantined.
 *
 * Fan-out: a route may name several lanes; the request is archived once (one
 * line), a claim-checked body is put to S3 once and every lane's message
 * points at it, and each lane gets its own message. When some of a record's
 * lanes took it and another did not, the record is reported as failed and
 * comes back whole: the lanes that took it get it again, and their workers'
 * idempotency (per lane: handlers/worker/worker.ts idempotencyKey) skips it
 * as a duplicate, so each lane's handler still runs once.
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
import { ArchivePrefix, LaneName, Limits } from "../../model/constants";
import { decodeEnvelope, Envelope, EnvelopeError, EventAttribute, isSqsSafe, SdkAttribute, utf8Text } from "../../model/envelope";
import { compileAllowlist } from "../../model/source-ip";
import { judgeEnvelope, needsKey } from "../../model/trust";
import { LaneMessage, LaneMessageVersion } from "../../model/lane-message";
import { compileRoutes } from "../../model/pipeline";
import type { LaneRuntime, ProviderRuntime, RouterRuntimeConfig } from "../../model/runtime-config";
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
    /** The connection's address is outside the provider's allowedSourceIps. */
    SourceIp: "source-ip",
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

/** One catch-all record as the router works on it (what the pure stage reads and fills in). */
export interface Pending {
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
    /** Lane ids the route names (several for a fan-out route), or `["drop"]`. */
    targets?: readonly string[];
    archiveKey?: string;
    /** Transient problem: report as failure, do nothing else. */
    error?: string;
}

/** A pipeline's config with its plugins and route tables compiled (once per container). */
export interface CompiledRouter {
    readonly config: RouterRuntimeConfig;
    readonly plugins: Readonly<Record<string, ProviderPlugin>>;
    readonly routers: Readonly<Record<string, (eventType: string) => readonly string[]>>;
    /** Providers with allowedSourceIps: does an address pass. */
    readonly allowlists: Readonly<Record<string, (ip: string) => boolean>>;
}

export function compileRouter(config: RouterRuntimeConfig): CompiledRouter {
    const plugins: Record<string, ProviderPlugin> = {};
    const routers: Record<string, (eventType: string) => readonly string[]> = {};
    const allowlists: Record<string, (ip: string) => boolean> = {};
    for (const p of Object.values(config.providers)) {
        plugins[p.name] = getPlugin(p.plugin, p.hmac);
        routers[p.name] = compileRoutes(p.routes);
        if (p.allowedSourceIps) allowlists[p.name] = compileAllowlist(p.allowedSourceIps);
    }
    return { config, plugins, routers, allowlists };
}

/** Decode the record's envelope; an unreadable one is rejected as malformed-envelope. False when there is nothing more to decide. */
export function readEnvelope(p: Pending): boolean {
    try {
        p.envelope = decodeEnvelope(p.record.body, p.record.attributes);
        return true;
    } catch (err) {
        if (!(err instanceof EnvelopeError)) throw err;
        p.reject = { reason: QuarantineReason.MalformedEnvelope, detail: err.message };
        return false;
    }
}

/**
 * Judge what the envelope may be believed (model/trust.ts) with the internal key's list (`[]` when
 * needsKey() says none is needed): sets the received-at time the tolerance runs from, or rejects the
 * record as untrusted-envelope with the message body as it arrived. False when rejected.
 */
export function applyTrust(compiled: CompiledRouter, p: Pending, keys: readonly string[], now: number): boolean {
    const envelope = p.envelope!;
    const verdict = judgeEnvelope(envelope, p.record.body, { sentTimestamp: p.record.sentTimestamp, ingress: compiled.config.providers[envelope.provider]?.ingress, checksSourceIp: compiled.allowlists[envelope.provider] !== undefined, keys, now });
    p.envelope = { ...envelope, receivedAt: verdict.receivedAt };
    if (verdict.trusted) return true;
    // An unsealed encoding is not followed: the bytes kept are the message body as it arrived.
    p.body = Buffer.from(p.record.body, "utf8");
    p.text = p.record.body;
    p.provider = compiled.config.providers[envelope.provider];
    p.reject = { reason: QuarantineReason.UntrustedEnvelope, detail: verdict.problem };
    return false;
}

/** Use the envelope's own bytes as the body (every encoding but a claim check). */
export function inlineBody(p: Pending): void {
    p.body = p.envelope!.body;
    p.text = utf8Text(p.body, p.envelope!.text);
}

/**
 * Verify the record with its provider's secrets and read its facts and lane: pure, for a record whose
 * body is known. Rejects unknown providers, addresses outside allowedSourceIps and what fails verification.
 * Returns the verdict (undefined for an unknown provider or a refused address: no secret decides those), so the caller can re-read a rotated secret and decide again.
 */
export function decideRecord(compiled: CompiledRouter, p: Pending, secrets: readonly string[], now: number): VerifyResult | undefined {
    const envelope = p.envelope!;
    const provider = compiled.config.providers[envelope.provider];
    if (!provider) {
        p.reject = { reason: QuarantineReason.UnknownProvider, detail: `provider "${envelope.provider}" is not configured` };
        return undefined;
    }
    p.provider = provider;
    p.reject = undefined;
    // The address is the connection's (trusted by applyTrust: sealed, or both direct copies agree). A replay
    // re-sends a request that passed the list when it arrived, so a list changed since does not refuse it.
    const allowed = compiled.allowlists[provider.name];
    if (allowed && !envelope.replayOf && !allowed(envelope.sourceIp)) {
        p.reject = { reason: QuarantineReason.SourceIp, detail: `source address ${envelope.sourceIp} is not in providers ${provider.name} allowedSourceIps (${provider.allowedSourceIps!.join(", ")})` };
        return undefined;
    }
    const request: WebhookRequest = { headers: envelope.headers, body: p.body!, url: envelope.url ?? "" };
    const plugin = compiled.plugins[provider.name];
    // A replay re-sends archived bytes: the signature must still verify, the timestamp may be old.
    const tolerance = envelope.replayOf ? Number.MAX_SAFE_INTEGER : provider.toleranceSeconds;
    const verdict = plugin.verify(request, secrets, { now: edgeTime(envelope, now), toleranceSeconds: tolerance });
    if (!verdict.ok) {
        p.reject = { reason: verdict.reason, detail: verdict.detail };
        return verdict;
    }
    p.facts = plugin.facts(request);
    p.targets = compiled.routers[provider.name](p.facts.eventType);
    return verdict;
}

/**
 * Every per-record decision without I/O, for records whose secrets and internal key are at hand and
 * whose bodies travel inline (what `createRouter` does around its reads; benchmarks time it alone).
 */
export function decideRecordNow(compiled: CompiledRouter, p: Pending, inputs: { keys: readonly string[]; secrets: (provider: string) => readonly string[] }, now: number): void {
    if (!readEnvelope(p) || !applyTrust(compiled, p, needsKey(p.envelope!) ? inputs.keys : [], now)) return;
    inlineBody(p);
    decideRecord(compiled, p, inputs.secrets(p.envelope!.provider) ?? [], now);
}

/** When the edge received the request; the router's clock when that is missing or in the future. */
function edgeTime(envelope: Envelope, now: number): number {
    return envelope.receivedAt > 0 && envelope.receivedAt <= now + maxEdgeClockSkewMs ? envelope.receivedAt : now;
}

/** One archive object of a batch: its key and the records whose lines it holds, in line order. */
export interface ArchiveGroup {
    readonly key: string;
    readonly items: Pending[];
    readonly lines: string[];
}

/** A lane message of a batch: inline (`body`) or, when too large for that, to go by claim check (`claim`). */
export interface PlannedMessage {
    readonly p: Pending;
    readonly lane: LaneRuntime;
    readonly base: Omit<LaneMessage, "body" | "bodyBase64" | "claim">;
    readonly body?: string;
    readonly claim?: true;
}

export interface BatchPlan {
    /** One object per (prefix, provider, hour); replays are not archived again. */
    readonly archive: ArchiveGroup[];
    /** Accepted, routed records' lane messages, in record order (FIFO lanes keep it). */
    readonly messages: PlannedMessage[];
    /** The same messages by lane id. */
    readonly byLane: Map<string, PlannedMessage[]>;
}

/**
 * The router's pure per-batch stage, for decided records: group the archive lines into one object per
 * (prefix, provider, hour) named `<partition><now>-<batchId>.ndjson.gz` (each record's archive pointer
 * is set to its line there), and build each routed record's lane message, grouped by lane. Records with
 * an error are left out; a route to a lane the pipeline lacks sets one. No I/O: the router then writes
 * the objects, makes the claim checks the plan asks for, and sends each lane its messages.
 */
export function planBatch(compiled: CompiledRouter, pending: readonly Pending[], now: number, batchId: string): BatchPlan {
    const { config } = compiled;
    const groups = new Map<string, { items: Pending[]; lines: string[] }>();
    const add = (prefix: string, p: Pending, line: string) => {
        const group = groups.get(prefix) ?? { items: [], lines: [] };
        group.items.push(p);
        group.lines.push(line);
        groups.set(prefix, group);
    };
    for (const p of pending) {
        if (p.error) continue;
        if (!p.envelope) {
            if (p.reject) {
                // An unreadable envelope still gets quarantined, with what can be read.
                const line: ArchiveRecord = { v: 1, provider: UnknownProvider, requestId: p.record.messageId, receivedAt: now, sourceIp: "unknown", headers: {}, body: p.record.body, reason: p.reject.reason, detail: p.reject.detail };
                add(partitionPrefix(ArchivePrefix.Quarantine, UnknownProvider, now), p, JSON.stringify(line));
            }
            continue;
        }
        if (p.envelope.replayOf && !p.reject) {
            p.archiveKey = p.envelope.replayOf;
            continue;
        }
        const prefix = p.reject ? ArchivePrefix.Quarantine : ArchivePrefix.Raw;
        // Only configured names become key parts: an unknown provider's name is whatever the message said.
        // `target` is the first lane (as before fan-out); `targets` lists them all when a route fans out.
        const extra = p.reject
            ? { reason: p.reject.reason, detail: p.reject.detail }
            : { eventId: p.facts!.eventId, eventType: p.facts!.eventType, target: p.targets![0], ...(p.targets!.length > 1 ? { targets: p.targets } : {}) };
        add(partitionPrefix(prefix, p.provider ? p.provider.name : UnknownProvider, p.envelope.receivedAt), p, archiveLine(p.envelope, extra, bodyMember(p.body!, p.text, textJsonOf(p))));
    }
    const archive = [...groups].map(([prefix, group]): ArchiveGroup => {
        const key = `${prefix}${now}-${batchId}.ndjson.gz`;
        group.items.forEach((p, line) => (p.archiveKey = archivePointer(key, line)));
        return { key, items: group.items, lines: group.lines };
    });

    const messages: PlannedMessage[] = [];
    const byLane = new Map<string, PlannedMessage[]>();
    for (const p of pending) {
        if (p.error || p.reject || !p.envelope || isDrop(p)) continue;
        const missing = p.targets!.filter((id) => !config.lanes[id]);
        if (missing.length) {
            p.error = `route target ${missing.join(", ")} is not a lane of this pipeline`;
            continue;
        }
        for (const id of p.targets!) {
            const planned = planMessage(config, p, config.lanes[id]);
            messages.push(planned);
            const list = byLane.get(id) ?? [];
            list.push(planned);
            byLane.set(id, list);
        }
    }
    return { archive, messages, byLane };
}

/** A `drop` route: archived, not sent. */
const isDrop = (p: Pending) => p.targets?.length === 1 && p.targets[0] === LaneName.Drop;

/** One lane's message for a decided record: inline when it fits, else to go by claim check. */
function planMessage(config: RouterRuntimeConfig, p: Pending, lane: LaneRuntime): PlannedMessage {
    const envelope = p.envelope!;
    const base = {
        v: LaneMessageVersion,
        provider: envelope.provider,
        lane: lane.id,
        requestId: envelope.requestId,
        eventId: p.facts!.eventId,
        eventType: p.facts!.eventType,
        orderingKey: p.facts!.orderingKey,
        receivedAt: envelope.receivedAt,
        archiveKey: p.archiveKey!,
        // Only providers with a destination lane map the header at the edge (ProviderModel.headers).
        ...(envelope.headers["content-type"] ? { contentType: envelope.headers["content-type"] } : {}),
        ...(envelope.replayOf ? { replay: true } : {}),
        ...(envelope.replayOf && envelope.replayForce ? { force: envelope.replayForce } : {}),
    } satisfies Omit<LaneMessage, "body" | "bodyBase64" | "claim">;
    if (p.body!.length <= config.inlineBodyBytes) {
        const inline = inlineLaneMessage(base, p.body!, p.text, textJsonOf(p));
        if (Buffer.byteLength(inline) <= Limits.sqsMaxMessageBytes) return { p, lane, base, body: inline };
    }
    return { p, lane, base, claim: true };
}

const inc = (map: Record<string, number>, key: string, by = 1) => {
    map[key] = (map[key] ?? 0) + by;
};

export function createRouter(deps: RouterDeps): (records: readonly InboundRecord[]) => Promise<RouterResult> {
    const logger = deps.logger ?? silentLogger;
    const now = deps.now ?? Date.now;
    const { config } = deps;
    // Plugins and route tables are compiled once per container.
    const compiled = compileRouter(config);

    async function resolveBody(p: Pending, calls: RouterReport["calls"]): Promise<void> {
        const envelope = p.envelope!;
        if (envelope.encoding !== "s3") return inlineBody(p);
        // The ingress function put a large body into S3 first (claim check).
        const pointer = claimPointer(envelope.body);
        calls.claims += 1;
        const out = await deps.s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
        p.body = Buffer.from(await out.Body!.transformToByteArray());
        p.text = utf8Text(p.body);
    }

    /** The record's decision, with the reads it needs between the pure steps (decideRecordNow without I/O). */
    async function inspect(p: Pending, calls: RouterReport["calls"]) {
        if (!readEnvelope(p)) return;
        let keys: readonly string[] = [];
        if (needsKey(p.envelope!)) {
            try {
                keys = await deps.secrets(config.sealSecretId);
            } catch (err) {
                p.error = (err as Error).message;
                return;
            }
            if (!judgeEnvelope(p.envelope!, p.record.body, { sentTimestamp: p.record.sentTimestamp, ingress: config.providers[p.envelope!.provider]?.ingress, checksSourceIp: config.providers[p.envelope!.provider]?.allowedSourceIps !== undefined, keys, now: now() }).trusted) {
                // The cached key may predate a rotation: read it again (at most every refreshAfterMs).
                keys = await deps.secrets(config.sealSecretId, { maxAgeMs: SecretCache.refreshAfterMs }).catch(() => keys);
            }
        }
        if (!applyTrust(compiled, p, keys, now())) return;
        try {
            await resolveBody(p, calls);
        } catch (err) {
            // A pointer that cannot be right is bad input; a failed read may be transient.
            if (err instanceof ClaimPointerError) {
                // Quarantined with the pointer itself as the body: it is all there is.
                inlineBody(p);
                p.reject = { reason: QuarantineReason.MalformedEnvelope, detail: err.message };
            } else {
                p.error = `reading the claim-checked body failed: ${(err as Error).name}: ${(err as Error).message}`;
            }
            return;
        }
        const provider = config.providers[p.envelope!.provider];
        if (!provider) return void decideRecord(compiled, p, [], now());
        let secrets: readonly string[];
        try {
            secrets = await deps.secrets(provider.secretId);
        } catch (err) {
            p.error = (err as Error).message;
            return;
        }
        const verdict = decideRecord(compiled, p, secrets, now());
        if (verdict && !verdict.ok && (verdict.reason === RejectReason.BadSignature || verdict.reason === RejectReason.NoSecret)) {
            // The cached secret may predate a rotation or the secret being set: read it again (at most every refreshAfterMs).
            const fresh = await deps.secrets(provider.secretId, { maxAgeMs: SecretCache.refreshAfterMs }).catch(() => secrets);
            if (fresh !== secrets) decideRecord(compiled, p, fresh, now());
        }
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

    /**
     * A claim check: the body goes to S3, the lane message carries the pointer. The key depends on the
     * request alone, so the lanes of a fan-out share one object, put once per batch (`puts`, per record).
     */
    async function claimMessage(m: PlannedMessage, calls: RouterReport["calls"], puts: Map<Pending, Promise<string>>): Promise<string> {
        let put = puts.get(m.p);
        if (!put) {
            const key = `${ArchivePrefix.Claims}/${m.base.provider}/${createHash("sha256").update(`${m.base.requestId}\n${m.base.eventId}`).digest("hex")}`;
            calls.claims += 1;
            put = deps.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: m.p.body! })).then(() => key);
            puts.set(m.p, put);
        }
        const key = await put;
        return JSON.stringify({ ...m.base, claim: { bucket: config.bucket, key } });
    }

    return async function route(records) {
        const report: RouterReport = { received: records.length, accepted: 0, quarantined: {}, routed: {}, dropped: {}, archived: {}, failed: 0, calls: { archive: 0, send: 0, claims: 0 } };
        const pending: Pending[] = records.map((record) => ({ record }));
        await Promise.all(pending.map((p) => inspect(p, report.calls).catch((err: Error) => void (p.error = `${err.name}: ${err.message}`))));

        const plan = planBatch(compiled, pending, now(), randomUUID());
        await Promise.all(
            plan.archive.map(async (group) => {
                report.calls.archive += 1;
                try {
                    await deps.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: group.key, Body: encodeArchive(group.lines), ContentType: "application/x-ndjson", ContentEncoding: "gzip" }));
                } catch (err) {
                    for (const p of group.items) p.error = `archiving to ${group.key} failed: ${(err as Error).message}`;
                }
            }),
        );

        // Quarantined and dropped requests are done once archived; the rest go to their lanes
        // (claim checks written concurrently, messages kept in record order for FIFO lanes).
        for (const p of pending) {
            if (p.error) continue;
            const provider = p.envelope?.provider ?? UnknownProvider;
            if (p.reject) {
                inc((report.quarantined[provider] ??= {}), p.reject.reason);
                logger.warn("webhook quarantined", { provider, requestId: p.envelope?.requestId, reason: p.reject.reason, detail: p.reject.detail, archiveKey: p.archiveKey });
                continue;
            }
            report.accepted += 1;
            if (!p.envelope!.replayOf) inc(report.archived, provider);
            if (isDrop(p)) inc(report.dropped, provider);
        }
        const claimPuts = new Map<Pending, Promise<string>>();
        const bodies = await Promise.all(
            plan.messages.map(async (m) => {
                if (m.p.error) return undefined;
                if (m.body !== undefined) return m.body;
                return claimMessage(m, report.calls, claimPuts).catch((err: Error) => void (m.p.error = `claim check failed: ${err.name}: ${err.message}`));
            }),
        );
        const bodyOf = new Map(plan.messages.map((m, i) => [m, bodies[i]]));

        const failedSends = new Map<string, string>();
        await Promise.all(
            [...plan.byLane].map(async ([laneId, planned]) => {
                const lane = config.lanes[laneId];
                const messages: OutboundMessage[] = planned.flatMap((m) => {
                    const body = bodyOf.get(m);
                    return m.p.error || body === undefined ? [] : [{ recordId: m.p.record.messageId, lane, body, eventId: m.base.eventId, orderingKey: m.base.orderingKey, provider: m.base.provider }];
                });
                if (messages.length === 0) return;
                const outcome = lane.kind === "kafka" ? await sendToKafkaLane(deps.kafka, lane, messages) : await sendToSqsLane(deps.sqs, lane, messages);
                report.calls.send += outcome.calls;
                // A fan-out record can fail on several lanes: every reason is kept.
                for (const [id, why] of outcome.failed) failedSends.set(id, [failedSends.get(id), `sending to lane ${laneId} failed: ${why}`].filter(Boolean).join("; "));
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
    };
}
