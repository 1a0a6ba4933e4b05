/**
 * The benchmarks `npm run bench` runs, in order. Add a section by writing a
 * module that exports a `Benchmark` (types.ts) and listing it here; a section
 * that reads another's results names it in `needs`. Sections still to come
 * (issue 6): controlled concurrency (sqs/kafka_concurrency_peak and _limit)
 * and end-to-end latency in the local pipeline (ack_p99_ms, e2e_p99_ms).
 */
import { costModel } from "./cost-model";
import { functionSizeAndStart } from "./function-size";
import { routerEfficiency } from "./router-efficiency";
import { synthScale } from "./synth-scale";
import type { Benchmark } from "./types";

export const benchmarks: readonly Benchmark[] = [routerEfficiency, costModel, functionSizeAndStart, synthScale];
