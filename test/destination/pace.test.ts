/**
 * The rate-limit pacer (handlers/destination/pace.ts) on the real clock: C
 * pacers driven at once, each start followed by a simulated request that
 * arrives some time after its start and is answered after it arrives, with
 * scheduling jitter made on purpose (event-loop stalls, uneven work, slow
 * first requests as a cold connection makes them). The start and arrival
 * times are then counted: never more than R in any one-second window across
 * the C pacers, never more than floor(R / C) of one pacer, never closer than
 * the spacing. Counts, not timings: jitter can only delay a start.
 */
import { expect } from "chai";
import { performance } from "perf_hooks";
import { createPacer, Pacer, paceLimitOf } from "../../handlers/destination/pace";
import { paceLimitFor, PaceWindowMs } from "../../model/pipeline";
import { maxInWindow } from "../support/destination";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Block the event loop for `ms` (a stalled worker: a long JSON parse, GC, a descheduled process). */
function stall(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
        // busy
    }
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
    let x = seed;
    return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** The smallest gap between consecutive times. */
const minGap = (times: readonly number[]) => Math.min(...times.slice(1).map((t, i) => t - times[i]));

/**
 * One simulated delivery after a start: the request reaches the destination `travelMs` later (its arrival is
 * recorded then), the destination takes `serverMs`, and the answer comes back: `answered()`.
 */
async function deliver(pacer: Pacer, travelMs: number, serverMs: number, out: { starts: number[]; arrivals: number[] }): Promise<void> {
    const start = await pacer.acquire();
    out.starts.push(start.at);
    await sleep(travelMs);
    out.arrivals.push(performance.now());
    await sleep(serverMs);
    start.answered();
}

describe("destination pacer: starts and arrivals under jitter (real clock, counted)", function () {
    this.timeout(60_000);

    it("GIVEN rateLimitPerSecond 20 over 4 workers WHEN the 4 pacers run at once with stalls, uneven work and slow first requests THEN no 1 s window holds more than 20 starts or 20 arrivals, and no pacer more than 5", async () => {
        // Prepare: each worker's share, as the model gives it to each Lambda invocation
        const rate = 20;
        const concurrency = 4;
        const limit = paceLimitFor(rate, concurrency);
        expect(limit).to.deep.equal({ paceMs: 210, startsPerWindow: 5, windowMs: 1050 });
        const pacers = Array.from({ length: concurrency }, () => createPacer(limit));
        const seen = pacers.map(() => ({ starts: [] as number[], arrivals: [] as number[] }));

        // Act: 14 deliveries per worker. The first request of each travels 150 ms (a cold connection: three times the
        // 50 ms guard), later ones 1 to 40 ms; after a delivery a worker may stall the loop (up to 120 ms) or await other work.
        await Promise.all(
            pacers.map(async (pacer, w) => {
                const rnd = random(w + 1);
                for (let i = 0; i < 14; i++) {
                    await deliver(pacer, i === 0 ? 150 : 1 + rnd() * 39, 5 + rnd() * 15, seen[w]);
                    const r = rnd();
                    if (r < 0.2) stall(rnd() * 120);
                    else await sleep(rnd() * 30);
                }
            }),
        );

        // Assess
        const starts = seen.flatMap((s) => s.starts);
        const arrivals = seen.flatMap((s) => s.arrivals);
        expect(starts).to.have.length(56);
        expect(maxInWindow(starts, 1000), "starts of the lane in any 1 s").to.be.at.most(rate);
        expect(maxInWindow(arrivals, 1000), "arrivals of the lane in any 1 s").to.be.at.most(rate);
        for (const own of seen) {
            expect(maxInWindow(own.starts, 1000), "one worker's starts in any 1 s").to.be.at.most(5);
            expect(maxInWindow(own.arrivals, 1000), "one worker's arrivals in any 1 s").to.be.at.most(5);
            expect(minGap(own.starts)).to.be.at.least(PaceWindowMs / 5);
        }
        // The record is what was returned.
        pacers.forEach((p, w) => expect(p.recent.map((e) => e.at)).to.deep.equal(seen[w].starts.slice(-5)));
    });

    it("GIVEN a concurrency slot that passes to a fresh pacer (another container) WHEN the first waits out release() THEN the slot's starts and arrivals hold at most 5 in any second, spaced", async () => {
        // Prepare
        const limit = paceLimitFor(20, 4);
        const first = createPacer(limit);
        const slot = { starts: [] as number[], arrivals: [] as number[] };

        // Act: an invocation makes 6 deliveries, the first slow to arrive, and ends; the next on its slot runs with an empty record
        for (let i = 0; i < 6; i++) await deliver(first, i === 0 ? 150 : 1, 5, slot);
        await first.release();
        const second = createPacer(limit);
        for (let i = 0; i < 6; i++) await deliver(second, 1, 5, slot);

        // Assess
        expect(minGap(slot.starts)).to.be.at.least(PaceWindowMs / 5);
        expect(maxInWindow(slot.starts, 1000)).to.be.at.most(5);
        expect(maxInWindow(slot.arrivals, 1000)).to.be.at.most(5);
    });

    it("GIVEN callers that come at once on one pacer (a Kafka invocation's partitions) WHEN they all deliver THEN the starts form one record: spaced, at most startsPerWindow in any window", async () => {
        const pacer = createPacer({ startsPerWindow: 3, windowMs: 300 });
        const seen = { starts: [] as number[], arrivals: [] as number[] };
        await Promise.all(Array.from({ length: 9 }, () => deliver(pacer, 1, 1, seen)));
        const sorted = [...seen.starts].sort((a, b) => a - b);
        expect(minGap(sorted)).to.be.at.least(100);
        expect(maxInWindow(sorted, 300)).to.be.at.most(3);
    });

    it("GIVEN a runtime config WHEN its limit is read THEN startsPerWindow and windowMs are used; paceMs alone means one start per paceMs; none means no pacing", async () => {
        expect(paceLimitOf({ paceMs: 210, startsPerWindow: 5, windowMs: 1050 })).to.deep.equal({ startsPerWindow: 5, windowMs: 1050 });
        expect(paceLimitOf({ paceMs: 210 })).to.deep.equal({ startsPerWindow: 1, windowMs: 210 });
        expect(paceLimitOf({})).to.equal(undefined);
        expect(paceLimitOf(undefined)).to.equal(undefined);
        const free = createPacer(undefined);
        const t0 = performance.now();
        for (let i = 0; i < 50; i++) (await free.acquire()).answered();
        expect(performance.now() - t0).to.be.below(50);
    });
});
