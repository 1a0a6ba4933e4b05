/**
 * The README's "break a handler, watch the DLQ, redrive" walkthrough, as written, against the dev stack:
 * with the deployed timing (acme: maxReceiveCount 8, visibility 180 s) it took 24 minutes to reach the DLQ;
 * `npm start` now retries a failed message after a few seconds by default and says so in its banner.
 */
import { expect } from "chai";
import { LocalRetryDelaySeconds, laneTable, retryDelayOf, retryLine } from "../../scripts/local";
import { LocalProcess, ops, queuesDrained, runScript, startLocal, waitForStatus } from "./support";

describe("npm start's retry timing and banner", () => {
    it("GIVEN no --visibility-timeout THEN failed messages come back after the local delay; `deployed` keeps each queue's own; a bad value is refused", () => {
        expect([retryDelayOf(undefined), retryDelayOf(""), retryDelayOf("1"), retryDelayOf("deployed")]).to.deep.equal([LocalRetryDelaySeconds, LocalRetryDelaySeconds, 1, undefined]);
        expect(() => retryDelayOf("soon")).to.throw('--visibility-timeout / LOCAL_VISIBILITY_TIMEOUT_SECONDS must be a whole number, not "soon"');
        expect(retryLine(5)).to.equal("  retries: a failed message is delivered again after 5 s (local timing; --visibility-timeout deployed uses each queue's own, as on AWS)");
        expect(retryLine(undefined)).to.equal("  retries: each queue's own visibility timeout, as deployed (6x the worker timeout)");
    });

    it("GIVEN lanes THEN the banner's lane table has a row each, with the handler as the target", () => {
        const lanes = [
            { id: "stripe-default", kind: "sqs" as const, ordering: true, concurrency: 10, maxReceiveCount: 5, handler: "log" },
            { id: "acme-default", kind: "sqs" as const, ordering: false, concurrency: 3, maxReceiveCount: 8, handler: "orders-db" },
            { id: "k-default", kind: "kafka" as const, ordering: true, concurrency: 4, maxReceiveCount: 5, handler: "log" },
        ];
        expect(laneTable(lanes)).to.deep.equal([
            "    lane            kind      workers  tries  target",
            "    stripe-default  sqs fifo       10      5  handler log",
            "    acme-default    sqs             3      8  handler orders-db",
            "    k-default       kafka           4      5  handler log",
        ]);
    });
});

describe("the README's DLQ walkthrough on the dev stack", function () {
    this.timeout(240_000);
    let local: LocalProcess;

    before(async () => {
        local = await startLocal({ stack: "dev", readyTimeoutMs: 60_000 });
    });

    after(async () => {
        await local?.remove();
    });

    it("GIVEN npm start with its defaults WHEN acme's handler is broken and 3 are sent THEN all 3 reach the DLQ within about a minute, and redrive after healing processes them", async () => {
        // The banner says how soon retries come, and what each lane ends in
        expect(local.output().stdout).to.include(`retries: a failed message is delivered again after ${LocalRetryDelaySeconds} s`);
        expect(local.output().stdout).to.match(/acme-default\s+sqs\s+3\s+8\s+handler log/);

        // Act: the walkthrough's commands
        const broke = await fetch(`${local.url}/_control/fail?provider=acme&on=true`, { method: "POST" });
        expect(broke.status).to.equal(200);
        const started = Date.now();
        const sent = await runScript("send", ["acme", "--count", "3"], { WEBHOOK_PIPELINE_LOCAL_DIR: local.dir });
        expect({ code: sent.code, accepted: sent.stdout.split("\n").filter((l) => l.startsWith("200 ")).length }, sent.stderr).to.deep.equal({ code: 0, accepted: 3 });
        const failed = await waitForStatus(local.url, (s) => s.providers.acme.dlq === 3 && queuesDrained(s), 120_000);
        const seconds = (Date.now() - started) / 1000;
        const status = await ops(local, ["status", "--provider", "acme"]);

        // Assess: 8 tries each, then the DLQ, in about a minute
        expect(failed.providers.acme.failed).to.equal(3 * 8);
        expect(seconds, `reached the DLQ after ${seconds} s`).to.be.below(90);
        expect(status.code, status.stderr).to.equal(0);
        expect(status.stdout).to.match(/acme\s+acme-default\s+0\s+0\s+3\s/);

        // Act: heal and redrive
        await fetch(`${local.url}/_control/fail?provider=acme&on=false`, { method: "POST" });
        const redriven = await ops(local, ["redrive", "--provider", "acme"]);

        // Assess
        expect(redriven.code, redriven.stderr).to.equal(0);
        expect(redriven.stdout).to.include("3 in the DLQ, moved 3, failed 0");
        const healed = await waitForStatus(local.url, (s) => s.providers.acme.processed === 3 && queuesDrained(s), 60_000);
        expect(healed.providers.acme.dlq).to.equal(0);
        process.stderr.write(`      (walkthrough: DLQ after ${seconds.toFixed(1)} s)\n`);
    });
});
