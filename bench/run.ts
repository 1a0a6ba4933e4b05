/**
 * `npm run bench [-- --quick] [-- --only router-efficiency,cost-model] [-- --repeats N] [-- --out file.json]`
 *
 * Runs the benchmarks of issue 6 (sections.ts) on this machine, prints one
 * table, and writes `bench/results.json` (figures, goals, per-section details,
 * environment) and `bench/chart.svg` (headline ratios, ours vs the seed-style
 * baseline). The AWS emulator is AWS_ENDPOINT_URL when set, else a moto
 * server started for the run and stopped at the end.
 *
 * `--only` runs some sections (and those they need) and merges them into
 * `bench/results.json` (mergeResults: the other sections stay as the last
 * full run left them; the chart is not redrawn); `--quick` (smaller counts,
 * two repeats, for CI) writes `bench/results.quick.json`: the full results
 * and the chart stay as the last full run left them; `--out <file>` writes the
 * results there (and no chart). Figures a section did
 * not measure are absent from `figures`. Exit code 1 when a section failed;
 * a missed goal is reported, not an error.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { repoRoot } from "../local/services/cache";
import { MOTO_VERSION, MotoServer, startMoto } from "../local/services/moto";
import { writeChart } from "./chart";
import { benchmarks } from "./sections";
import { markdownTable, TableSection, textTable } from "./table";
import type { Benchmark, BenchContext, Goal, SectionResult } from "./types";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "../scripts/node-support";

export interface BenchResults {
    readonly figures: Record<string, number>;
    readonly goals: Goal[];
    readonly sections: Record<string, { title: string; seconds: number; error?: string; details?: unknown; figures?: string[]; date?: string }>;
    readonly table: string;
    readonly environment: Record<string, unknown>;
}

/** The table's blocks by section title (a block: its `| **title** |` line and the rows under it). */
function tableBlocks(table: string): { head: string[]; blocks: { title: string; lines: string[] }[] } {
    const lines = table ? table.split("\n") : [];
    const head = lines.slice(0, 2);
    const blocks: { title: string; lines: string[] }[] = [];
    for (const line of lines.slice(2)) {
        const title = /^\| \*\*(.*)\*\* \|/.exec(line)?.[1];
        if (title !== undefined) blocks.push({ title, lines: [line] });
        else blocks[blocks.length - 1]?.lines.push(line);
    }
    return { head, blocks };
}

/**
 * The results of an `--only` run merged into the last full results: the
 * sections it ran replace theirs (figures, goals, details, table rows);
 * every other section stays as it was, so results.json keeps one figure per
 * key and each section says when it ran (`sections[name].date`).
 */
export function mergeResults(previous: BenchResults, current: BenchResults): BenchResults {
    const ran = Object.keys(current.sections);
    // A section's old figures: the ones it listed, and any key the new run emits.
    const replaced = new Set([...ran.flatMap((n) => previous.sections[n]?.figures ?? []), ...Object.keys(current.figures)]);
    const figures = Object.fromEntries(Object.entries(previous.figures).filter(([k]) => !replaced.has(k)));
    Object.assign(figures, current.figures);
    const goals = [...previous.goals.filter((g) => !replaced.has(g.figure)), ...current.goals];
    const sections = { ...previous.sections, ...current.sections };
    const old = tableBlocks(previous.table);
    const fresh = tableBlocks(current.table);
    const blocks = old.blocks.map((b) => fresh.blocks.find((f) => f.title === b.title) ?? b);
    for (const f of fresh.blocks) if (!old.blocks.some((b) => b.title === f.title)) blocks.push(f);
    const table = [...(old.head.length ? old.head : fresh.head), ...blocks.flatMap((b) => b.lines)].join("\n");
    const before = previous.environment;
    const environment = {
        ...before,
        sections: [...new Set([...((before.sections as string[] | undefined) ?? []), ...ran])],
        // Where the merged sections ran: the machine and its load then (the rest is the full run's).
        merged: { ...((before.merged as Record<string, unknown> | undefined) ?? {}), ...Object.fromEntries(ran.map((n) => [n, current.environment])) },
    };
    return { figures, goals, sections, table, environment };
}

/** The sections to run for `--only` (with what they need, in registry order). */
export function selectSections(all: readonly Benchmark[], only: readonly string[] | undefined): Benchmark[] {
    if (!only?.length) return [...all];
    const unknown = only.filter((n) => !all.some((b) => b.name === n));
    if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(", ")} (known: ${all.map((b) => b.name).join(", ")})`);
    const wanted = new Set<string>();
    const add = (name: string) => {
        if (wanted.has(name)) return;
        wanted.add(name);
        for (const need of all.find((b) => b.name === name)?.needs ?? []) add(need);
    };
    only.forEach(add);
    return all.filter((b) => wanted.has(b.name));
}

const Usage = `Usage: npm run bench [-- --quick] [-- --only a,b] [-- --repeats N] [-- --out file.json]
  Runs the benchmarks (bench/sections.ts), prints one table, writes bench/results.json and bench/chart.svg.
  --quick         smaller counts, two repeats (writes bench/results.quick.json)
  --only a,b      some sections (and what they need), merged into bench/results.json (the others stay)
  --repeats N     repeats per measurement (default 5, --quick 2)
  --out FILE      write the results there (and no chart)
