/**
 * Publishing the runtime's counts as CloudWatch metrics through Powertools
 * (embedded metric format in the function's log: no API call). Dimensions:
 * `provider` and, where it applies, `lane` or `reason`.
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";

export type Counts = Record<string, number>;

/** One metric per (name, dimension value), each flushed as its own EMF record. */
export function publishCounts(metrics: Metrics, name: string, dimension: string, counts: Counts, extra: Record<string, string> = {}): void {
    for (const [value, count] of Object.entries(counts)) {
        if (!count) continue;
        const single = metrics.singleMetric();
        for (const [k, v] of Object.entries(extra)) single.addDimension(k, v);
        single.addDimension(dimension, value);
        single.addMetric(name, "Count", count);
    }
}
