/**
 * The per-worker pacer of a rate-limited destination. The lane's limit R is
 * kept without a coordinator: AWS runs at most C (maximumConcurrency)
 * invocations of the lane's worker at once, each handles its records one at
 * a time, and each paces its own starts `paceMs` = 1000 / floor(R / C) apart.
 *
 * A slot must not be handed over early: when an invocation ends, the next
 * one may run in another container with a fresh pacer. So the worker waits
 * out its pace before it returns (`release`), and any two starts on one of
 * the C slots are at least `paceMs` apart, whichever container makes them.
 * Any one-second window then holds at most C * floor(R / C) <= R starts.
 */
import { performance } from "perf_hooks";

export interface Pacer {
    /** Wait for this worker's next start time, and take it. */
    acquire(): Promise<void>;
    /** Wait until the pace after the last start has passed (before an invocation ends). */
    release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleep until the monotonic clock reaches `at` (setTimeout may wake a little early). */
async function sleepUntil(at: number): Promise<void> {
    for (let left = at - performance.now(); left > 0; left = at - performance.now()) await sleep(Math.ceil(left));
}

/**
 * A pacer spacing starts at least `paceMs` apart; undefined or 0: no pacing.
 * The next start is counted from the moment a start really happened, not
 * from when it was planned: a start delayed by a busy event loop must not
 * let the next one follow it closer than the pace. Concurrent callers (a
 * Kafka invocation's partitions) queue for their turn.
 */
export function createPacer(paceMs: number | undefined): Pacer {
    if (!paceMs) return { acquire: async () => undefined, release: async () => undefined };
    let next = -Infinity;
    let turn: Promise<void> = Promise.resolve();
    return {
        acquire() {
            const mine = turn.then(async () => {
                await sleepUntil(next);
                next = performance.now() + paceMs;
            });
            turn = mine;
            return mine;
        },
        async release() {
            await turn;
            await sleepUntil(next);
        },
    };
}

/**
 * C pacers for C workers sharing one process (the local pipeline's worker
 * pool): a batch takes a free pacer and gives it back after `release`, the
 * way a Lambda invocation holds one concurrency slot.
 */
export interface PacerPool {
    take(): Pacer;
    give(pacer: Pacer): void;
}

export function createPacerPool(size: number, paceMs: number | undefined): PacerPool {
    const free: Pacer[] = Array.from({ length: Math.max(1, size) }, () => createPacer(paceMs));
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
