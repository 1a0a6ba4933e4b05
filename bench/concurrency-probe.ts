/**
 * A handler that stands for "your handler holds a database connection": each
 * call takes a slot for `holdMs`, and the probe records how many calls held
 * a slot at once (the peak the lane limit must bound), when the first call
 * started and the last one ended, and how long slots were held in total.
 *
 * It sits where the user's handler sits, inside the worker's idempotency: a
 * call the probe sees is a call your database would see.
 */
import type { WebhookHandler } from "../handlers/app/types";

export interface ProbeSummary {
    /** Handler calls that completed. */
    readonly calls: number;
    /** Most handler calls in flight at once. */
    readonly peak: number;
    /** From the first call's start to the last call's end, ms. */
    readonly windowMs: number;
    /** Completed calls per second over that window. */
    readonly eventsPerSecond: number;
    /**
     * Time-weighted mean of calls in flight over the window (total slot time /
     * window): how many of the limit's slots were busy on average.
     */
    readonly meanInFlight: number;
    /** How long each call held its slot on average, ms (the hold plus timer lateness). */
    readonly meanHoldMs: number;
}

export class ConcurrencyProbe {
    public inFlight = 0;
    public peak = 0;
    public calls = 0;
    private firstStart?: number;
    private lastEnd?: number;
    private heldMs = 0;
    private readonly waiters: { calls: number; resolve: () => void }[] = [];

    /**
     * @param holdMs how long each call holds its slot (0: the call returns at once, after one turn of the event loop)
     * @param gate optional: awaited after the slot is taken and before the hold (tests use it to hold calls until a condition holds)
     */
    constructor(
        private readonly holdMs: number,
        private readonly gate?: (probe: ConcurrencyProbe) => Promise<void>,
    ) {}

    /** The handler to give the lane runner. */
    readonly handler: WebhookHandler = async () => {
        const start = performance.now();
        this.firstStart ??= start;
        this.inFlight += 1;
        this.peak = Math.max(this.peak, this.inFlight);
        try {
            if (this.gate) await this.gate(this);
            await new Promise((resolve) => (this.holdMs > 0 ? setTimeout(resolve, this.holdMs) : setImmediate(resolve)));
        } finally {
            this.inFlight -= 1;
            const end = performance.now();
            this.heldMs += end - start;
            this.lastEnd = end;
            this.calls += 1;
            for (const w of [...this.waiters]) {
                if (this.calls < w.calls) continue;
                this.waiters.splice(this.waiters.indexOf(w), 1);
                w.resolve();
            }
        }
    };

    /** Resolves once `calls` calls completed, or rejects after `timeoutMs` with what `detail` says. */
    waitForCalls(calls: number, timeoutMs: number, detail: () => string = () => ""): Promise<void> {
        if (this.calls >= calls) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                reject(new Error(`${this.calls} of ${calls} handler calls completed within ${Math.round(timeoutMs / 1000)} s${detail() ? `; ${detail()}` : ""}`));
            }, timeoutMs);
            const waiter = {
                calls,
                resolve: () => {
                    clearTimeout(timer);
                    resolve();
                },
            };
            this.waiters.push(waiter);
        });
    }

    summary(): ProbeSummary {
        const windowMs = this.firstStart === undefined || this.lastEnd === undefined ? 0 : this.lastEnd - this.firstStart;
        return {
            calls: this.calls,
            peak: this.peak,
            windowMs,
            eventsPerSecond: windowMs > 0 ? (this.calls * 1000) / windowMs : 0,
            meanInFlight: windowMs > 0 ? this.heldMs / windowMs : 0,
            meanHoldMs: this.calls ? this.heldMs / this.calls : 0,
        };
    }
}
