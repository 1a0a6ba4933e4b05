/**
 * Benchmark 3, function size and start: for each callback function of the
 * dev stack, the estimated zip size (scripts/bundles.ts `bundleOf`) and the
 * time to load its `__index.js` in a fresh Node process.
 *
 * The synth runs in a child process (Pulumi's mocks are per process) and
 * writes each `__index.js` to `.cache/bundles/<function>/`, where Node
 * resolves packages from the repository's node_modules as `loadBundle` does.
 * Then, per function, `node -e` requires the file five times, each in a new
 * process: the figure is the median time of `require()` (module loading plus
 * the callback factory: clients, logger, compiled routes) until `handler` is
 * a function. Node's own start-up is reported beside it, not in it.
 */
import { spawn } from "child_process";
import * as path from "path";
import { median, round } from "./stats";
import { runSynthChild } from "./synth-child";
import { Benchmark, goal, TableRow } from "./types";

export const FunctionGoals = { maxZipBytes: 1_000_000, maxInitMs: 150 } as const;

/** Run in the fresh process: require the bundle, check the handler, report timings. */
const LoadScript = [
    "const started = process.hrtime.bigint();",
    "const cpu = process.cpuUsage();",
    "const mod = require(process.argv[1]);",
    "if (typeof mod.handler !== 'function') throw new Error('__index.js does not export a handler function');",
    "const used = process.cpuUsage(cpu);",
    "const initMs = Number(process.hrtime.bigint() - started) / 1e6;",
    "process.stdout.write(JSON.stringify({ initMs, cpuMs: (used.user + used.system) / 1000 }));",
].join("\n");

export interface ColdLoad {
    /** require() + factory, ms. */
    readonly initMs: number;
    /** CPU time of the same, ms (less disturbed by other work on the machine). */
    readonly cpuMs: number;
    /** The whole child process, spawn to exit, ms (Node start-up included). */
    readonly processMs: number;
}

/** Load `file` in a fresh Node process, as the Lambda runtime would on a cold start (same region variable). */
export function coldLoad(file: string, cwd: string): Promise<ColdLoad> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const env = { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1", POWERTOOLS_LOG_LEVEL: "ERROR", NODE_ENV: "production" };
        const child = spawn(process.execPath, ["-e", LoadScript, file], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
        child.on("error", reject);
        child.on("close", (code) => {
            const processMs = Number(process.hrtime.bigint() - started) / 1e6;
            if (code !== 0) return reject(new Error(`loading ${file} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" | ")}`));
            try {
                const parsed = JSON.parse(out) as { initMs: number; cpuMs: number };
                resolve({ initMs: parsed.initMs, cpuMs: parsed.cpuMs, processMs });
            } catch {
                reject(new Error(`loading ${file}: unexpected output ${out.slice(0, 200)}`));
            }
        });
    });
}

export const functionSizeAndStart: Benchmark = {
    name: "function-size",
    title: "Function size and cold load (dev stack)",
    async run(ctx) {
        const loads = ctx.quick ? 3 : 5;
        ctx.log("functions: synthesizing the dev stack in a child process");
        const synth = await runSynthChild(ctx.root, ["--stack", "dev", "--bundles", path.join(ctx.root, ".cache", "bundles")]);
        const functions = [];
        for (const fn of synth.functions) {
            const samples: ColdLoad[] = [];
            for (let i = 0; i < loads; i++) samples.push(await coldLoad(fn.indexJs!, ctx.root));
            functions.push({
                name: fn.name,
                zipBytes: fn.zipBytes,
                rawBytes: fn.rawBytes,
                files: fn.files,
                missing: fn.missing,
                initMs: round(median(samples.map((s) => s.initMs)), 1),
                cpuMs: round(median(samples.map((s) => s.cpuMs)), 1),
                processMs: round(median(samples.map((s) => s.processMs)), 1),
                samples: samples.map((s) => round(s.initMs, 1)),
            });
            ctx.log(`functions: ${fn.name}: ${(fn.zipBytes / 1024).toFixed(0)} KiB, ${functions[functions.length - 1].initMs} ms`);
        }
        const maxZip = Math.max(...functions.map((f) => f.zipBytes));
        const maxInit = Math.max(...functions.map((f) => f.initMs));
        const missing = functions.filter((f) => f.missing.length);
        // One row per distinct function kind: the workers share one bundle.
        const kind = (name: string) => (name.endsWith("-worker-fn") ? "worker" : name.endsWith("-router-fn") ? "router" : name.endsWith("-ingress-fn") ? "ingress" : name);
        const byKind = new Map<string, typeof functions>();
        for (const f of functions) byKind.set(kind(f.name), [...(byKind.get(kind(f.name)) ?? []), f]);
        const rows: TableRow[] = [
            { metric: "Largest function zip (estimated)", ours: `${(maxZip / 1024).toFixed(0)} KiB`, goal: "<= 1 MB", met: maxZip <= FunctionGoals.maxZipBytes },
            { metric: "Slowest cold load (require + factory, median)", ours: `${maxInit.toFixed(0)} ms`, goal: `<= ${FunctionGoals.maxInitMs} ms`, met: maxInit <= FunctionGoals.maxInitMs },
            ...[...byKind].map(([k, fs]) => ({
                metric: `  ${k} (${fs.length} function${fs.length > 1 ? "s" : ""})`,
                ours: `${(Math.max(...fs.map((f) => f.zipBytes)) / 1024).toFixed(0)} KiB, ${Math.max(...fs.map((f) => f.initMs)).toFixed(0)} ms (CPU ${Math.max(...fs.map((f) => f.cpuMs)).toFixed(0)} ms; ${Math.max(...fs.map((f) => f.processMs)).toFixed(0)} ms with Node start)`,
            })),
        ];
        if (missing.length) rows.push({ metric: "WARNING: packages missing from zips", ours: missing.map((f) => `${f.name}: ${f.missing.join(", ")}`).join("; ") });
        return {
            figures: { max_zip_bytes: maxZip, max_init_ms: round(maxInit, 1), max_init_cpu_ms: round(Math.max(...functions.map((f) => f.cpuMs)), 1) },
            rows,
            goals: [goal("max_zip_bytes", "<=", FunctionGoals.maxZipBytes, maxZip), goal("max_init_ms", "<=", FunctionGoals.maxInitMs, round(maxInit, 1))],
            details: { loadsPerFunction: loads, synthSeconds: synth.seconds, functions },
        };
    },
};
