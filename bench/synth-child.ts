/**
 * One mock synth in a fresh process (Pulumi's mocks are per process), for the
 * function-size and synth-scale sections. Prints one line
 * `BENCH_SYNTH <json>` on stdout; everything else it prints is ignored.
 *
 *   node dist/bench/synth-child.js --stack dev [--bundles <dir>]
 *   node dist/bench/synth-child.js --providers 50
 *
 * `--bundles <dir>` writes each callback function's `__index.js` to
 * `<dir>/<function name>/__index.js`, as scripts/bundles.ts `loadBundle` does.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { bundleOf, missingPackages } from "../scripts/bundles";
import { loadStackFile } from "../model/stack-config";
import { synth } from "../scripts/synth";

export const SynthMarker = "BENCH_SYNTH ";

/** Run this script in a fresh Node process with `args`; resolves with its result. */
export function runSynthChild(root: string, args: readonly string[], timeoutMs = 20 * 60_000): Promise<SynthChildResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--expose-gc", __filename, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const line = stdout.split("\n").find((l) => l.startsWith(SynthMarker));
            if (code !== 0 || !line) return reject(new Error(`synth child (${args.join(" ")}) exited with ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
            resolve(JSON.parse(line.slice(SynthMarker.length)) as SynthChildResult);
        });
    });
}

export interface SynthChildResult {
    readonly stack: string;
    readonly providers: number;
    /** synth() time: mocks, program, settled graph, bundle estimation. */
    readonly seconds: number;
    /** Time to estimate every function's zip once more after synth (what synth() spends on it, with warm file caches). */
    readonly bundleSeconds: number;
    /** CPU seconds (user + system) this process spent in synth(): less disturbed than wall time by other work on the machine. */
    readonly cpuSeconds: number;
    /** From process start (module loading included) to the end of synth(). */
    readonly processSeconds: number;
    readonly maxRssMb: number;
    /** Highest heapUsed sampled every 10 ms. */
    readonly peakHeapMb: number;
    /** heapUsed after a full GC at the end of synth (the resource graph and serialized code kept), when run with --expose-gc. */
    readonly retainedHeapMb?: number;
    readonly resources: number;
    readonly functions: { name: string; zipBytes: number; rawBytes: number; files: number; missing: string[]; indexJs?: string }[];
}

const Plugins = ["stripe", "github", "shopify", "slack", "twilio", "razorpay", "standard-webhooks", "hmac"] as const;

/**
 * A stack config with `count` providers cycling through every plugin: every
 * fifth one with a named lane and routes, Stripe ones ordered (FIFO), HMAC
 * ones declared in config. Secrets are placeholders, as readStackFile makes them.
 */
export function generatedStack(count: number): { config: Record<string, string>; secretKeys: string[] } {
    const providers = Array.from({ length: count }, (_, i) => {
        const plugin = Plugins[i % Plugins.length];
        const p: Record<string, unknown> = { name: `p${String(i).padStart(3, "0")}-${plugin}`, plugin, secret: `[secret:${i.toString(16).padStart(8, "0")}]` };
        if (plugin === "hmac") Object.assign(p, { signature: { header: "X-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type" });
        if (plugin === "stripe") p.ordering = true;
        if (i % 5 === 0) Object.assign(p, { routes: { "invoice.*": "billing", "ping": "drop" }, lanes: { billing: { concurrency: 2 } } });
        return p;
    });
    return {
        config: { "aws:region": "us-east-1", "webhook-pipeline:providers": JSON.stringify(providers), "webhook-pipeline:router": JSON.stringify({ batchSize: 100, concurrency: 10 }) },
        secretKeys: ["webhook-pipeline:providers"],
    };
}

async function main() {
    const { values } = parseArgs({ options: { stack: { type: "string" }, providers: { type: "string" }, bundles: { type: "string" } } });
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
    const { config, secretKeys, name: stack } = values.providers ? { ...generatedStack(Number(values.providers)), name: `generated-${values.providers}` } : loadStackFile(values.stack ?? "dev");
    const cpuBefore = process.cpuUsage();
    const result = await synth(stack, config, secretKeys);
    const cpuUsed = process.cpuUsage(cpuBefore);
    const processSeconds = process.uptime();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    clearInterval(sampler);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const retainedHeapMb = gc ? process.memoryUsage().heapUsed / 1e6 : undefined;
    const functions: SynthChildResult["functions"] = [];
    const bundlesStarted = process.hrtime.bigint();
    for (const fn of result.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
        const bundle = await bundleOf(fn);
        let indexJs: string | undefined;
        if (values.bundles) {
            const dir = path.join(values.bundles, fn.name);
            fs.mkdirSync(dir, { recursive: true });
            indexJs = path.join(dir, "__index.js");
            fs.writeFileSync(indexJs, bundle.indexJs);
        }
        functions.push({ name: fn.name, zipBytes: bundle.zipBytes, rawBytes: bundle.rawBytes, files: bundle.files, missing: missingPackages(bundle), ...(indexJs ? { indexJs } : {}) });
    }
    const bundleSeconds = Number(process.hrtime.bigint() - bundlesStarted) / 1e9;
    const out: SynthChildResult = {
        stack,
        providers: (JSON.parse(config["webhook-pipeline:providers"] ?? "[]") as unknown[]).length,
        seconds: result.seconds,
        cpuSeconds: (cpuUsed.user + cpuUsed.system) / 1e6,
        bundleSeconds,
        processSeconds,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        peakHeapMb: peakHeap / 1e6,
        ...(retainedHeapMb !== undefined ? { retainedHeapMb } : {}),
        resources: result.resources.filter((r) => !r.type.startsWith("pulumi:")).length,
        functions,
    };
    process.stdout.write(`\n${SynthMarker}${JSON.stringify(out)}\n`);
}

if (require.main === module) {
    main().then(
        () => process.exit(0),
        (err) => {
            console.error(err instanceof Error ? err.stack ?? err.message : err);
            process.exit(1);
        },
    );
}