See docs/benchmarks.md for the method and the last results.`;

async function main() {
    exitOnHelp(process.argv.slice(2), Usage);
    quietSdkNodeWarning();
    const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, only: { type: "string" }, repeats: { type: "string" }, out: { type: "string" } } });
    const quick = values.quick ?? false;
    const repeats = values.repeats ? Number(values.repeats) : quick ? 2 : 5;
    if (!Number.isInteger(repeats) || repeats < 1) throw new Error("--repeats needs a whole number >= 1");
    const root = repoRoot();
    const selected = selectSections(benchmarks, values.only?.split(",").map((s) => s.trim()).filter(Boolean));

    let moto: MotoServer | undefined;
    let endpoint: Promise<string> | undefined;
    const results = new Map<string, SectionResult>();
    const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
    const ctx: BenchContext = {
        quick,
        repeats,
        root,
        log,
        results,
        awsEndpoint() {
            endpoint ??= process.env.AWS_ENDPOINT_URL
                ? Promise.resolve(process.env.AWS_ENDPOINT_URL)
                : startMoto().then((m) => {
                      moto = m;
                      log(`moto ${MOTO_VERSION} started on ${m.endpoint}`);
                      return m.endpoint;
                  });
            return endpoint;
        },
    };

    const figures: Record<string, number> = {};
    const goals: Goal[] = [];
    const sections: BenchResults["sections"] = {};
    const table: TableSection[] = [];
    const started = Date.now();
    const loadBefore = os.loadavg();
    try {
        for (const bench of selected) {
            log(`${bench.title}...`);
            const t0 = Date.now();
            try {
                const missing = (bench.needs ?? []).filter((n) => !results.has(n));
                if (missing.length) throw new Error(`needs the results of ${missing.join(", ")}, which failed`);
                const result = await bench.run(ctx);
                results.set(bench.name, result);
                for (const [key, value] of Object.entries(result.figures)) {
                    if (key in figures) throw new Error(`figure ${key} is emitted by two sections`);
                    if (!Number.isFinite(value)) throw new Error(`figure ${key} is not a finite number (${value})`);
                    figures[key] = value;
                }
                goals.push(...result.goals);
                sections[bench.name] = { title: bench.title, seconds: (Date.now() - t0) / 1000, details: result.details, figures: Object.keys(result.figures), date: new Date().toISOString() };
                table.push({ title: bench.title, rows: result.rows });
            } catch (err) {
                const message = err instanceof Error ? err.message : String(err);
                log(`${bench.name} FAILED: ${message}`);
                if (err instanceof Error && err.stack) log(err.stack);
                sections[bench.name] = { title: bench.title, seconds: (Date.now() - t0) / 1000, error: message };
                table.push({ title: bench.title, rows: [], error: message });
                process.exitCode = 1;
            }
        }
    } finally {
        await moto?.stop();
    }

    const text = textTable(table);
    console.log(text);
    const met = goals.filter((g) => g.met).length;
    console.log(`\ngoals: ${met} met, ${goals.length - met} missed${goals.length - met ? ` (${goals.filter((g) => !g.met).map((g) => g.figure).join(", ")})` : ""}; ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const cpus = os.cpus();
    const output: BenchResults = {
        figures,
        goals,
        sections,
        table: markdownTable(table),
        environment: {
            date: new Date().toISOString(),
            node: process.version,
            platform: `${process.platform} ${process.arch}`,
            cpuModel: cpus[0]?.model ?? "unknown",
            cpus: cpus.length,
            memoryGb: Math.round(os.totalmem() / 1e9),
            // Other work on the machine shows in the timings: the load averages before and after the run say how busy it was.
            loadAverage1mBefore: Math.round(loadBefore[0] * 100) / 100,
            loadAverage1mAfter: Math.round(os.loadavg()[0] * 100) / 100,
            quick,
            repeats,
            sections: selected.map((b) => b.name),
            emulator: process.env.AWS_ENDPOINT_URL ? "AWS_ENDPOINT_URL" : `moto ${MOTO_VERSION} (started by the benchmark)`,
        },
    };
    // A quick run must not overwrite the full results the README quotes; an --only run merges the sections it ran into
    // them (a section that failed keeps its last figures out: its error replaces them, as in a full run).
    const only = selected.length < benchmarks.length;
    const partial = only || quick;
    const out = values.out ? path.resolve(values.out) : path.join(root, "bench", quick ? "results.quick.json" : "results.json");
    const full = path.join(root, "bench", "results.json");
    const merge = only && !quick && !values.out && fs.existsSync(full);
    const written = merge ? mergeResults(JSON.parse(fs.readFileSync(full, "utf8")) as BenchResults, output) : output;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(written, null, 2) + "\n");
    if (merge) log(`merged ${selected.map((b) => b.name).join(", ")} into the last full results`);
    log(`wrote ${path.relative(root, out)}`);
    if (!partial && !values.out) {
        const chart = writeChart(figures, path.join(root, "bench", "chart.svg"));
        if (chart) log(`wrote ${path.relative(root, chart)}`);
    }
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
