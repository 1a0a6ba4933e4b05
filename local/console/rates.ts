/**
 * The console's chart data: rates per second over the last 15 minutes, kept
 * server-side as a rolling series of 10-second buckets, so a page opened late
 * still sees the quarter hour before it (the counters themselves start at 0
 * with each `npm start`, see local/stats.ts).
 *
 * A sampler reads the cumulative counters every bucket and stores the
 * difference; the answer adds the bucket in progress (its rate so far), so
 * the chart moves within seconds of a burst.
 */

/** The counters the chart draws, cumulative since start. */
export const RateNames = ["received", "rejected", "processed", "failed"] as const;
export type RateName = (typeof RateNames)[number];
export type Counters = Readonly<Record<RateName, number>>;

export interface RateSeries {
    /** Seconds per bucket. */
    readonly bucketSeconds: number;
    /** Bucket end times, epoch seconds, oldest first; the last one may be the bucket in progress. */
    readonly t: readonly number[];
    /** Per second, over all providers, one value per `t`. */
    readonly total: Readonly<Record<RateName, readonly (number | null)[]>>;
    /** The same per provider. */
    readonly providers: Readonly<Record<string, Readonly<Record<RateName, readonly (number | null)[]>>>>;
    /** Why there is no data, when there is none (e.g. CloudWatch returned nothing). */
    readonly note?: string;
}

/** 10 s buckets. */
export const BucketMs = 10_000;
/** 15 minutes of them. */
export const WindowMs = 15 * 60_000;

interface Sample {
    readonly at: number;
    readonly counters: Readonly<Record<string, Counters>>;
}

const zero = (): Record<RateName, number> => ({ received: 0, rejected: 0, processed: 0, failed: 0 });

/** Per-second rate of each counter between two samples, per provider. */
function ratesBetween(a: Sample, b: Sample): Record<string, Record<RateName, number>> {
    const seconds = Math.max(0.001, (b.at - a.at) / 1000);
    const out: Record<string, Record<RateName, number>> = {};
    for (const [provider, now] of Object.entries(b.counters)) {
        const before = a.counters[provider] ?? zero();
        const r = zero();
        for (const name of RateNames) r[name] = Math.max(0, now[name] - before[name]) / seconds;
        out[provider] = r;
    }
    return out;
}

export class RateSampler {
    private readonly samples: Sample[] = [];
    private timer?: NodeJS.Timeout;

    constructor(
        private readonly read: () => Readonly<Record<string, Counters>>,
        private readonly bucketMs = BucketMs,
        private readonly windowMs = WindowMs,
        private readonly now: () => number = Date.now,
    ) {}

    /** Take the first sample and one per bucket from now on. */
    start(): this {
        this.sample();
        this.timer = setInterval(() => this.sample(), this.bucketMs);
        this.timer.unref();
        return this;
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
    }

    sample(): void {
        const counters = Object.fromEntries(Object.entries(this.read()).map(([p, c]) => [p, { ...c }]));
        this.samples.push({ at: this.now(), counters });
        // one sample more than the window holds buckets: the oldest bucket needs its start
        const keep = Math.ceil(this.windowMs / this.bucketMs) + 1;
        if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
    }

    series(): RateSeries {
        const points = [...this.samples];
        const current: Sample = { at: this.now(), counters: this.read() };
        if (points.length && current.at - points[points.length - 1].at >= 500) points.push(current);
        const t: number[] = [];
        const providerNames = Object.keys(current.counters);
        const total = Object.fromEntries(RateNames.map((n) => [n, [] as number[]])) as Record<RateName, number[]>;
        const providers = Object.fromEntries(providerNames.map((p) => [p, Object.fromEntries(RateNames.map((n) => [n, [] as number[]]))])) as Record<string, Record<RateName, number[]>>;
        for (let i = 1; i < points.length; i++) {
            const rates = ratesBetween(points[i - 1], points[i]);
            t.push(Math.round(points[i].at / 1000));
            for (const name of RateNames) {
                let sum = 0;
                for (const p of providerNames) {
                    const v = rates[p]?.[name] ?? 0;
                    providers[p][name].push(round(v));
                    sum += v;
                }
                total[name].push(round(sum));
            }
        }
        return { bucketSeconds: this.bucketMs / 1000, t, total, providers };
    }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
