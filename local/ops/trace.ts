/**
 * `trace`: where one event (or one request) is and what happened to it,
 * from what the pipeline already writes, reading only what it must:
 *
 * 1. The archive (handlers/router/archive.ts): only the provider's hourly
 *    partitions of raw/ and quarantine/ that overlap the window (around
 *    `--around`, else back from now), and of those only objects written at or
 *    after the window opens (an object's key starts with the router's time,
 *    which is after every request in it). Accepted copies say when the edge
 *    received the request, under which key, and which lane the router chose;
 *    quarantined ones say why.
 * 2. Per lane, the worker's Powertools idempotency record (processed or in
 *    progress, with its time), read through Powertools' own persistence layer
 *    so the key is hashed exactly as the worker hashes it, and the last error
 *    the worker recorded (handlers/worker/last-error.ts).
 * 3. The queues: every lane DLQ and the catch-all DLQ are listed (no redrive
 *    policy: looking is harmless, see peek.ts); the lane and catch-all queues
 *    only by their counts, unless `peek` is asked for, because a receive there
 *    counts toward maxReceiveCount.
 */
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { Message } from "@aws-sdk/client-sqs";
import { IdempotencyConfig, IdempotencyItemNotFoundError } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { archivePointer, ArchiveRecord, decodeArchive, partitionPrefix } from "../../handlers/router/archive";
import { LastError, readLastError } from "../../handlers/worker/last-error";
import { DeadLetterAttribute } from "../../handlers/worker/sqs-record";
import { idempotencyKey, IdempotencyKeyPrefix } from "../../handlers/worker/worker";
import { ArchivePrefix, LaneName } from "../../model/constants";
import { decodeEnvelope, EnvelopeError } from "../../model/envelope";
import { parseLaneMessage } from "../../model/lane-message";
import type { QueueDepth } from "../queues";
import { queueDepth } from "../queues";
import { peekMessages } from "./peek";
import { idempotencyTableOf, OpsTarget, TargetLane } from "./target";

const HourMs = 3600_000;

/** The archive window: `around` ± 1 h, else the last 6 h (trace says which it read). */
export const TraceWindow = { aroundMs: HourMs, backMs: 6 * HourMs } as const;

export interface TraceQuery {
    readonly provider: string;
    readonly eventId?: string;
    readonly requestId?: string;
    /** Epoch ms the event was received near. @default none: the window ends now */
    readonly around?: number;
    /** Look into the lane and catch-all queues too (each visible message's receive count goes up by one). @default false */
    readonly peek?: boolean;
    /** @default Date.now() */
    readonly now?: number;
}

export interface ArchivedCopy {
    /** `<object key>#<line>` */
    readonly pointer: string;
    readonly key: string;
    readonly requestId: string;
    readonly receivedAt: string;
    readonly eventId?: string;
    readonly eventType?: string;
    /** The lane ids the router sent it to (`drop`: routed nowhere). */
    readonly lanes: readonly string[];
}

export interface QuarantinedCopy {
    readonly pointer: string;
    readonly key: string;
    readonly requestId: string;
    readonly receivedAt: string;
    readonly reason: string;
    readonly detail?: string;
    /** The request named the event id only in its body (a rejected request is not read by the plugin): a lead, not a fact. */
    readonly matchedBy: "request-id" | "body-mentions-event-id";
}

export type LaneState = "processed" | "in-progress" | "in-dlq" | "waiting" | "retrying" | "unknown";

export interface IdempotencyState {
    /** Powertools' status: COMPLETED, INPROGRESS or EXPIRED. */
    readonly status: string;
    /** When the handler finished (records written before this version do not say). */
    readonly processedAt?: string;
    /** When the record expires (after it, a redelivery runs the handler again). */
    readonly expiresAt?: string;
    /** An in-progress record's lease: past it, the attempt is presumed dead and the next delivery runs. */
    readonly inProgressUntil?: string;
}

