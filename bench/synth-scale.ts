/**
 * Benchmark 4, synth scale: time and memory of the mock synth (what
 * `npm run synth` and the program tests run) for generated stacks of 10, 50
 * and 100 providers cycling through every plugin, each synth in a fresh
 * process. Growth is linear when the marginal cost of a provider stays the
 * same as the stack grows: we compare the cost per added provider between
 * the two larger steps (e.g. 50 -> 100 against 10 -> 50) and call it linear
 * within 1.5x.
 *
 * Memory: the heap still in use after a full GC at the end of the synth (what
 * the synth keeps: resource graph, serialized code) is the figure checked for
 * linearity; peak RSS is reported beside it but depends on when V8 collects.
 *
 * Time: synth's CPU time (user + system of the child) is what the linearity
 * check reads, as wall time on a shared machine swings with other work; wall
 * seconds are the `synth_s_<n>_providers` figures.
 *
 * `seconds` is synth() as scripts/synth.ts measures it: mocks, the program,
 * the settled resource graph and the zip estimate of every function;
 * `bundleSeconds` (the zip estimate alone, timed once more after synth) is
 * reported so the program's own share can be read.
 */
import { median, round } from "./stats";
import { runSynthChild, SynthChildResult } from "./synth-child";
import { Benchmark, goal, TableRow } from "./types";

/** Marginal cost per provider may grow at most this much from one step to the next. */
export const LinearTolerance = 1.5;

export interface SizeResult {
    readonly providers: number;
    readonly resources: number;
    readonly functions: number;
    readonly seconds: number;
    readonly cpuSeconds: number;
    readonly programSeconds: number;
    readonly maxRssMb: number;
    readonly peakHeapMb: number;
    /** Heap still used after a full GC at the end: what the synth really keeps. */
    readonly retainedHeapMb: number;
    readonly samples: Pick<SynthChildResult, "seconds" | "cpuSeconds" | "bundleSeconds" | "maxRssMb" | "peakHeapMb" | "retainedHeapMb">[];
}

/** Cost per added provider between consecutive sizes, and the ratio of the last step to the first. */
export function marginal(sizes: readonly SizeResult[], pick: (s: SizeResult) => number): { perProvider: number[]; growth: number } {
    const perProvider: number[] = [];
    for (let i = 1; i < sizes.length; i++) perProvider.push((pick(sizes[i]) - pick(sizes[i - 1])) / (sizes[i].providers - sizes[i - 1].providers));
    const growth = perProvider.length >= 2 ? perProvider[perProvider.length - 1] / perProvider[0] : 1;
    return { perProvider, growth };
}

