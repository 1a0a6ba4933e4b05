/**
 * The benchmarks `npm run bench` runs, in order. Add a section by writing a
 * module that exports a `Benchmark` (types.ts) and listing it here; a section
 * that reads another's results names it in `needs`.
 */
import { kafkaConcurrency, sqsConcurrency } from "./concurrency";
import { costModel } from "./cost-model";
import { delivery } from "./delivery";
import { functionSizeAndStart } from "./function-size";
import { endToEndLatency } from "./latency";
import { routerEfficiency } from "./router-efficiency";
import { synthScale } from "./synth-scale";
import type { Benchmark } from "./types";

export const benchmarks: readonly Benchmark[] = [routerEfficiency, costModel, functionSizeAndStart, synthScale, sqsConcurrency, kafkaConcurrency, endToEndLatency, delivery];
