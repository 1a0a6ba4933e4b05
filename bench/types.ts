/**
 * The contract every benchmark section fulfils. `run.ts` runs the sections in
 * order, merges their figures into `results.json` and their rows into the
 * printed table. A new benchmark (controlled concurrency, end-to-end latency,
 * ...) is one module exporting a `Benchmark`, added to `sections.ts`.
 *
 * A section returns only what it measured: a figure it could not measure is
 * absent, never zero or a guess.
 */

/** One row of the printed table (and of the README). */
export interface TableRow {
    readonly metric: string;
    readonly ours: string;
    /** The seed-style design's value, when the metric has one. */
    readonly baseline?: string;
    /** baseline / ours, or whatever comparison the metric reads best as. */
    readonly ratio?: string;
    /** The goal as text, e.g. "<= 130". */
    readonly goal?: string;
    /** Omitted for rows without a goal. */
    readonly met?: boolean;
}

/** A goal from the issue, checked against one figure. */
export interface Goal {
    readonly figure: string;
    readonly op: "<=" | ">=";
    readonly target: number;
    readonly value: number;
    readonly met: boolean;
}

export interface SectionResult {
    /** Numbers for `results.json` `figures` (keep names stable: dashboards and the README read them). */
    readonly figures: Readonly<Record<string, number>>;
    readonly rows: readonly TableRow[];
    readonly goals: readonly Goal[];
    /** Everything else worth keeping: per-repeat samples, breakdowns, assumptions. */
    readonly details: unknown;
}

export interface BenchContext {
    /** `--quick`: smaller counts and fewer repeats, for CI. */
    readonly quick: boolean;
    /** Repeats per measurement (median reported). */
    readonly repeats: number;
    /** Repository root (package.json). */
    readonly root: string;
    /** Progress line on stderr (stdout carries the table). */
    log(line: string): void;
    /** The AWS emulator: AWS_ENDPOINT_URL when set, else a moto server started once for the whole run. */
    awsEndpoint(): Promise<string>;
    /** Results of the sections that ran before this one, by name. */
    readonly results: ReadonlyMap<string, SectionResult>;
}

export interface Benchmark {
    /** Stable id, used by `--only` and as the key under `sections` in results.json. */
    readonly name: string;
    readonly title: string;
    /** Sections whose results this one reads (run first, even under `--only`). */
    readonly needs?: readonly string[];
    run(ctx: BenchContext): Promise<SectionResult>;
}

/** Build a goal and its check in one place. */
export function goal(figure: string, op: Goal["op"], target: number, value: number): Goal {
    return { figure, op, target, value, met: op === "<=" ? value <= target : value >= target };
}
