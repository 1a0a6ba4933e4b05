/**
 * Router CPU time per webhook, without I/O: the work a router does between
 * receiving a batch and making its calls, built from the same functions the
 * routers use.
 *
 * Ours, per batch (what `createRouter` does before and between its calls, by
 * the router's own exported functions): decide each record (decode, judge
 * trust, verify, read facts, route: decideRecordNow), the pure per-batch stage
 * (planBatch: archive objects by partition, lane messages by lane), gzip each
 * archive object, split each lane's messages into SendMessageBatch entries
 * (FIFO group and deduplication ids included).
 *
 * Seed-style, per webhook: decode, verify, read facts, route; serialize one
 * archive JSON object and one lane message (FIFO ids included).
 *
 * Secrets and the pipeline-internal key are passed in (the routers read them
 * through a cache), so nothing here waits. The SDK's own request serialization is not included in either;
 * the router-efficiency section reports process CPU with I/O separately.
 */
import { compileRouter, CompiledRouter, decideRecordNow, type InboundRecord, Pending, planBatch } from "../handlers/router/router";
import { encodeArchive } from "../handlers/router/archive";
import { chunkForSqs, sqsBatchEntries } from "../handlers/router/lanes";
import { decodeEnvelope } from "../model/envelope";
import type { RouterRuntimeConfig } from "../model/runtime-config";
import { compileSeed, decideSeed, SeedCompiled } from "./baseline-router";
import { median } from "./stats";

/** What one pass produced: used to check the pure model against the real router's calls. */
export interface PureBatchStats {
    /** Archive objects (PutObject calls the router would make). */
    archiveObjects: number;
    /** SendMessageBatch calls (ours) or SendMessage calls (seed). */
    sendCalls: number;
    /** Ours: the most chunks any one lane needed in a batch (lanes send in parallel, chunks in sequence), summed over batches. */
    sequentialSendRounds: number;
    /** Bytes produced (archive + lane messages), so the work cannot be optimized away. */
    bytes: number;
    /** Ours: wall nanoseconds spent in encodeArchive (NDJSON + gzip). */
    archiveEncodeNs: number;
}

const emptyStats = (): PureBatchStats => ({ archiveObjects: 0, sendCalls: 0, sequentialSendRounds: 0, bytes: 0, archiveEncodeNs: 0 });

/**
 * Our router's pure work for one batch: the router's own decision per record (decideRecordNow) and its
 * pure per-batch stage (planBatch), then what its calls would carry: each archive object gzipped
 * (`compress: false` leaves it NDJSON, to tell gzip's share) and each lane's SendMessageBatch entries.
 */
export function oursPureBatch(
    compiled: CompiledRouter,
    inputs: { keys: readonly string[]; secrets: (provider: string) => readonly string[] },
    records: readonly InboundRecord[],
    now: number,
    stats: PureBatchStats = emptyStats(),
    compress = true,
): PureBatchStats {
    const pending: Pending[] = records.map((record) => ({ record }));
    for (const p of pending) decideRecordNow(compiled, p, inputs, now);
    const plan = planBatch(compiled, pending, now, "batch");
    for (const { lines } of plan.archive) {
        stats.archiveObjects += 1;
        const started = process.hrtime.bigint();
        stats.bytes += compress ? encodeArchive(lines).length : Buffer.byteLength(lines.join("\n") + "\n");
        stats.archiveEncodeNs += Number(process.hrtime.bigint() - started);
    }
    let rounds = 0;
    for (const [laneId, planned] of plan.byLane) {
        const lane = compiled.config.lanes[laneId];
        // The benchmark's bodies are 2 KB: every lane message is inline.
        const messages = planned.map((m) => ({ body: m.body!, eventId: m.base.eventId, orderingKey: m.base.orderingKey, provider: m.base.provider }));
        const chunks = chunkForSqs(messages);
        rounds = Math.max(rounds, chunks.length);
        for (const chunk of chunks) {
            stats.sendCalls += 1;
            stats.bytes += sqsBatchEntries(lane, chunk).length;
        }
        for (const m of messages) stats.bytes += m.body.length;
    }
    stats.sequentialSendRounds += rounds;
    return stats;
}

/** The seed-style router's pure work for one webhook. */
export function seedPureOne(config: RouterRuntimeConfig, compiled: SeedCompiled, secrets: Readonly<Record<string, readonly string[]>>, record: InboundRecord, now: number, stats: PureBatchStats): void {
    const envelope = decodeEnvelope(record.body, record.attributes);
    const d = decideSeed(config, compiled, envelope, secrets[envelope.provider], now);
    stats.archiveObjects += 1;
    stats.bytes += d.archiveBody.length;
    if (d.laneBody) {
        stats.sendCalls += 1;
        stats.bytes += d.laneBody.length + (d.fifo ? d.fifo.deduplicationId.length : 0);
    }
}

export interface CpuSample {
    /** CPU microseconds (user + system, all threads of this process) per webhook: median over the measured passes. */
    readonly usPerWebhook: number;
    /** Wall microseconds per webhook: median over the measured passes. */
    readonly wallUsPerWebhook: number;
    /** Per measured pass, CPU µs per webhook. */
    readonly passes: number[];
    /** Ours: wall µs per webhook in encodeArchive (gzip), median over passes. */
    readonly archiveEncodeUsPerWebhook: number;
    readonly warmupPasses: number;
    readonly stats: PureBatchStats;
}

/**
 * Time `passes` passes over `records` in one design, each on its own, after
 * `warmup` passes (the JIT optimizes hot code after a few hundred calls: a
 * router container handles many batches, so the steady state is what counts
 * per webhook). `process.cpuUsage` counts this process's CPU; the emulator
 * runs in its own process and nothing else runs here meanwhile.
 */
export function measurePureCpu(
    design: "ours" | "ours-uncompressed" | "seed",
    config: RouterRuntimeConfig,
    secrets: Readonly<Record<string, readonly string[]>>,
    sealKey: string,
    records: readonly InboundRecord[],
    now: number,
    batchSize: number,
    passes: number,
    warmup = 3,
): CpuSample {
    const compiled = compileSeed(config);
    const router = compileRouter(config);
    const inputs = { keys: [sealKey], secrets: (provider: string) => secrets[provider] ?? [] };
    const pass = () => {
        const stats = emptyStats();
        if (design !== "seed") {
            for (let i = 0; i < records.length; i += batchSize) oursPureBatch(router, inputs, records.slice(i, i + batchSize), now, stats, design === "ours");
        } else {
            for (const record of records) seedPureOne(config, compiled, secrets, record, now, stats);
        }
        return stats;
    };
    const stats = pass();
    for (let w = 1; w < warmup; w++) pass();
    const cpuSamples: number[] = [];
    const wallSamples: number[] = [];
    const encodeSamples: number[] = [];
    for (let p = 0; p < passes; p++) {
        const cpu = process.cpuUsage();
        const wall = process.hrtime.bigint();
        const passStats = pass();
        encodeSamples.push(passStats.archiveEncodeNs / 1000 / records.length);
        const used = process.cpuUsage(cpu);
        wallSamples.push(Number(process.hrtime.bigint() - wall) / 1000 / records.length);
        cpuSamples.push((used.user + used.system) / records.length);
    }
    return { usPerWebhook: median(cpuSamples), wallUsPerWebhook: median(wallSamples), passes: cpuSamples.map((v) => Math.round(v * 10) / 10), archiveEncodeUsPerWebhook: median(encodeSamples), warmupPasses: warmup, stats };
}