export interface LaneTrace {
    readonly lane: string;
    readonly kind: "sqs" | "kafka";
    /** The archive shows the router sent it here. */
    readonly routed: boolean;
    readonly state: LaneState;
    /** One line saying what `state` rests on. */
    readonly summary: string;
    readonly idempotency?: IdempotencyState;
    readonly lastError?: Omit<LastError, "provider" | "lane" | "eventId">;
    /** SQS lanes: the lane queue's counts, and what a peek found (only with `peek`). */
    readonly queue?: QueueDepth & { readonly peeked: boolean; readonly found?: "waiting" };
    readonly dlq?: QueueDepth & { readonly found?: { readonly messageId: string; readonly sentAt?: string; readonly receiveCount: number; readonly deadLetterReason?: string } };
}

export interface TraceResult {
    readonly where: OpsTarget["where"];
    readonly provider: string;
    readonly eventId?: string;
    readonly requestId?: string;
    /** What was read of the archive. */
    readonly searched: { readonly from: string; readonly to: string; readonly window: string; readonly partitions: readonly string[]; readonly objects: number };
    readonly archived: readonly ArchivedCopy[];
    readonly quarantined: readonly QuarantinedCopy[];
    readonly lanes: readonly LaneTrace[];
    /** Catch-all: a request that waits for the router (peek), or that the router failed (its DLQ). */
    readonly catchAll: { readonly queue: QueueDepth & { readonly peeked: boolean; readonly found: boolean }; readonly dlq: QueueDepth & { readonly found: boolean } };
    /** What the on-call engineer reads first. */
    readonly verdict: string;
}

/** The window the archive is read in, and how trace describes it. */
export function traceWindow(around: number | undefined, now: number): { from: number; to: number; window: string } {
    if (around !== undefined) return { from: around - TraceWindow.aroundMs, to: around + TraceWindow.aroundMs, window: `--around ${new Date(around).toISOString()} ± ${TraceWindow.aroundMs / HourMs} h` };
    return { from: now - TraceWindow.backMs, to: now, window: `the last ${TraceWindow.backMs / HourMs} h (no --around given)` };
}

/** The hourly partitions of `prefix` (raw or quarantine) for a provider that overlap [from, to]. */
export function partitionsOf(prefix: string, provider: string, from: number, to: number): string[] {
    const out: string[] = [];
    for (let t = Math.floor(from / HourMs) * HourMs; t <= to; t += HourMs) out.push(partitionPrefix(prefix, provider, t));
    return out;
}

/** The router's time in an archive key (`.../<ms>-<batch>.ndjson.gz`). */
function keyTime(key: string): number | undefined {
    const m = /\/(\d{10,})-[^/]*$/.exec(key);
    return m ? Number(m[1]) : undefined;
}

async function listKeys(target: OpsTarget, prefix: string, notBefore: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const out = await target.s3.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of out.Contents ?? []) {
            const at = keyTime(o.Key!);
            // Written before the window opened: every request in it was received before too.
            if (at === undefined || at >= notBefore) keys.push(o.Key!);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
}

/** Run `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
    return out;
}

/** The lanes an archive line says the router chose (`target`: one lane id today; a list where a route fans out). */
export function routedLanes(record: ArchiveRecord): string[] {
    const t = (record as { target?: unknown; targets?: unknown }).targets ?? record.target;
    if (Array.isArray(t)) return t.filter((x): x is string => typeof x === "string");
    return typeof t === "string" && t ? [t] : [];
}

function bodyText(record: ArchiveRecord): string {
    return record.body ?? (record.bodyBase64 ? Buffer.from(record.bodyBase64, "base64").toString("latin1") : "");
}

