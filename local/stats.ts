/**
 * The local pipeline's counters, per provider, fed by the HTTP ingress, the
 * router's batch reports and the workers' outcomes; `/_status` shows them
 * beside the live queue depths. They live in memory and start at 0 with each
 * `npm start` (moto's state does too).
 */
import { createHash } from "crypto";
import type { RouterReport } from "../handlers/router/router";
import type { LaneMessage } from "../model/lane-message";

export interface ProviderCounts {
    /** Requests the HTTP ingress acknowledged (200, enqueued). Handshakes are not counted. */
    received: number;
    /** Requests the router quarantined (forged, stale, malformed, no secret). */
    rejected: number;
    /** `rejected` by reason. */
    readonly rejectReasons: Record<string, number>;
    /** Requests the router archived (replays excluded: they are archived already). */
    archived: number;
    /** Events a `drop` route archived and did not process. */
    dropped: number;
    /** Lane messages sent (replays included). */
    routed: number;
    /** Handler calls that succeeded. */
    processed: number;
    /** Lane messages whose event id was already processed (idempotency): the handler was not called. */
    duplicates: number;
    /** Handler calls that threw (each retry counts). */
    failed: number;
    /** Messages a worker sent to the lane's DLQ itself (a destination's permanent failure: 4xx, 3xx). */
    deadLettered: number;
    /** Destination lanes: delivery attempts by lane id, by outcome and by HTTP status. */
    readonly deliveries: Record<string, DeliveryCounts>;
}

/** One lane's counters: a fan-out route counts its event once on each of its lanes. */
export interface LaneCounts {
    /** Lane messages the lane took (replays and a fan-out record's redelivered copies included). */
    routed: number;
    /** Handler calls that succeeded. */
    processed: number;
    /** Lane messages this lane had processed already (idempotency is per lane): the handler was not called. */
    duplicates: number;
    /** Handler calls that threw (each retry counts). */
    failed: number;
    /** Messages the lane's worker sent to its DLQ itself (a destination's permanent failure). */
    deadLettered: number;
}

export interface DeliveryCounts {
    delivered: number;
    /** 408, 429, 5xx, timeouts, connection errors: retried. */
    retryable: number;
    /** Other 4xx and 3xx: dead-lettered at once. */
    permanent: number;
    /** Attempts by HTTP status; `error` for a timeout or a connection error. */
    readonly statuses: Record<string, number>;
}

/** One lane message a worker handled, for `GET /_events`. */
export interface EventRecord {
    readonly at: string;
    readonly provider: string;
    readonly lane: string;
    readonly eventId: string;
    readonly eventType: string;
    readonly outcome: "processed" | "duplicate" | "failed" | "dead-lettered";
    readonly attempt: number;
    readonly replay: boolean;
    /** SHA-256 (hex) of the request body, when it travelled inline. */
    readonly sha256?: string;
    readonly bytes?: number;
    readonly error?: string;
}

const emptyLaneCounts = (): LaneCounts => ({ routed: 0, processed: 0, duplicates: 0, failed: 0, deadLettered: 0 });

const emptyCounts = (): ProviderCounts => ({ received: 0, rejected: 0, rejectReasons: {}, archived: 0, dropped: 0, routed: 0, processed: 0, duplicates: 0, failed: 0, deadLettered: 0, deliveries: {} });

/** The body bytes a lane message carries inline (undefined for a claim check). */
export function inlineBody(message: Pick<LaneMessage, "body" | "bodyBase64">): Buffer | undefined {
    if (message.body !== undefined) return Buffer.from(message.body, "utf8");
    if (message.bodyBase64 !== undefined) return Buffer.from(message.bodyBase64, "base64");
    return undefined;
}

export class PipelineStats {
    readonly providers: Record<string, ProviderCounts>;
    /** Per lane id: the same counters as a provider's, lane by lane. */
    readonly lanes: Record<string, LaneCounts>;
    /** HTTP answers other than an enqueued webhook, by status (404 unknown provider, 413, 200 and 401 for handshakes, ...). */
    readonly http: Record<string, number> = {};
    readonly router = { batches: 0, records: 0, retried: 0 };
    private readonly recent: EventRecord[] = [];
    /** Paused lanes: when the first message was routed to each since its pause (undefined: none yet). */
    private readonly held = new Map<string, number | undefined>();

