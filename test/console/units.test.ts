/**
 * The console's pure parts: token comparison, the Host and Origin rules, the
 * rolling rate series, the job registry.
 */
import { expect } from "chai";
import { Jobs } from "../../local/console/jobs";
import { RateSampler } from "../../local/console/rates";
import { ContentSecurityPolicy, hostAllowed, newToken, originAllowed, tokenMatches } from "../../local/console/security";

describe("console security rules", () => {
    it("GIVEN the token WHEN compared THEN only the exact token matches; empty, missing, repeated and near misses do not", () => {
        const token = newToken();
        expect(token).to.match(/^[0-9a-f]{64}$/);
        expect(tokenMatches(token, token)).to.equal(true);
        expect([tokenMatches(undefined, token), tokenMatches("", token), tokenMatches([token, token], token), tokenMatches(token.slice(0, -1), token), tokenMatches(`${token}0`, token), tokenMatches(token.toUpperCase(), token)]).to.deep.equal([
            false,
            false,
            false,
            false,
            false,
            false,
        ]);
    });

    it("GIVEN Host headers WHEN checked THEN only loopback names with this port pass (a rebound DNS name does not)", () => {
        expect(["127.0.0.1:8787", "localhost:8787", "[::1]:8787"].map((h) => hostAllowed(h, 8787))).to.deep.equal([true, true, true]);
        expect(["evil.example:8787", "127.0.0.1:8788", "127.0.0.1", "", undefined].map((h) => hostAllowed(h, 8787))).to.deep.equal([false, false, false, false, false]);
        expect(hostAllowed("console.internal:8788", 8788, ["console.internal"])).to.equal(true);
    });

    it("GIVEN Origin headers WHEN an action is posted THEN this server's origin or none passes, any other site fails", () => {
        expect([originAllowed(undefined, 8787), originAllowed("http://127.0.0.1:8787", 8787), originAllowed("http://localhost:8787", 8787)]).to.deep.equal([true, true, true]);
        expect([originAllowed("https://evil.example", 8787), originAllowed("http://127.0.0.1:9999", 8787), originAllowed("null", 8787)]).to.deep.equal([false, false, false]);
    });

    it("GIVEN the policy THEN scripts, styles and fetches are this server's only, and nothing may frame the page", () => {
        expect(ContentSecurityPolicy.split("; ")).to.include.members(["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]);
        expect(ContentSecurityPolicy).to.not.include("unsafe");
    });
});

describe("console rate series", () => {
    it("GIVEN counters sampled every 10 s WHEN the series is read THEN each bucket holds the per-second rate, plus the bucket in progress", () => {
        // Prepare
        let now = 1_000_000;
        const counts = { a: { received: 0, rejected: 0, processed: 0, failed: 0 }, b: { received: 0, rejected: 0, processed: 0, failed: 0 } };
        const sampler = new RateSampler(() => counts, 10_000, 60_000, () => now);

        // Act
        sampler.sample();
        now += 10_000;
        counts.a.received = 20;
        counts.b.received = 10;
        counts.a.failed = 5;
        sampler.sample();
        now += 5_000;
        counts.a.processed = 10;
        const series = sampler.series();

        // Assess
        expect(series).to.deep.equal({
            bucketSeconds: 10,
            t: [1010, 1015],
            total: { received: [3, 0], rejected: [0, 0], processed: [0, 2], failed: [0.5, 0] },
            providers: {
                a: { received: [2, 0], rejected: [0, 0], processed: [0, 2], failed: [0.5, 0] },
                b: { received: [1, 0], rejected: [0, 0], processed: [0, 0], failed: [0, 0] },
            },
        });
    });

    it("GIVEN more samples than 15 minutes hold WHEN sampled THEN the oldest go and the window stays its size", () => {
        let now = 0;
        const sampler = new RateSampler(() => ({ a: { received: now / 1000, rejected: 0, processed: 0, failed: 0 } }), 10_000, 60_000, () => now);
        for (let i = 0; i < 20; i++) {
            sampler.sample();
            now += 10_000;
        }
        now -= 10_000; // read right at the last sample: no bucket in progress
        const series = sampler.series();
        expect(series.t.length).to.equal(6);
        expect(series.total.received).to.deep.equal([1, 1, 1, 1, 1, 1]);
    });
});

describe("console jobs", () => {
    it("GIVEN a job that reports progress WHEN it runs and ends THEN its view shows the progress, then the result; a failing one its error", async () => {
        const jobs = new Jobs();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const job = jobs.start("redrive", "redrive a", async (progress) => {
            progress.update(1, 4, "a-default");
            await gate;
            return { moved: 4 };
        });
        await new Promise((r) => setImmediate(r));
        expect(jobs.get(job.id)).to.deep.include({ state: "running", done: 1, total: 4, note: "a-default" });
        release();
        await new Promise((r) => setImmediate(r));
        expect(jobs.get(job.id)).to.deep.include({ state: "done", result: { moved: 4 } });
        const bad = jobs.start("replay", "replay a", async () => {
            throw new Error("no archive");
        });
        await new Promise((r) => setImmediate(r));
        expect(jobs.get(bad.id)).to.deep.include({ state: "failed", error: "Error: no archive" });
        expect(jobs.list().map((j) => j.id)).to.deep.equal([bad.id, job.id]);
    });
});