async function readArchive(target: OpsTarget, query: TraceQuery, from: number, to: number) {
    const partitions = [...partitionsOf(ArchivePrefix.Raw, query.provider, from, to), ...partitionsOf(ArchivePrefix.Quarantine, query.provider, from, to)];
    const keys = (await Promise.all(partitions.map((p) => listKeys(target, p, from)))).flat();
    const archived: ArchivedCopy[] = [];
    const quarantined: QuarantinedCopy[] = [];
    await inBatches(keys, 8, async (key) => {
        const out = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
        decodeArchive(Buffer.from(await out.Body!.transformToByteArray())).forEach((r, line) => {
            if (r.receivedAt < from || r.receivedAt > to) return;
            const pointer = archivePointer(key, line);
            const byRequest = query.requestId !== undefined && r.requestId === query.requestId;
            if (key.startsWith(`${ArchivePrefix.Quarantine}/`)) {
                const byBody = !byRequest && query.eventId !== undefined && bodyText(r).includes(query.eventId);
                if (byRequest || byBody || (query.eventId !== undefined && r.eventId === query.eventId)) {
                    quarantined.push({ pointer, key, requestId: r.requestId, receivedAt: new Date(r.receivedAt).toISOString(), reason: r.reason ?? "unknown", detail: r.detail, matchedBy: byBody ? "body-mentions-event-id" : "request-id" });
                }
            } else if (byRequest || (query.eventId !== undefined && r.eventId === query.eventId)) {
                archived.push({ pointer, key, requestId: r.requestId, receivedAt: new Date(r.receivedAt).toISOString(), eventId: r.eventId, eventType: r.eventType, lanes: routedLanes(r) });
            }
        });
    });
    const byTime = (a: { receivedAt: string; pointer: string }, b: { receivedAt: string; pointer: string }) => a.receivedAt.localeCompare(b.receivedAt) || a.pointer.localeCompare(b.pointer);
    return { partitions, objects: keys.length, archived: archived.sort(byTime), quarantined: quarantined.sort(byTime) };
}

/** The worker's idempotency record for an event on a lane, through Powertools' own key hashing and reading. */
async function idempotencyState(target: OpsTarget, provider: string, lane: string, eventId: string): Promise<IdempotencyState | undefined> {
    const { dynamo, table } = idempotencyTableOf(target);
    const store = new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamo });
    // The worker's settings that decide the key: the JMESPath `key` (worker.ts) and the fixed prefix; md5 is Powertools' default for both.
    store.configure({ config: new IdempotencyConfig({ eventKeyJmesPath: "key" }), keyPrefix: IdempotencyKeyPrefix });
    // Built apart from the call: idempotencyKey takes the lane once keys are per lane, and ignores it before.
    const of = { provider, lane, eventId };
    let record;
    try {
        record = await store.getRecord({ key: idempotencyKey(of) });
    } catch (err) {
        if (err instanceof IdempotencyItemNotFoundError) return undefined;
        throw err;
    }
    const data = record.responseData as { processedAt?: unknown } | undefined;
    const processedAt = typeof data?.processedAt === "number" ? new Date(data.processedAt).toISOString() : undefined;
    const status = record.getStatus();
    return {
        status,
        ...(processedAt ? { processedAt } : {}),
        ...(record.expiryTimestamp ? { expiresAt: new Date(record.expiryTimestamp * 1000).toISOString() } : {}),
        ...(status === "INPROGRESS" && record.inProgressExpiryTimestamp ? { inProgressUntil: new Date(record.inProgressExpiryTimestamp).toISOString() } : {}),
    };
}

function matchesLaneMessage(m: Message, eventId: string | undefined, requestId: string | undefined): boolean {
    try {
        const lane = parseLaneMessage(m.Body ?? "");
        return (eventId !== undefined && lane.eventId === eventId) || (requestId !== undefined && lane.requestId === requestId);
    } catch {
        return false;
    }
}

