/**
 * Every command answers `--help` with its usage and exits 0 without doing the work
 * (issue 14: `npm run synth -- --help` used to run a full synth).
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../../local/stack";

interface Run {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(repoRoot(), "dist", script), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        // Doing the work instead (a pipeline, a synth, a bench) would outlast this: kill it and fail.
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("error", reject);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr, ms: Date.now() - started });
        });
    });
}

describe("--help on every command", function () {
    this.timeout(90_000);
    const commands: [string, string, string[]][] = [
        ["npm start", "scripts/local.js", ["--help"]],
        ["send", "scripts/send.js", ["--help"]],
        ["ops", "scripts/ops.js", ["--help"]],
        ["ops replay", "scripts/ops.js", ["replay", "--help"]],
        ["ops redrive", "scripts/ops.js", ["redrive", "--help"]],
        ["ops status", "scripts/ops.js", ["status", "--help"]],
        ["ops pause", "scripts/ops.js", ["pause", "--help"]],
        ["ops resume", "scripts/ops.js", ["resume", "--help"]],
        ["ops diagram", "scripts/ops.js", ["diagram", "-h"]],
        ["console", "scripts/console.js", ["--help"]],
        ["screenshots", "scripts/console-screenshots.js", ["--help"]],
        ["synth", "scripts/synth.js", ["--help"]],
        ["kafka:replay", "scripts/kafka-replay.js", ["--help"]],
        ["kafka:consume", "handlers/kafka/cli.js", ["--help"]],
        ["bench", "bench/run.js", ["--help"]],
        ["drill", "drill/run.js", ["--help"]],
    ];

    it("GIVEN --help WHEN each command runs THEN it prints its usage on stdout, exits 0 at once, and does nothing else", async () => {
        // Prepare: a local dir of its own, so a pipeline started by mistake would leave its state there
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "help-"));
        const env = { ...process.env, NODE_NO_WARNINGS: "1", WEBHOOK_PIPELINE_LOCAL_DIR: dir, PORT: "1" };

        // Act: two at a time (2-core machines)
        const results: Run[] = [];
        for (let i = 0; i < commands.length; i += 2) results.push(...(await Promise.all(commands.slice(i, i + 2).map(([, script, args]) => run(script, args, env)))));

        // Assess
        const seen = commands.map(([name], i) => ({ name, code: results[i].code, usage: results[i].stdout.startsWith("Usage: "), stderr: results[i].stderr }));
        expect(seen).to.deep.equal(commands.map(([name]) => ({ name, code: 0, usage: true, stderr: "" })));
        for (const [i, [name, , args]] of commands.entries()) {
            if (name.startsWith("ops ")) expect(results[i].stdout, name).to.include(`npm run ops -- ${args[0]}`);
            expect(results[i].ms, `${name} took ${results[i].ms} ms`).to.be.below(20_000);
        }
        expect(fs.readdirSync(dir)).to.deep.equal([]);
    });
});