    constructor(
        providerNames: readonly string[],
        private readonly providerOfLane: Readonly<Record<string, string>>,
        private readonly keepEvents = 500,
    ) {
        this.providers = Object.fromEntries(providerNames.map((n) => [n, emptyCounts()]));
        this.lanes = Object.fromEntries(Object.keys(providerOfLane).map((id) => [id, emptyLaneCounts()]));
    }

    private of(provider: string): ProviderCounts | undefined {
        return this.providers[provider];
    }

    onHttp(provider: string | undefined, status: number, enqueued: boolean): void {
        const counts = provider === undefined ? undefined : this.of(provider);
        if (enqueued && counts) counts.received += 1;
        else this.http[status] = (this.http[status] ?? 0) + 1;
    }

    onRouterBatch(report: RouterReport): void {
        this.router.batches += 1;
        this.router.records += report.received;
        this.router.retried += report.failed;
        for (const [provider, reasons] of Object.entries(report.quarantined)) {
            const counts = this.of(provider);
            if (!counts) continue;
            for (const [reason, n] of Object.entries(reasons)) {
                counts.rejected += n;
                counts.rejectReasons[reason] = (counts.rejectReasons[reason] ?? 0) + n;
            }
        }
        for (const [provider, n] of Object.entries(report.archived)) if (this.of(provider)) this.of(provider)!.archived += n;
        for (const [provider, n] of Object.entries(report.dropped)) if (this.of(provider)) this.of(provider)!.dropped += n;
        for (const [lane, n] of Object.entries(report.routed)) {
            const counts = this.of(this.providerOfLane[lane]);
            if (counts) counts.routed += n;
            if (this.lanes[lane]) this.lanes[lane].routed += n;
            if (n > 0 && this.held.has(lane) && this.held.get(lane) === undefined) this.held.set(lane, Date.now());
        }
    }

    onWorker(message: LaneMessage, outcome: EventRecord["outcome"], attempt: number, error?: Error): void {
        for (const counts of [this.of(message.provider), this.lanes[message.lane]]) {
            if (!counts) continue;
            if (outcome === "processed") counts.processed += 1;
            else if (outcome === "duplicate") counts.duplicates += 1;
            else if (outcome === "dead-lettered") counts.deadLettered += 1;
            else counts.failed += 1;
        }
        const body = inlineBody(message);
        this.recent.push({
            at: new Date().toISOString(),
            provider: message.provider,
            lane: message.lane,
            eventId: message.eventId,
            eventType: message.eventType,
            outcome,
            attempt,
            replay: message.replay === true,
            sha256: body && createHash("sha256").update(body).digest("hex"),
            bytes: body?.length,
            error: error && `${error.name}: ${error.message}`,
        });
        if (this.recent.length > this.keepEvents) this.recent.splice(0, this.recent.length - this.keepEvents);
    }

    /** One delivery attempt to a destination. */
    onDelivery(report: { provider: string; lane: string; outcome: "delivered" | "retryable" | "permanent"; status?: number }): void {
        const counts = this.of(report.provider);
        if (!counts) return;
        const lane = (counts.deliveries[report.lane] ??= { delivered: 0, retryable: 0, permanent: 0, statuses: {} });
        lane[report.outcome] += 1;
        const status = report.status === undefined ? "error" : String(report.status);
        lane.statuses[status] = (lane.statuses[status] ?? 0) + 1;
    }

    /** A lane was paused (`true`) or resumed: while paused, the time of the first message routed to it is kept (heldSince). */
    onPause(lane: string, paused: boolean): void {
        if (!paused) this.held.delete(lane);
        else if (!this.held.has(lane)) this.held.set(lane, undefined);
    }

    /**
     * When the oldest message routed to a paused lane since its pause was routed (epoch ms); undefined when none was,
     * or the lane is not paused. A message that waited in the queue from before the pause (a retry) is older.
     */
    heldSince(lane: string): number | undefined {
        return this.held.get(lane);
    }

    /** The most recent worker outcomes, oldest first, optionally of one provider. */
    events(provider?: string): EventRecord[] {
        return provider ? this.recent.filter((e) => e.provider === provider) : [...this.recent];
    }
}
