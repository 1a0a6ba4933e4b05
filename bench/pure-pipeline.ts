/**
 * Router CPU time per webhook, without I/O: the work a router does between
 * receiving a batch and making its calls, built from the same functions the
 * routers use.
 *
 * Ours, per batch of 100 (what `createRouter` does before and between its
 * calls): decode each envelope, verify, read facts, route; group accepted
 * and quarantined requests by archive partition and gzip one NDJSON object
 * per group; serialize each lane message; split each lane's messages into
 * SendMessageBatch entries (FIFO group and deduplication ids included).
 *
 * Seed-style, per webhook: decode, verify, read facts, route; serialize one
 * archive JSON object and one lane message (FIFO ids included).
 *
 * Secrets are passed in (the routers read them through a cache), so nothing
 * here waits. The SDK's own request serialization is not included in either;
 * the router-efficiency section reports process CPU with I/O separately.
 */
import { inlineLaneMessage, type InboundRecord } from "../handlers/router/router";
import { archiveLine, bodyMember, encodeArchive, partitionPrefix } from "../handlers/router/archive";
import { chunkForSqs, deduplicationId, messageGroupId } from "../handlers/router/lanes";
import { ArchivePrefix, LaneName } from "../model/constants";
import { decodeEnvelope, utf8Text } from "../model/envelope";
import { LaneMessageVersion } from "../model/lane-message";
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

/** Our router's pure work for one batch; `compress: false` leaves the archive as NDJSON (to tell gzip's share). */
export function oursPureBatch(config: RouterRuntimeConfig, compiled: SeedCompiled, secrets: Readonly<Record<string, readonly string[]>>, records: readonly InboundRecord[], now: number, stats: PureBatchStats = emptyStats(), compress = true): PureBatchStats {
    const groups = new Map<string, string[]>();
    const byLane = new Map<string, { body: string; eventId: string; orderingKey?: string; provider: string }[]>();
    const laneBodies: { laneId: string; msg: { body: string; eventId: string; orderingKey?: string; provider: string } }[] = [];
    for (const record of records) {
        const envelope = decodeEnvelope(record.body, record.attributes);
        const provider = config.providers[envelope.provider];
        const plugin = compiled.plugins[provider.name];
        const request = { headers: envelope.headers, body: envelope.body, url: envelope.url ?? "" };
        const verdict = plugin.verify(request, secrets[provider.name], { now, toleranceSeconds: provider.toleranceSeconds });
        const prefix = verdict.ok ? ArchivePrefix.Raw : ArchivePrefix.Quarantine;
        const key = partitionPrefix(prefix, envelope.provider, envelope.receivedAt);
        const lines = groups.get(key) ?? [];
        groups.set(key, lines);
        if (!verdict.ok) {
            lines.push(archiveLine(envelope, { reason: verdict.reason, detail: verdict.detail }, bodyMember(envelope.body, utf8Text(envelope.body, envelope.text))));
            continue;
        }
        const facts = plugin.facts(request);
        const target = compiled.routes[provider.name](facts.eventType);
        const line = lines.length;
        const text = utf8Text(envelope.body, envelope.text);
        const textJson = text === undefined ? undefined : JSON.stringify(text);
        lines.push(archiveLine(envelope, { eventId: facts.eventId, eventType: facts.eventType, target }, bodyMember(envelope.body, text, textJson)));
        if (target === LaneName.Drop) continue;
        // The lane message is built after the archive key is known, as in the router.
        const base = { v: LaneMessageVersion as typeof LaneMessageVersion, provider: envelope.provider, lane: target, requestId: envelope.requestId, eventId: facts.eventId, eventType: facts.eventType, orderingKey: facts.orderingKey, receivedAt: envelope.receivedAt, archiveKey: `${key}${now}-batch.ndjson.gz#${line}` };
        const body = inlineLaneMessage(base, envelope.body, text, textJson);
        laneBodies.push({ laneId: target, msg: { body, eventId: facts.eventId, orderingKey: facts.orderingKey, provider: envelope.provider } });
    }
    for (const lines of groups.values()) {
        if (lines.length === 0) continue;
        stats.archiveObjects += 1;
        const started = process.hrtime.bigint();
        stats.bytes += compress ? encodeArchive(lines).length : Buffer.byteLength(lines.join("\n") + "\n");
        stats.archiveEncodeNs += Number(process.hrtime.bigint() - started);
    }
    for (const { laneId, msg } of laneBodies) {
        const list = byLane.get(laneId) ?? [];
        list.push(msg);
        byLane.set(laneId, list);
    }
    let rounds = 0;
    for (const [laneId, messages] of byLane) {
        const lane = config.lanes[laneId];
        const chunks = chunkForSqs(messages);
        rounds = Math.max(rounds, chunks.length);
        for (const chunk of chunks) {
            stats.sendCalls += 1;
            const entries = chunk.map((m, i) => ({ Id: String(i), MessageBody: m.body, ...(lane.ordering ? { MessageGroupId: messageGroupId(m.orderingKey, m.provider), MessageDeduplicationId: deduplicationId(lane.id, m.eventId) } : {}) }));
            stats.bytes += entries.length;
        }
    }
    stats.sequentialSendRounds += rounds;
    for (const { msg } of laneBodies) stats.bytes += msg.body.length;
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
export function measurePureCpu(design: "ours" | "ours-uncompressed" | "seed", config: RouterRuntimeConfig, secrets: Readonly<Record<string, readonly string[]>>, records: readonly InboundRecord[], now: number, batchSize: number, passes: number, warmup = 3): CpuSample {
    const compiled = compileSeed(config);
    const pass = () => {
        const stats = emptyStats();
        if (design !== "seed") {
            for (let i = 0; i < records.length; i += batchSize) oursPureBatch(config, compiled, secrets, records.slice(i, i + batchSize), now, stats, design === "ours");
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
