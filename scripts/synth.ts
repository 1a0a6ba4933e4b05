/**
 * `npm run synth -- --stack dev`: run the Pulumi program under Pulumi's mock
 * runtime with that stack's config, and print what `pulumi up` would create:
 * per provider and lane the queue and DLQ (kind, retention, visibility, max
 * receive count), the worker (runtime, memory, timeout, concurrency, batch),
 * the IAM actions its role gets by resource, and the alarms (scripts/synth-plan.ts);
 * then resources per provider and each function's zip size. No cloud, no CLI.
 *
 * Options: --stack <name or path to a stack file> (default dev), --json (all of it, sorted, no timings).
 */
import * as path from "path";
import { performance } from "perf_hooks";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "./node-support";
import { bundleOf, missingPackages } from "./bundles";
import { loadStackFile } from "../model/stack-config";
import { formatPlan, synthPlan } from "./synth-plan";
import { RecordedResource, settled, setupMocks, valueOf } from "./pulumi-mocks";

export interface SynthResult {
    readonly stack: string;
    readonly seconds: number;
    readonly heapMb: number;
    readonly resources: readonly RecordedResource[];
    readonly functions: readonly { name: string; zipBytes: number; rawBytes: number; files: number; missing: string[] }[];
    readonly outputs: Record<string, unknown>;
}

function arg(name: string, fallback: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Synthesize a stack from a config map (a stack file's, or a generated one for benchmarks). */
export async function synth(stack: string, config: Record<string, string>, secretKeys: string[]): Promise<SynthResult> {
    const started = performance.now();
    const session = await setupMocks({ stack, config, secretKeys });
    // The program reads config at import time, so import it after the mocks.
    const program = (await import(path.resolve(__dirname, "..", "index"))) as Record<string, any>;
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) {
        if (value && typeof value.apply === "function") outputs[key] = await valueOf(value);
    }
    await settled();
    const functions = [];
    for (const fn of session.byType("aws:lambda/function:Function")) {
        const bundle = await bundleOf(fn);
        functions.push({ name: fn.name, zipBytes: bundle.zipBytes, rawBytes: bundle.rawBytes, files: bundle.files, missing: missingPackages(bundle) });
    }
    // Registration order depends on when each Output resolved: sort, so two runs print the same.
    functions.sort((a, b) => a.name.localeCompare(b.name));
    return {
        stack,
        seconds: (performance.now() - started) / 1000,
        heapMb: process.memoryUsage().heapUsed / 1e6,
        resources: session.resources,
        functions,
        outputs,
    };
}

function providerOf(resourceName: string, providers: string[]): string {
    const parts = resourceName.split("-");
    return providers.find((p) => parts.slice(1).join("-").startsWith(`${p}-`)) ?? "(shared)";
}

function printTable(result: SynthResult) {
    const providers = Object.keys((result.outputs.webhookUrls as Record<string, string>) ?? {}).sort((a, b) => b.length - a.length);
    const groups = new Map<string, Map<string, number>>();
    for (const r of result.resources) {
        if (r.type.startsWith("pulumi:")) continue;
        const group = providerOf(r.name, providers);
        const counts = groups.get(group) ?? new Map<string, number>();
        const type = r.type.split(":").pop()!;
        counts.set(type, (counts.get(type) ?? 0) + 1);
        groups.set(group, counts);
    }
    const total = result.resources.filter((r) => !r.type.startsWith("pulumi:")).length;
    console.log(`Stack ${result.stack}: ${total} resources (synthesized offline in ${result.seconds.toFixed(2)} s)\n`);
    console.log(formatPlan(synthPlan(result.resources, result.outputs)).join("\n"));
    console.log("\nResources by provider:");
    for (const [group, counts] of [...groups].sort(([a], [b]) => (a === "(shared)" ? -1 : b === "(shared)" ? 1 : a.localeCompare(b)))) {
        const list = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => `${t} x${n}`);
        console.log(`${group.padEnd(14)} ${list.join(", ")}`);
    }
    console.log("\nFunction                                   zip (est.)   unpacked   files");
    for (const f of result.functions) {
        const flag = f.missing.length ? `  MISSING: ${f.missing.join(", ")}` : "";
        console.log(`${f.name.padEnd(42)} ${(f.zipBytes / 1024).toFixed(1).padStart(8)} KiB ${(f.rawBytes / 1024).toFixed(1).padStart(8)} KiB ${String(f.files).padStart(6)}${flag}`);
    }
    console.log("\nWebhook URLs:");
    for (const [p, u] of Object.entries((result.outputs.webhookUrls as Record<string, string>) ?? {})) console.log(`  ${p.padEnd(14)} ${u}`);
}

const Usage = `Usage: npm run synth [-- --stack dev] [-- --json]
  Runs the Pulumi program under Pulumi's mock runtime with the stack's config (no cloud, no CLI, no
  credentials) and prints what \`pulumi up\` would create.
  --stack NAME|PATH   a stack name (Pulumi.<NAME>.yaml beside Pulumi.yaml; default dev) or a path to a stack file
  --json         everything, machine-readable, in a stable order`;

async function main() {
    exitOnHelp(process.argv.slice(2), Usage);
    quietSdkNodeWarning();
    const { name: stack, config, secretKeys } = loadStackFile(arg("stack", "dev"));
    const result = await synth(stack, config, secretKeys);
    if (process.argv.includes("--json")) {
        // No timings: the same stack gives the same JSON, so it can be diffed between commits.
        const resources = result.resources.filter((r) => !r.type.startsWith("pulumi:")).length;
        console.log(JSON.stringify({ stack, resources, plan: synthPlan(result.resources, result.outputs), functions: result.functions, outputs: result.outputs }, null, 2));
    } else {
        printTable(result);
    }
    if (result.functions.some((f) => f.missing.length)) process.exitCode = 1;
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
