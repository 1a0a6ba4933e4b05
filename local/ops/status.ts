/**
 * `status`: per lane (and the catch-all queue) the depth, the messages in
 * flight, the DLQ count and the age of the oldest DLQ message, as a table or
 * JSON. Ages come from the SentTimestamp of peeked messages: always for DLQs
 * (they have no redrive policy, a peek costs nothing), for the queues only
 * with `peek`, because a peek counts as a receive toward maxReceiveCount.
 */
import { peekOldestAgeSeconds, QueueDepth, queueDepth } from "../queues";
import type { OpsTarget } from "./target";

export interface QueueStatusRow {
    /** Lane id, or `catch-all`. */
    readonly lane: string;
    /** Provider, or `*` for the catch-all queue. */
    readonly provider: string;
    readonly queue: QueueDepth;
    readonly dlq: QueueDepth;
    /** Seconds; only with `peek`. */
    readonly oldestAgeSeconds?: number;
    readonly oldestDlqAgeSeconds?: number;
    /** The lane's worker takes no messages (ops pause or `paused: true`): `queue` is what it holds. Undefined when the target cannot tell. */
    readonly paused?: boolean;
    /** Paused lanes: when the pause began (AWS: the mapping's LastModified). */
    readonly pausedSince?: string;
    /** Paused lanes, locally: seconds since the first message it holds arrived (AWS: the queue's ApproximateAgeOfOldestMessage metric and its age alarms). */
    readonly oldestHeldAgeSeconds?: number;
}

export interface QueueStatus {
    readonly where: OpsTarget["where"];
    readonly at: string;
    readonly lanes: readonly QueueStatusRow[];
    /** Why the lanes' paused state is not shown (e.g. no lambda:GetEventSourceMapping), when it could not be read. */
    readonly pausedUnknown?: string;
}

export async function queueStatus(target: OpsTarget, options: { peek?: boolean; provider?: string } = {}): Promise<QueueStatus> {
    const rows = [{ lane: "catch-all", provider: "*", ...target.catchAll }, ...target.lanes.map((l) => ({ lane: l.id, provider: l.provider, queueUrl: l.queueUrl, dlqUrl: l.dlqUrl }))].filter(
        (l) => !options.provider || l.provider === options.provider,
    );
    // Paused or not: one read for every lane shown (AWS: GetEventSourceMapping per lane; local: /_status).
    const known = new Set((target.workers ?? []).map((w) => w.id));
    const shown = rows.map((r) => r.lane).filter((id) => known.has(id));
    let pausedUnknown: string | undefined;
    const pauses = target.pauses && shown.length ? await target.pauses.get(shown).catch((err: Error) => ((pausedUnknown = err.message), {} as Record<string, never>)) : {};
    const lanes = await Promise.all(
        rows.map(async (l): Promise<QueueStatusRow> => {
            const [queue, dlq, oldestDlqAgeSeconds, oldestAgeSeconds] = await Promise.all([
                queueDepth(target.sqs, l.queueUrl),
                queueDepth(target.sqs, l.dlqUrl),
                peekOldestAgeSeconds(target.sqs, l.dlqUrl),
                options.peek ? peekOldestAgeSeconds(target.sqs, l.queueUrl) : Promise.resolve(undefined),
            ]);
            const p = pauses[l.lane];
            return {
                lane: l.lane,
                provider: l.provider,
                queue,
                dlq,
                oldestAgeSeconds,
                oldestDlqAgeSeconds,
                ...(p ? { paused: p.paused, ...(p.paused && p.since ? { pausedSince: p.since } : {}), ...(p.paused && p.oldestHeldAgeSeconds !== undefined ? { oldestHeldAgeSeconds: p.oldestHeldAgeSeconds } : {}) } : {}),
            };
        }),
    );
    return { where: target.where, at: new Date().toISOString(), lanes, ...(pausedUnknown ? { pausedUnknown } : {}) };
}

function age(seconds: number | undefined): string {
    if (seconds === undefined) return "-";
    if (seconds < 120) return `${seconds}s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
    return `${(seconds / 3600).toFixed(1)}h`;
}

export function formatQueueStatus(status: QueueStatus, peeked: boolean): string {
    // The worker column last: the columns before it read as they did before pause existed.
    const header = ["provider", "lane", "queued", "in flight", ...(peeked ? ["oldest"] : []), "dlq", "oldest in dlq", "worker"];
    const rows = status.lanes.map((l) => [
        l.provider,
        l.lane,
        String(l.queue.visible + l.queue.delayed),
        String(l.queue.inFlight),
        ...(peeked ? [age(l.oldestAgeSeconds)] : []),
        String(l.dlq.visible + l.dlq.inFlight),
        age(l.oldestDlqAgeSeconds),
        l.paused === undefined ? "-" : l.paused ? `PAUSED${l.pausedSince ? ` since ${l.pausedSince.replace(/\.\d+Z$/, "Z")}` : ""}${l.oldestHeldAgeSeconds !== undefined ? `, oldest held ${age(l.oldestHeldAgeSeconds)}` : ""}` : "running",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ...(status.pausedUnknown ? [`worker state unknown: ${status.pausedUnknown}`] : [])].join("\n");
}
