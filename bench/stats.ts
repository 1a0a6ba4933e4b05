/** Small numeric helpers for benchmarks. */

export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("median of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sum(values: readonly number[]): number {
    return values.reduce((a, b) => a + b, 0);
}

/** Round to `digits` significant decimals for JSON (keeps results.json readable). */
export function round(value: number, digits = 3): number {
    const f = 10 ** digits;
    return Math.round(value * f) / f;
}

/** "12.3x" style ratio text. */
export function times(ratio: number): string {
    return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

/** A deterministic PRNG: the same seed gives the same traffic (mulberry32, the local pipeline's). */
export { seededRandom as prng } from "../local/failure-switch";

/** Pick a key of `weights` with probability proportional to its weight. */
export function weighted<K extends string>(weights: Readonly<Record<K, number>>, random: () => number): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = sum(entries.map(([, w]) => w));
    let at = random() * total;
    for (const [key, w] of entries) {
        at -= w;
        if (at < 0) return key;
    }
    return entries[entries.length - 1][0];
}

/** The nearest-rank percentile `p` (0..100) of `values`: a value that was measured, never an interpolation. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) throw new Error("percentile of no values");
    if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be within 0..100, not ${p}`);
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
