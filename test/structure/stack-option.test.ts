/**
 * Every command reads `--stack` through one resolver (model/stack-config.ts):
 * a name or a path, relative paths from the folder `npm run` was called in
 * (INIT_CWD), a missing file an error naming what was tried. Each command is
 * run as a user runs it, in a fresh process from the project root.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repositoryRoot } from "./imports";

const root = repositoryRoot();

/** `node dist/<script> ...args` from the project root, as `npm run` starts it from `initCwd`. */
function run(script: string, args: string[], initCwd: string) {
    const result = spawnSync(process.execPath, [path.join(root, "dist", script), ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, INIT_CWD: initCwd, NODE_NO_WARNINGS: "1", WEBHOOK_PIPELINE_LOCAL_DIR: path.join(initCwd, "local-state") },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("structure: --stack means the same for every command", function () {
    this.timeout(180_000);
    let dir: string;
    const kafkaArgs = ["--lane", "acme-default", "--table", "t", "--bucket", "b", "--brokers", "127.0.0.1:1"];

    before(() => {
        // Prepare: a stack of our own outside the project (a copy of the dev stack under another name)
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-stack-"));
        fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.mine.yaml"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("GIVEN an absolute path WHEN npm run synth THEN it synthesizes that stack, named from the file", () => {
        const synth = run("scripts/synth.js", ["--stack", path.join(dir, "Pulumi.mine.yaml"), "--json"], root);
        expect(synth.code, synth.stderr).to.equal(0);
        const result = JSON.parse(synth.stdout);
        expect(result.stack).to.equal("mine");
        expect(Object.keys(result.outputs.webhookUrls).sort()).to.deep.equal(["acme", "github", "shopify", "slack", "stripe", "svix"]);
    });

    it("GIVEN a path relative to where npm run was called WHEN ops diagram THEN it draws that stack", () => {
        const diagram = run("scripts/ops.js", ["diagram", "--stack", "Pulumi.mine.yaml"], dir);
        expect(diagram.code, diagram.stderr).to.equal(0);
        expect(diagram.stdout).to.include("webhook pipeline: stack mine");
    });

    it("GIVEN a stack name with no file WHEN synth, start, send, ops, kafka:consume or kafka:replay THEN each fails naming the file it tried and the stacks there", () => {
        const tried = `--stack nope: no stack file ${path.join(root, "Pulumi.nope.yaml")} (stacks in ${root}: dev;`;
        const outcomes = {
            synth: run("scripts/synth.js", ["--stack", "nope"], root),
            start: run("scripts/local.js", ["--stack", "nope"], root),
            send: run("scripts/send.js", ["github", "--stack", "nope"], root),
            ops: run("scripts/ops.js", ["diagram", "--stack", "nope"], root),
            "kafka:consume": run("handlers/kafka/cli.js", [...kafkaArgs, "--stack", "nope"], root),
            "kafka:replay": run("scripts/kafka-replay.js", [...kafkaArgs, "--offset", "0", "--stack", "nope"], root),
        };
        for (const [command, outcome] of Object.entries(outcomes)) {
            expect(outcome.code, `${command}: ${outcome.stderr}`).to.be.oneOf([1, 2]);
            expect(outcome.stderr, command).to.include(tried);
        }
    });

    it("GIVEN a relative path that exists nowhere WHEN kafka:consume THEN it names both folders it tried", () => {
        const consume = run("handlers/kafka/cli.js", [...kafkaArgs, "--stack", "stacks/Pulumi.x.yaml"], dir);
        expect(consume.code).to.equal(2);
        expect(consume.stderr).to.include(`kafka consumer: --stack stacks/Pulumi.x.yaml: no such stack file (tried ${path.join(dir, "stacks", "Pulumi.x.yaml")}, ${path.join(root, "stacks", "Pulumi.x.yaml")};`);
    });
});
