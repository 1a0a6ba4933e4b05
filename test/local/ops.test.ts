/**
 * The pure parts of the operations commands: which archive partitions a time
 * range reads, which provider a lane belongs to, how stack outputs become a
 * target, and the times the CLI accepts.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../../local/stack";
import { hourPrefixes } from "../../local/ops/replay";
import { providerOfLane, targetFromOutputs } from "../../local/ops/target";
import { localClients } from "../../local/resources";
import { parseOpsArgs, parseTime, replayPlan } from "../../scripts/ops";

describe("ops helpers", () => {
    it("GIVEN a range from 14:59 to 16:01 WHEN partitions are listed THEN the hours 14, 15 and 16 are read", () => {
        // Act
        const prefixes = hourPrefixes("stripe", Date.parse("2026-11-23T14:59:00Z"), Date.parse("2026-11-23T16:01:00Z"));

        // Assess
        expect(prefixes).to.deep.equal(["raw/provider=stripe/dt=2026-11-23/hour=14/", "raw/provider=stripe/dt=2026-11-23/hour=15/", "raw/provider=stripe/dt=2026-11-23/hour=16/"]);
    });

    it("GIVEN providers a and a-b WHEN lane a-b-default is looked up THEN it belongs to a-b (the longest name)", () => {
        expect(providerOfLane("a-b-default", ["a", "a-b"])).to.equal("a-b");
        expect(providerOfLane("a-billing", ["a", "a-b"])).to.equal("a");
        expect(providerOfLane("zzz-default", ["a"])).to.equal(undefined);
    });

    it("GIVEN stack outputs WHEN they become a target THEN catch-all and lanes are split and the move task is used", () => {
        // Prepare
        const outputs = {
            queueUrls: { "catch-all": "https://q/catch-all", "stripe-default": "https://q/s", "stripe-billing": "https://q/sb" },
            dlqUrls: { "catch-all": "https://q/catch-all-dlq", "stripe-default": "https://q/s-dlq", "stripe-billing": "https://q/sb-dlq" },
            bucketName: "archive",
            webhookUrls: { stripe: "https://api/webhooks/stripe" },
        };

        // Act
        const target = targetFromOutputs(outputs, localClients("http://127.0.0.1:1"));

        // Assess
        expect({ where: target.where, bucket: target.bucket, providers: target.providers, catchAll: target.catchAll, lanes: target.lanes, moveTask: target.moveTask }).to.deep.equal({
            where: "aws",
            bucket: "archive",
            providers: ["stripe"],
            catchAll: { queueUrl: "https://q/catch-all", dlqUrl: "https://q/catch-all-dlq" },
            lanes: [
                { id: "stripe-default", provider: "stripe", queueUrl: "https://q/s", dlqUrl: "https://q/s-dlq" },
                { id: "stripe-billing", provider: "stripe", queueUrl: "https://q/sb", dlqUrl: "https://q/sb-dlq" },
            ],
            moveTask: true,
        });
        expect(() => targetFromOutputs({ ...outputs, bucketName: "" }, localClients("http://127.0.0.1:1"))).to.throw("stack outputs lack bucketName");
    });

    it("GIVEN ISO, now, relative and bad times WHEN parsed THEN ms since the epoch, or an error naming the formats", () => {
        const now = Date.parse("2026-11-23T15:00:00Z");
        expect(parseTime("2026-11-23T14:00:00Z", "--from", now)).to.equal(Date.parse("2026-11-23T14:00:00Z"));
        expect(parseTime("now", "--to", now)).to.equal(now);
        expect(parseTime("-15m", "--from", now)).to.equal(now - 15 * 60_000);
        expect(parseTime("-2h", "--from", now)).to.equal(now - 2 * 3_600_000);
        expect(parseTime("-1d", "--from", now)).to.equal(now - 86_400_000);
        expect(parseTime("-30s", "--from", now)).to.equal(now - 30_000);
        expect(parseTime("2026-11-23T16:00:00+01:00", "--from", now)).to.equal(Date.parse("2026-11-23T15:00:00Z"));
        expect(parseTime(String(now - 5), "--from", now)).to.equal(now - 5);
        expect(() => parseTime("yesterday", "--from", now)).to.throw('--from "yesterday" is not a time');
        expect(() => parseTime("-15x", "--from", now)).to.throw('--from "-15x" is not a time');
        expect(() => parseTime(undefined, "--from", now)).to.throw("--from is required");
    });

    it("GIVEN relative times after --from and --to WHEN the options are parsed THEN they are values, not options (node's parseArgs calls them ambiguous)", () => {
        expect(parseOpsArgs(["--provider", "acme", "--from", "-15m", "--to", "now"])).to.deep.include({ provider: "acme", from: "-15m", to: "now" });
        expect(parseOpsArgs(["--from", "-2h", "--to", "-1h", "--dry-run"])).to.deep.include({ from: "-2h", to: "-1h", "dry-run": true });
        expect(parseOpsArgs(["--from=-1d"])).to.deep.include({ from: "-1d" });
        // a boolean option is never given a value, and a missing value is still refused
        expect(() => parseOpsArgs(["--json", "-15m"])).to.throw();
        expect(() => parseOpsArgs(["--from", "--json"])).to.throw(/--from/);
    });

    it("GIVEN replay without --provider WHEN planned THEN the plan's first line says every provider is replayed, and that --to is now", () => {
        const from = Date.parse("2026-11-23T14:45:00Z");
        const to = Date.parse("2026-11-23T15:00:00Z");
        expect(replayPlan(undefined, ["stripe", "acme"], from, to, true, false)).to.equal(
            "replay plan: EVERY provider (no --provider given): stripe, acme, requests received 2026-11-23T14:45:00.000Z .. 2026-11-23T15:00:00.000Z (now)",
        );
        expect(replayPlan("acme", ["acme"], from, to, false, true)).to.equal("replay plan: provider acme, requests received 2026-11-23T14:45:00.000Z .. 2026-11-23T15:00:00.000Z [dry run: nothing will be sent]");
    });

    it("GIVEN the documented replay command WHEN run with no pipeline running THEN the times are accepted and the error is about the missing pipeline", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-"));
        const run = spawnSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "ops.js"), "replay", "--provider", "acme", "--from", "-15m", "--to", "now"], {
            encoding: "utf8",
            env: { ...process.env, NODE_NO_WARNINGS: "1", WEBHOOK_PIPELINE_LOCAL_DIR: dir },
        });
        expect({ status: run.status, said: run.stderr.split("\n")[0] }).to.deep.equal({
            status: 1,
            said: `ops: the local pipeline is not running (no ${path.join(dir, "state.json")}): start it with \`npm start\`, or pass --aws --outputs <file> to work on a deployed stack`,
        });
    });
    it("GIVEN redrive without a queue to take from, or --catch-all with a provider or lane WHEN run THEN it exits 2 naming the options", () => {
        const run = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "ops.js"), "redrive", ...args], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
        const none = run();
        expect({ status: none.status, said: none.stderr.split("\n")[0] }).to.deep.equal({ status: 2, said: "ops: redrive needs --provider <name> (a provider's lanes) or --catch-all (the router's DLQ)" });
        for (const extra of [["--provider", "stripe"], ["--lane", "billing"]]) {
            const both = run("--catch-all", ...extra);
            expect({ status: both.status, said: both.stderr.split("\n")[0] }, extra.join(" ")).to.deep.equal({ status: 2, said: "ops: redrive --catch-all takes no --provider or --lane (the catch-all queue belongs to no provider)" });
        }
    });
});

describe("output that stays readable", () => {
    it("GIVEN Node 20 WHEN an ops command creates AWS SDK clients THEN the SDK's Node version warning is not printed, unless asked for", () => {
        // Prepare: a deployed-stack target whose endpoint refuses connections (the clients are created, then fail fast)
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ops-"));
        const outputs = path.join(dir, "outputs.json");
        fs.writeFileSync(outputs, JSON.stringify({ queueUrls: { "catch-all": "http://127.0.0.1:1/q/c", "a-default": "http://127.0.0.1:1/q/a" }, dlqUrls: { "catch-all": "http://127.0.0.1:1/q/cd", "a-default": "http://127.0.0.1:1/q/ad" }, bucketName: "b", webhookUrls: { a: "https://x/webhooks/a" } }));
        const env: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL: "http://127.0.0.1:1", AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_MAX_ATTEMPTS: "1" };
        delete env.NODE_NO_WARNINGS;
        delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
        const run = (extra: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(repoRoot(), "dist", "scripts", "ops.js"), "status", "--aws", "--outputs", outputs], { encoding: "utf8", env: { ...env, ...extra }, timeout: 60_000 });

        // Act
        const quiet = run({});
        const asked = run({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" });

        // Assess
        expect({ status: quiet.status, warned: quiet.stderr.includes("NodeVersionSupportWarning") }, quiet.stderr).to.deep.equal({ status: 1, warned: false });
        expect(quiet.stderr).to.match(/^ops: /);
        if (Number(process.versions.node.split(".")[0]) < 22) expect(asked.stderr, "the switch is the SDK's own").to.include("NodeVersionSupportWarning");
        expect(asked.stdout, "warnings never reach stdout").to.not.include("NodeVersionSupportWarning");
    });
});
