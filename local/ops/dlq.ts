/**
 * `dlq`: what is in a lane's DLQ, and why, without consuming the messages
 * (peek.ts: a DLQ has no redrive policy, so looking costs nothing but a
 * receive count). Per message: the event it carries (read from the lane
 * message), its attempts and the last error the worker recorded
 * (handlers/worker/last-error.ts), and the reason a destination lane gave when
 * it dead-lettered the message itself (wp-dead-letter-reason,
 * wp-delivery-status). `showDlqMessage` adds the body.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { DeadLetterAttribute } from "../../handlers/worker/sqs-record";
import { LastError, readLastError } from "../../handlers/worker/last-error";
import { LaneMessage, parseLaneMessage } from "../../model/lane-message";
import type { QueueDepth } from "../queues";
import { peekMessages } from "./peek";
import { idempotencyTableOf, lanesOf, OpsTarget, TargetLane } from "./target";

export interface DlqMessage {
    /** The SQS message id (what `--show` takes, or the event id). */
    readonly id: string;
    readonly lane: string;
    readonly eventId?: string;
    readonly eventType?: string;
    readonly requestId?: string;
    /** `<archive key>#<line>` of the raw request. */
    readonly archiveKey?: string;
    /** When the edge received the request (ISO 8601). */
    readonly firstSeen?: string;
    /** When the last attempt failed (the recorded last error), else when the message entered the DLQ's queue chain (SentTimestamp). */
    readonly lastSeen?: string;
    /** Delivery attempts the worker made (the last error's attempt); unknown without a recorded error. */
    readonly attempts?: number;
    /** ApproximateReceiveCount as SQS reports it now (every receive counts, this listing's included). */
    readonly receiveCount: number;
    readonly lastError?: Omit<LastError, "provider" | "lane" | "eventId"> & { readonly at: number };
    /** A destination lane's own dead-letter reason and HTTP status. */
    readonly deadLetterReason?: string;
    readonly deliveryStatus?: number;
    /** Set when the body is not a lane message (it is shown as it is). */
    readonly unreadable?: string;
}

export interface DlqListing {
    readonly lane: string;
    readonly provider: string;
    readonly depth: QueueDepth;
    readonly messages: readonly DlqMessage[];
    /** Every visible message was listed. */
    readonly complete: boolean;
}

export interface DlqMessageDetail extends DlqMessage {
    /** The request body as it arrived: text, base64 for bytes that are not UTF-8, or the claim check it travelled by. */
    readonly body: { readonly text?: string; readonly base64?: string; readonly claim?: { readonly bucket: string; readonly key: string } };
    readonly orderingKey?: string;
    readonly replay?: boolean;
}

const iso = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined);

async function describe(target: OpsTarget, lane: TargetLane, m: Message): Promise<{ entry: DlqMessage; lane?: LaneMessage }> {
    const attributes = m.MessageAttributes ?? {};
    const status = Number(attributes[DeadLetterAttribute.Status]?.StringValue);
    const common = {
        id: m.MessageId!,
        lane: lane.id,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        ...(attributes[DeadLetterAttribute.Reason]?.StringValue ? { deadLetterReason: attributes[DeadLetterAttribute.Reason].StringValue } : {}),
        ...(Number.isFinite(status) ? { deliveryStatus: status } : {}),
    };
    const sent = Number(m.Attributes?.SentTimestamp);
    let message: LaneMessage;
    try {
        message = parseLaneMessage(m.Body ?? "");
    } catch (err) {
        return { entry: { ...common, lastSeen: iso(sent), unreadable: (err as Error).message } };
    }
    const { dynamo, table } = idempotencyTableOf(target);
    const last = await readLastError(dynamo, table, { provider: message.provider, lane: message.lane, eventId: message.eventId });
    return {
        lane: message,
        entry: {
            ...common,
            eventId: message.eventId,
            eventType: message.eventType,
            requestId: message.requestId,
            archiveKey: message.archiveKey,
            firstSeen: iso(message.receivedAt),
            lastSeen: iso(last?.at ?? sent),
            attempts: last?.attempt,
            ...(last ? { lastError: { errorClass: last.errorClass, message: last.message, attempt: last.attempt, at: last.at } } : {}),
        },
    };
}