function matchesEnvelope(m: Message, provider: string, eventId: string | undefined, requestId: string | undefined): boolean {
    try {
        const envelope = decodeEnvelope(m.Body ?? "", m.MessageAttributes as Parameters<typeof decodeEnvelope>[1]);
        if (envelope.provider !== provider) return false;
        if (requestId !== undefined && envelope.requestId === requestId) return true;
        // Not routed yet: the event id is only in the body, unread by any plugin.
        return eventId !== undefined && envelope.encoding !== "s3" && envelope.body.toString("latin1").includes(eventId);
    } catch (err) {
        if (err instanceof EnvelopeError) return false;
        throw err;
    }
}

function laneSummary(t: Omit<LaneTrace, "state" | "summary">, now: number): { state: LaneState; summary: string } {
    const err = t.lastError ? `; last error (attempt ${t.lastError.attempt}, ${new Date(t.lastError.at).toISOString()}): ${t.lastError.errorClass}: ${t.lastError.message}` : "";
    if (t.dlq?.found) return { state: "in-dlq", summary: `in the DLQ (message ${t.dlq.found.messageId}${t.dlq.found.deadLetterReason ? `, ${t.dlq.found.deadLetterReason}` : ""})${err}; \`ops dlq\` shows it, \`ops redrive\` moves it back` };
    const i = t.idempotency;
    if (i?.status === "COMPLETED") return { state: "processed", summary: `processed${i.processedAt ? ` at ${i.processedAt}` : " (time not recorded)"}; a redelivery before ${i.expiresAt ?? "expiry"} is skipped as a duplicate${t.lastError ? `; it had failed before (attempt ${t.lastError.attempt}, ${new Date(t.lastError.at).toISOString()}: ${t.lastError.errorClass}: ${t.lastError.message})` : ""}` };
    if (i?.status === "INPROGRESS") {
        const lease = i.inProgressUntil ? Date.parse(i.inProgressUntil) : undefined;
        return lease !== undefined && lease < now
            ? { state: "retrying", summary: `an attempt started and never finished (lease ended ${i.inProgressUntil}); the next delivery runs it again${err}` }
            : { state: "in-progress", summary: `being processed now (lease until ${i.inProgressUntil ?? "?"})${err}` };
    }
    if (t.queue?.found) return { state: "waiting", summary: `waiting in the lane queue${err}` };
    if (t.lastError) return { state: "retrying", summary: `failed, not in the DLQ: waiting for its next attempt (in flight until its visibility timeout ends)${err}` };
    const depth = t.queue ? ` (the lane queue holds ${t.queue.visible} waiting, ${t.queue.inFlight} in flight${t.queue.peeked ? ", none of them this event" : "; --peek looks, at the cost of a receive each"})` : t.kind === "kafka" ? " (a Kafka lane: its topic is not inspected)" : "";
    return { state: "unknown", summary: `no processing record, no error, not in the DLQ${depth}` };
}

