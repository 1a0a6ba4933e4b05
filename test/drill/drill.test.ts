/**
 * The small drill, as CI runs it: `node dist/drill/run.js --count 300` as a
 * child process, with the router SIGKILLed and the emulator restarted mid-run
 * and 5% of handler calls failing, then the bad-input corpus and the config
 * fuzz; the tests assert on the results file it writes. The drill starts and
 * restarts its own emulator, never the one the test runner started.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { corpus, describeExpected } from "../../drill/corpus";
import type { DrillResults } from "../../drill/run";
import { repoRoot } from "../../local/stack";

const count = 300;
const fuzzCases = 2_000;

function runDrill(out: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot(), "dist", "drill", "run.js"), "--count", String(count), "--fuzz", String(fuzzCases), "--out", out], {
            env: { ...process.env, NODE_NO_WARNINGS: "1" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
        child.once("close", (code) => resolve({ code, output }));
    });
}

describe("drill (npm run drill, small)", function () {
    this.timeout(110_000);
    let results: DrillResults;
    let run: { code: number | null; output: string };
    let dir: string;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-drill-test-"));
        run = await runDrill(path.join(dir, "results.json"));
        const file = path.join(dir, "results.json");
        if (!fs.existsSync(file)) throw new Error(`the drill wrote no results (exit ${run.code}):\n${run.output}`);
        results = JSON.parse(fs.readFileSync(file, "utf8")) as DrillResults;
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("GIVEN 300 webhooks, a router SIGKILL, an emulator restart and 5% of handler calls failing WHEN the drill reconciles THEN every acknowledged webhook is processed exactly once or sits in a DLQ", () => {
        // Assess
        const f = results.figures;
        expect({ lost: f.lost, processed_twice: f.processed_twice, crashes: f.crashes, not_accepted: f.not_accepted }, run.output).to.deep.equal({ lost: 0, processed_twice: 0, crashes: 0, not_accepted: 0 });
        expect(f.accepted).to.equal(count + Object.keys(results.providers).length);
        expect(f.processed + f.dlq).to.equal(f.accepted);
        expect({ router_kills: f.router_kills, emulator_restarts: f.emulator_restarts, settled: f.settled }).to.deep.equal({ router_kills: 1, emulator_restarts: 1, settled: 1 });
        // Injected failures happened, and the journal's completions cover every processed webhook.
        expect(f.handler_failures).to.be.greaterThan(0);
        expect(f.handler_calls - f.handler_failures).to.be.at.least(f.processed);
    });

    it("GIVEN the emulator restarting WHEN webhooks arrive THEN the ingress answers 503 (never 200) and the retried deliveries are acknowledged later", () => {
        // Assess: answers 503 were sent again, and every webhook ended acknowledged.
        const f = results.figures;
        expect(f.retried_503, run.output).to.be.greaterThan(0);
        expect(f.not_accepted).to.equal(0);
        expect(f.http_500).to.equal(0);
    });

    it("GIVEN the acknowledged webhooks WHEN the archive is read from S3 THEN it holds every acknowledged request, with its event id, none quarantined", () => {
        // Assess
        const f = results.figures;
        expect({ archive_missing: f.archive_missing, archive_mismatch: f.archive_mismatch, quarantined_valid: f.quarantined_valid, dlq_unreadable: f.dlq_unreadable }).to.deep.equal({
            archive_missing: 0,
            archive_mismatch: 0,
            quarantined_valid: 0,
            dlq_unreadable: 0,
        });
    });

    it("GIVEN the bad-input corpus WHEN it is sent to the running pipeline THEN every case has its defined outcome and the pipeline keeps processing", () => {
        // Assess
        expect(results.corpus.map((v) => v.id)).to.deep.equal(corpus.map((c) => c.id));
        expect(results.corpus.map((v) => v.expected)).to.deep.equal(corpus.map((c) => describeExpected(c.expect)));
        expect(results.corpus.filter((v) => !v.ok)).to.deep.equal([]);
        expect({ bad_inputs_tried: results.figures.bad_inputs_tried, canary_ok: results.figures.canary_ok }).to.deep.equal({ bad_inputs_tried: corpus.length, canary_ok: 1 });
    });

    it("GIVEN generated invalid configs WHEN validated THEN each is refused with `<path>: <message>` problems naming paths in the input, none throws, and valid mutations are accepted", () => {
        // Assess
        expect(results.fuzz.failures).to.deep.equal([]);
        expect({ config_cases: results.figures.config_cases, config_failures: results.figures.config_failures }).to.deep.equal({ config_cases: fuzzCases, config_failures: 0 });
        expect(results.fuzz.invalidCases).to.be.greaterThan(fuzzCases / 2);
        expect(results.fuzz.validCases).to.be.greaterThan(0);
    });

    it("GIVEN the run WHEN it ends THEN results.json carries the issue's figures as numbers and the drill exits 0", () => {
        // Assess
        for (const name of ["accepted", "processed", "dlq", "lost", "processed_twice", "bad_inputs_tried", "crashes"]) expect(results.figures[name], name).to.be.a("number");
        expect({ code: run.code, ok: results.ok, problems: results.problems }, run.output).to.deep.equal({ code: 0, ok: true, problems: [] });
    });
});
