/**
 * The per-worker pacer of a rate-limited destination. The lane's limit R is
 * kept without a coordinator: AWS runs at most C (maximumConcurrency)
 * invocations of the lane's worker at once, each handles its records one at
 * a time, and each keeps its own share k = floor(R / C) (model/pipeline.ts
 * paceLimitFor).
 *
 * A pacer keeps a record of the starts it granted: each start's time s, and
 * e, when its answer (or its error) came. A request arrives at the
 * destination after it starts and before its answer comes back: its arrival
 * a is in [s, e]. With W the window (1050 ms) and G = W - 1000 ms the guard
 * (50 ms; model/pipeline.ts PaceGuard), each start counts from
 * t = max(s, e - G), and a new start is granted only when
 * 1. window: the start k back in the record counts from at least W ago
 *    (s_new >= t_{new-k} + W; while that request has no answer yet, wait
 *    for it), and
 * 2. spacing: the last start is at least W / k ago, so the k starts of a
 *    window are spread over it, not sent in a burst.
 * The clock read that passes both checks is the time recorded, returned and
 * reported as the start. A late timer, a busy event loop or a descheduled
 * process can only delay a start, never move a recorded one, so the record
 * keeps both rules whatever the scheduling jitter.
 *
 * Why the lane never has more than R starts, nor more than R arrivals, in
 * any one-second window: t_i >= s_i, and t_i >= a_i - G (a_i <= e_i). So for
 * any start j at least k after i: s_j >= t_i + W > s_i + 1000, and
 * a_j >= s_j >= t_i + W >= a_i + 1000. Any k + 1 starts (or arrivals) of one
 * pacer span at least 1000 ms, so a second [x, x + 1000) holds at most k of
 * them, and with at most C pacers at once at most C * k <= R. This needs no
 * bound on the network's delay: a request that takes longer than G to
 * answer makes the k-th next start wait for its answer (e + 1000 ms), so a
 * slow answer costs rate, never the limit. A destination answering within
 * G (the benchmark's: ~20 ms) loses nothing: the lane runs at 1000 / W (95%)
 * of the limit; one answering in A > G ms runs at about k per (1000 + A) ms
 * per worker.
 *
 * A concurrency slot may pass from one pacer to another: when an invocation
 * ends, the next one on its slot may run in another container with a fresh
 * pacer and an empty record. So the worker waits before it returns
 * (`release`) until a fresh pacer, whose n-th start comes n * W / k after
 * its first at the earliest, cannot break rule 1 or 2 against this record:
 * until t + j * W / k for the j-th last start (j = 1..k). (A container that
 * serves the next invocation itself keeps its record.)
 */
import { performance } from "perf_hooks";

/** One worker's share of a lane's rate limit (model/pipeline.ts paceLimitFor). */
export interface PaceLimit {
    /** Most starts in any window of `windowMs`. */
    readonly startsPerWindow: number;
    /** The window, in ms: 1000 plus the guard (a window below 1000 ms has no guard). */
    readonly windowMs: number;
}

/** A start the pacer granted. */
export interface PacedStart {
    /** performance.now() when it was granted: what the pacer recorded. */
    readonly at: number;
    /** The request's answer (or its error) came: call once it did, whatever it was. */
    answered(): void;
}