async function listLane(target: OpsTarget, lane: TargetLane): Promise<{ listing: DlqListing; raw: { message: Message; lane?: LaneMessage; entry: DlqMessage }[] }> {
    const peeked = await peekMessages(target.sqs, lane.dlqUrl);
    const raw = await Promise.all(peeked.messages.map(async (message) => ({ message, ...(await describe(target, lane, message)) })));
    raw.sort((a, b) => (a.entry.firstSeen ?? "").localeCompare(b.entry.firstSeen ?? "") || a.entry.id.localeCompare(b.entry.id));
    return { listing: { lane: lane.id, provider: lane.provider, depth: peeked.depth, messages: raw.map((r) => r.entry), complete: peeked.complete }, raw };
}

/** The DLQ messages of a provider's SQS lanes (or one lane's), oldest first. */
export async function listDlq(target: OpsTarget, provider: string, lane?: string): Promise<DlqListing[]> {
    idempotencyTableOf(target);
    const listings: DlqListing[] = [];
    for (const l of lanesOf(target, provider, lane)) listings.push((await listLane(target, l)).listing);
    return listings;
}

/** One DLQ message, by its SQS message id or its event id, with its body; throws naming what was looked for. */
export async function showDlqMessage(target: OpsTarget, provider: string, lane: string, id: string): Promise<DlqMessageDetail> {
    idempotencyTableOf(target);
    const [l] = lanesOf(target, provider, lane);
    const { raw, listing } = await listLane(target, l);
    const found = raw.find((r) => r.entry.id === id) ?? raw.find((r) => r.entry.eventId === id);
    if (!found) {
        throw new Error(`no message "${id}" (message id or event id) in the DLQ of ${l.id}: it holds ${listing.depth.visible} (listed ${listing.messages.length}${listing.complete ? "" : ", not all"})`);
    }
    const m = found.lane;
    const body = m ? (m.body !== undefined ? { text: m.body } : m.bodyBase64 !== undefined ? { base64: m.bodyBase64 } : { claim: m.claim! }) : { text: found.message.Body ?? "" };
    return { ...found.entry, body, ...(m?.orderingKey ? { orderingKey: m.orderingKey } : {}), ...(m?.replay ? { replay: true } : {}) };
}

const cut = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function why(m: DlqMessage): string {
    if (m.deadLetterReason) return `dead-lettered by the destination${m.deliveryStatus !== undefined ? ` (HTTP ${m.deliveryStatus})` : ""}: ${m.deadLetterReason}`;
    if (m.lastError) return `${m.lastError.errorClass}: ${m.lastError.message}`;
    if (m.unreadable) return `not a lane message: ${m.unreadable}`;
    return "no error recorded";
}

export function formatDlqListings(listings: readonly DlqListing[]): string {
    return listings
        .map((l) => {
            const head = `DLQ of ${l.lane}: ${l.depth.visible + l.depth.inFlight} message(s)${l.depth.inFlight ? ` (${l.depth.inFlight} held by a reader now)` : ""}${l.complete ? "" : `; listed ${l.messages.length}, not all (limit, or a FIFO group held back)`}`;
            if (!l.messages.length) return head;
            const rows = l.messages.map((m) => [m.id, m.eventId ?? "?", m.eventType ?? "?", m.attempts === undefined ? "?" : String(m.attempts), m.firstSeen ?? "?", m.lastSeen ?? "?", cut(why(m), 100)]);
            return `${head}\n${table(["message id", "event id", "type", "attempts", "first seen", "last seen", "last error"], rows)}`;
        })
        .join("\n\n");
}

export function formatDlqMessage(m: DlqMessageDetail): string {
    const lines = [
        `message ${m.id} in the DLQ of ${m.lane}`,
        `  event        ${m.eventId ?? "?"} (${m.eventType ?? "?"})${m.replay ? " [replayed]" : ""}`,
        `  request      ${m.requestId ?? "?"}`,
        `  archived at  ${m.archiveKey ?? "?"}`,
        `  first seen   ${m.firstSeen ?? "?"} (received at the edge)`,
        `  last seen    ${m.lastSeen ?? "?"}`,
        `  attempts     ${m.attempts ?? "? (no error recorded)"}; SQS receive count now ${m.receiveCount} (each listing adds one: harmless on a DLQ)`,
        ...(m.orderingKey ? [`  ordering key ${m.orderingKey}`] : []),
        `  why          ${why(m)}`,
        ...(m.lastError && m.deadLetterReason ? [`  last error   ${m.lastError.errorClass}: ${m.lastError.message}`] : []),
        `  body${m.body.claim ? ` (claim check s3://${m.body.claim.bucket}/${m.body.claim.key})` : m.body.base64 !== undefined ? " (base64: not UTF-8)" : ""}:`,
        m.body.text ?? m.body.base64 ?? "",
    ];
    return lines.join("\n");
}