export async function traceEvent(target: OpsTarget, query: TraceQuery): Promise<TraceResult> {
    if (!target.providers.includes(query.provider)) throw new Error(`unknown provider "${query.provider}" (configured: ${target.providers.join(", ")})`);
    if (!query.eventId && !query.requestId) throw new Error("trace needs --event-id <provider's event id> or --request-id <edge request id>");
    const { dynamo, table } = idempotencyTableOf(target);
    const now = query.now ?? Date.now();
    const { from, to, window } = traceWindow(query.around, now);
    const archive = await readArchive(target, query, from, to);
    // A request id leads to its event id (and the reverse), so each lookup below can use both.
    const eventId = query.eventId ?? archive.archived.find((a) => a.eventId)?.eventId;
    const requestIds = new Set([query.requestId, ...archive.archived.map((a) => a.requestId)].filter((x): x is string => !!x));
    const requestId = query.requestId ?? [...requestIds][0];

    const sqsLanes = target.lanes.filter((l) => l.provider === query.provider);
    const routed = new Set(archive.archived.flatMap((a) => a.lanes));
    const laneIds = [...new Set([...sqsLanes.map((l) => l.id), ...[...routed].filter((id) => id !== LaneName.Drop)])];

    // Keys that do not name the lane (idempotency keyed by provider and event id alone) give every lane the same
    // record: it is then the routed lanes' (whichever processed it), and the others are not told it.
    const keyOf = (lane: string) => {
        const of = { provider: query.provider, lane, eventId: eventId ?? "" };
        return idempotencyKey(of);
    };
    const sharesKey = (id: string) => routed.size > 0 && !routed.has(id) && [...routed].some((r) => keyOf(r) === keyOf(id));

    const lanes = await Promise.all(
        laneIds.map(async (id): Promise<LaneTrace> => {
            const sqsLane: TargetLane | undefined = sqsLanes.find((l) => l.id === id);
            const [idempotency, lastError] = eventId
                ? await Promise.all([sharesKey(id) ? undefined : idempotencyState(target, query.provider, id, eventId), readLastError(dynamo, table, { provider: query.provider, lane: id, eventId }, now)])
                : [undefined, undefined];
            let queue: LaneTrace["queue"];
            let dlq: LaneTrace["dlq"];
            if (sqsLane) {
                const matches = (m: Message) => matchesLaneMessage(m, eventId, requestId) || [...requestIds].some((r) => matchesLaneMessage(m, undefined, r));
                const dead = await peekMessages(target.sqs, sqsLane.dlqUrl);
                const hit = dead.messages.find(matches);
                dlq = {
                    ...dead.depth,
                    ...(hit
                        ? { found: { messageId: hit.MessageId!, sentAt: hit.Attributes?.SentTimestamp ? new Date(Number(hit.Attributes.SentTimestamp)).toISOString() : undefined, receiveCount: Number(hit.Attributes?.ApproximateReceiveCount ?? 0), deadLetterReason: hit.MessageAttributes?.[DeadLetterAttribute.Reason]?.StringValue } }
                        : {}),
                };
                if (query.peek) {
                    const live = await peekMessages(target.sqs, sqsLane.queueUrl);
                    queue = { ...live.depth, peeked: true, ...(live.messages.some(matches) ? { found: "waiting" as const } : {}) };
                } else queue = { ...(await queueDepth(target.sqs, sqsLane.queueUrl)), peeked: false };
            }
            const base = {
                lane: id,
                kind: sqsLane ? ("sqs" as const) : ("kafka" as const),
                routed: routed.has(id),
                ...(idempotency ? { idempotency } : {}),
                ...(lastError ? { lastError: { errorClass: lastError.errorClass, message: lastError.message, attempt: lastError.attempt, at: lastError.at } } : {}),
                ...(queue ? { queue } : {}),
                ...(dlq ? { dlq } : {}),
            };
            return { ...base, ...laneSummary(base, now) };
        }),
    );

    const catchAllMatch = (m: Message) => matchesEnvelope(m, query.provider, eventId, requestId);
    const catchDlq = await peekMessages(target.sqs, target.catchAll.dlqUrl);
    const catchQueue = query.peek ? await peekMessages(target.sqs, target.catchAll.queueUrl) : { depth: await queueDepth(target.sqs, target.catchAll.queueUrl), messages: [] };
    const catchAll = {
        queue: { ...catchQueue.depth, peeked: query.peek === true, found: catchQueue.messages.some(catchAllMatch) },
        dlq: { ...catchDlq.depth, found: catchDlq.messages.some(catchAllMatch) },
    };

    const result = { where: target.where, provider: query.provider, ...(eventId ? { eventId } : {}), ...(requestId ? { requestId } : {}), searched: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), window, partitions: archive.partitions, objects: archive.objects }, archived: archive.archived, quarantined: archive.quarantined, lanes, catchAll };
    return { ...result, verdict: verdictOf(result) };
}