export interface Pacer {
    /** Wait for this worker's next start time, take it, and return it. */
    acquire(): Promise<PacedStart>;
    /** Wait until a fresh pacer on this slot could not break the limit (before an invocation ends). */
    release(): Promise<void>;
    /** The starts that still count (the last `startsPerWindow`), oldest first: granted at `at`, answered at `answeredAt`. */
    readonly recent: ReadonlyArray<{ readonly at: number; readonly answeredAt?: number }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleep until the monotonic clock reaches `at` (setTimeout may wake a little early). */
async function sleepUntil(at: number): Promise<void> {
    for (let left = at - performance.now(); left > 0; left = at - performance.now()) await sleep(Math.ceil(left));
}

/**
 * The limit of a destination's runtime config: its `startsPerWindow` in `windowMs`; a config
 * with only `paceMs` (spacing alone) is one start per `paceMs`. undefined: no limit.
 */
export function paceLimitOf(d: { paceMs?: number; startsPerWindow?: number; windowMs?: number } | undefined): PaceLimit | undefined {
    if (d?.startsPerWindow && d.windowMs) return { startsPerWindow: d.startsPerWindow, windowMs: d.windowMs };
    return d?.paceMs ? { startsPerWindow: 1, windowMs: d.paceMs } : undefined;
}

interface Entry {
    readonly at: number;
    answeredAt?: number;
    readonly done: Promise<void>;
}

/**
 * A pacer keeping `limit` (undefined: no pacing; acquire still returns the
 * start time). Concurrent callers (a Kafka invocation's partitions) queue for
 * their turn, so the record is one sequence.
 */
export function createPacer(limit: PaceLimit | undefined): Pacer {
    if (!limit) return { acquire: async () => ({ at: performance.now(), answered: () => undefined }), release: async () => undefined, recent: [] };
    const k = Math.max(1, Math.floor(limit.startsPerWindow));
    const windowMs = limit.windowMs;
    const guardMs = Math.max(0, windowMs - 1000);
    const spacingMs = windowMs / k;
    // The last k granted starts, oldest first: all the rules need.
    const recent: Entry[] = [];
    /** When a start counts from: its grant, or later if its answer took longer than the guard. */
    const countsFrom = (e: Entry) => Math.max(e.at, (e.answeredAt ?? Infinity) - guardMs);
    let turn: Promise<unknown> = Promise.resolve();
    return {
        acquire() {
            const mine = turn.then(async (): Promise<PacedStart> => {
                for (;;) {
                    const last = recent[recent.length - 1];
                    const kth = recent.length >= k ? recent[recent.length - k] : undefined;
                    if (kth && kth.answeredAt === undefined) {
                        await kth.done;
                        continue;
                    }
                    const earliest = Math.max(last ? last.at + spacingMs : -Infinity, kth ? countsFrom(kth) + windowMs : -Infinity);
                    const now = performance.now();
                    if (now >= earliest) {
                        let answer!: () => void;
                        const entry: Entry = { at: now, done: new Promise<void>((r) => (answer = r)) };
                        recent.push(entry);
                        if (recent.length > k) recent.shift();
                        return {
                            at: now,
                            answered() {
                                if (entry.answeredAt !== undefined) return;
                                entry.answeredAt = performance.now();
                                answer();
                            },
                        };
                    }
                    await sleep(Math.ceil(earliest - now));
                }
            });
            turn = mine.catch(() => undefined);
            return mine;
        },
        async release() {
            await turn;
            await Promise.all(recent.map((e) => e.done));
            // The j-th last start must count from W before the fresh pacer's (k - j)-th start, which comes (k - j) * W / k after its first.
            const until = Math.max(...recent.map((e, i) => countsFrom(e) + (recent.length - i) * spacingMs));
            await sleepUntil(until);
        },
        recent,
    };
}

/**
 * C pacers for C workers sharing one process (the local pipeline's worker
 * pool): a batch takes a free pacer and gives it back after its last start,
 * the way a Lambda invocation holds one concurrency slot. A pacer keeps its
 * record in the pool, so whichever batch takes it next waits for it.
 */
export interface PacerPool {
    take(): Pacer;
    give(pacer: Pacer): void;
}

export function createPacerPool(size: number, limit: PaceLimit | undefined): PacerPool {
    const free: Pacer[] = Array.from({ length: Math.max(1, size) }, () => createPacer(limit));
    return {
        take() {
            const pacer = free.pop();
            // More batches than slots would break the bound: the pool is sized to the lane's concurrency, the poller's limit.
            if (!pacer) throw new Error(`more than ${size} concurrent batches on a paced lane`);
            return pacer;
        },
        give(pacer) {
            free.push(pacer);
        },
    };
}