export const synthScale: Benchmark = {
    name: "synth-scale",
    title: "Synth scale (mock synth, fresh process per size)",
    async run(ctx) {
        const counts = ctx.quick ? [5, 10, 20] : [10, 50, 100];
        const repeats = ctx.quick ? 1 : Math.min(ctx.repeats, 3);
        const sizes: SizeResult[] = [];
        for (const n of counts) {
            const samples: SynthChildResult[] = [];
            for (let r = 0; r < repeats; r++) {
                samples.push(await runSynthChild(ctx.root, ["--providers", String(n)]));
                ctx.log(`synth: ${n} providers, run ${r + 1}/${repeats}: ${samples[r].seconds.toFixed(1)} s, ${samples[r].maxRssMb.toFixed(0)} MB RSS`);
            }
            sizes.push({
                providers: n,
                resources: samples[0].resources,
                functions: samples[0].functions.length,
                seconds: median(samples.map((s) => s.seconds)),
                cpuSeconds: median(samples.map((s) => s.cpuSeconds)),
                programSeconds: median(samples.map((s) => s.seconds - s.bundleSeconds)),
                maxRssMb: median(samples.map((s) => s.maxRssMb)),
                peakHeapMb: median(samples.map((s) => s.peakHeapMb)),
                retainedHeapMb: median(samples.map((s) => s.retainedHeapMb ?? NaN)),
                samples: samples.map((s) => ({ seconds: round(s.seconds, 2), cpuSeconds: round(s.cpuSeconds, 2), bundleSeconds: round(s.bundleSeconds, 2), maxRssMb: round(s.maxRssMb, 0), peakHeapMb: round(s.peakHeapMb, 0), retainedHeapMb: round(s.retainedHeapMb ?? NaN, 0) })),
            });
        }
        // Linearity is judged on CPU time: wall time on a shared machine swings with other work.
        const time = marginal(sizes, (s) => s.cpuSeconds);
        const wall = marginal(sizes, (s) => s.seconds);
        const program = marginal(sizes, (s) => s.programSeconds);
        const memory = marginal(sizes, (s) => s.retainedHeapMb);
        const rss = marginal(sizes, (s) => s.maxRssMb);
        const largest = sizes[sizes.length - 1];
        const figures: Record<string, number> = {};
        for (const s of sizes) {
            figures[`synth_s_${s.providers}_providers`] = round(s.seconds, 2);
            figures[`synth_cpu_s_${s.providers}_providers`] = round(s.cpuSeconds, 2);
            figures[`synth_rss_mb_${s.providers}_providers`] = round(s.maxRssMb, 0);
            figures[`synth_heap_mb_${s.providers}_providers`] = round(s.retainedHeapMb, 0);
        }
        figures.synth_time_growth = round(time.growth, 2);
        figures.synth_memory_growth = round(memory.growth, 2);
        const steps = sizes.slice(1).map((s, i) => `${sizes[i].providers}->${s.providers}`);
        const rows: TableRow[] = [
            ...sizes.map((s) => ({
                metric: `${s.providers} providers (${s.resources} resources, ${s.functions} functions)`,
                ours: `${s.seconds.toFixed(1)} s wall, ${s.cpuSeconds.toFixed(1)} s CPU (${(s.cpuSeconds / s.providers).toFixed(2)} s/provider), peak ${s.maxRssMb.toFixed(0)} MB RSS, ${s.retainedHeapMb.toFixed(0)} MB heap kept`,
            })),
            { metric: `CPU time per added provider (${steps.join(", ")})`, ours: time.perProvider.map((v) => `${v.toFixed(2)} s`).join(", "), ratio: `${time.growth.toFixed(2)}x`, goal: `linear (<= ${LinearTolerance}x)`, met: time.growth <= LinearTolerance },
            { metric: "  wall time per added provider", ours: wall.perProvider.map((v) => `${v.toFixed(2)} s`).join(", "), ratio: `${wall.growth.toFixed(2)}x` },
            { metric: "  wall time without the zip estimate", ours: program.perProvider.map((v) => `${v.toFixed(2)} s`).join(", "), ratio: `${program.growth.toFixed(2)}x` },
            { metric: "Heap kept per added provider (after GC)", ours: memory.perProvider.map((v) => `${v.toFixed(1)} MB`).join(", "), ratio: `${memory.growth.toFixed(2)}x`, goal: `linear (<= ${LinearTolerance}x)`, met: memory.growth <= LinearTolerance },
            { metric: "  peak RSS per added provider", ours: rss.perProvider.map((v) => `${v.toFixed(1)} MB`).join(", "), ratio: `${rss.growth.toFixed(2)}x` },
        ];
        return {
            figures,
            rows,
            goals: [goal("synth_time_growth", "<=", LinearTolerance, figures.synth_time_growth), goal("synth_memory_growth", "<=", LinearTolerance, figures.synth_memory_growth)],
            details: { counts, repeats, sizes, marginalCpuSeconds: time, marginalWallSeconds: wall, marginalProgramSeconds: program, marginalRetainedHeapMb: memory, marginalRssMb: rss, largest: largest.providers },
        };
    },
};