function verdictOf(r: Omit<TraceResult, "verdict">): string {
    const routedLanes = r.lanes.filter((l) => l.routed);
    const parts: string[] = [];
    if (r.archived.length) parts.push(`received ${r.archived.length === 1 ? "once" : `${r.archived.length} times`} (first ${r.archived[0].receivedAt})`);
    const quarantined = r.quarantined.filter((q) => q.matchedBy === "request-id");
    if (quarantined.length) parts.push(`quarantined: ${[...new Set(quarantined.map((q) => q.reason))].join(", ")}`);
    const shown = routedLanes.length ? routedLanes : r.lanes.filter((l) => l.state !== "unknown");
    for (const l of shown) parts.push(`${l.lane}: ${l.state}`);
    if (r.catchAll.dlq.found) parts.push("the request is in the router's DLQ (`ops redrive --catch-all` sends it back)");
    if (r.catchAll.queue.found) parts.push("waiting for the router in the catch-all queue");
    if (!r.archived.length && !quarantined.length && !shown.length && !r.catchAll.dlq.found && !r.catchAll.queue.found) {
        parts.push(`not found in the archive (${r.searched.window}) nor in any DLQ${r.quarantined.length ? `; ${r.quarantined.length} quarantined request(s) mention it in their body` : ""}: try --around <when it was sent>`);
    }
    if (r.archived.some((a) => a.lanes.includes(LaneName.Drop))) parts.push("routed to drop (no lane: processed by nothing, by the routing rules)");
    return parts.join("; ");
}

export function formatTrace(r: TraceResult): string {
    const lines = [`trace ${r.provider} ${r.eventId ? `event ${r.eventId}` : ""}${r.requestId ? `${r.eventId ? ", " : ""}request ${r.requestId}` : ""} (${r.where})`.replace("  ", " "), `  verdict: ${r.verdict}`];
    lines.push(`  archive: read ${r.searched.partitions.length} hourly partitions, ${r.searched.objects} object(s), ${r.searched.window}: ${r.searched.from} .. ${r.searched.to}`);
    for (const a of r.archived) lines.push(`    archived  ${a.receivedAt}  request ${a.requestId}  ${a.eventType ?? "?"}  -> ${a.lanes.join(", ") || "?"}  ${a.pointer}`);
    for (const q of r.quarantined) lines.push(`    quarantined  ${q.receivedAt}  request ${q.requestId}  ${q.reason}${q.detail ? ` (${q.detail})` : ""}${q.matchedBy === "body-mentions-event-id" ? "  [its body mentions the event id; unverified]" : ""}  ${q.pointer}`);
    if (!r.archived.length && !r.quarantined.length) lines.push("    nothing archived in the window");
    const quiet = r.lanes.filter((l) => !l.routed && l.state === "unknown");
    for (const l of r.lanes.filter((x) => !quiet.includes(x))) {
        lines.push(`  lane ${l.lane}${l.routed ? " (routed here)" : ""}: ${l.state}`);
        lines.push(`    ${l.summary}`);
        if (l.queue || l.dlq) lines.push(`    queue ${l.queue ? `${l.queue.visible} waiting, ${l.queue.inFlight} in flight${l.queue.peeked ? " (peeked)" : ""}` : "-"}; DLQ ${l.dlq ? l.dlq.visible + l.dlq.inFlight : "-"}`);
    }
    if (quiet.length) lines.push(`  no trace of it on ${quiet.map((l) => `${l.lane} (queue ${l.queue ? `${l.queue.visible} waiting, ${l.queue.inFlight} in flight` : "not inspected"}, DLQ ${l.dlq ? l.dlq.visible + l.dlq.inFlight : "-"})`).join(", ")}${quiet.some((l) => l.queue && !l.queue.peeked && l.queue.visible + l.queue.inFlight > 0) ? "; --peek looks inside the queues (a receive each)" : ""}`);
    lines.push(`  catch-all: queue ${r.catchAll.queue.visible} waiting${r.catchAll.queue.peeked ? (r.catchAll.queue.found ? " (this request among them)" : " (peeked: not this one)") : ""}; DLQ ${r.catchAll.dlq.visible}${r.catchAll.dlq.found ? " (this request among them)" : ""}`);
    return lines.join("\n");
}
