/**
 * The seed-style baseline router, written for the benchmark only: the design
 * we started from, measured on the same emulator and the same traffic.
 *
 * Each catch-all message (a Lambda SQS batch of 10, the event source default)
 * is handled on its own: parse the envelope, verify the signature, archive the
 * request with one PutObject (one JSON object per request), and forward the
 * event with one SendMessage. It is given what a careful seed would have:
 * plugins and routes compiled once per container, secrets read through the
 * same 5-minute cache, records of a batch handled concurrently, the same
 * routes (drops are archived and not sent) and the same lane message format.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { InboundRecord } from "../handlers/router/router";
import type { SecretReader } from "../handlers/shared/secrets";
import { archiveLineOf } from "../handlers/router/archive";
import { deduplicationId, messageGroupId } from "../handlers/router/lanes";
import { ArchivePrefix, LaneName } from "../model/constants";
import { decodeEnvelope, Envelope } from "../model/envelope";
import { LaneMessageVersion } from "../model/lane-message";
import { compileRoutes } from "../model/pipeline";
import type { LaneRuntime, RouterRuntimeConfig } from "../model/runtime-config";
import { getPlugin } from "../providers";
import type { EventFacts, ProviderPlugin, VerifyResult, WebhookRequest } from "../providers/types";

/** The Lambda SQS event source's default batch size, which the seed kept. */
export const SeedBatchSize = 10;

export interface SeedRouterDeps {
    readonly config: RouterRuntimeConfig;
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretReader;
    readonly now?: () => number;
}

export interface SeedReport {
    received: number;
    accepted: number;
    quarantined: number;
    dropped: number;
    sent: number;
    failed: number;
    /** The first error, when a record failed. */
    firstError?: string;
}

/** What the seed does for one message without I/O: the pure part, shared with the CPU benchmark. */
export interface SeedDecision {
    readonly envelope: Envelope;
    readonly verdict: VerifyResult;
    readonly facts?: EventFacts;
    readonly lane?: LaneRuntime;
    /** `raw/<provider>/<request id>.json` or `quarantine/...`. */
    readonly archiveKey: string;
    readonly archiveBody: string;
    /** Lane message JSON, when the event goes to a lane. */
    readonly laneBody?: string;
    readonly fifo?: { groupId: string; deduplicationId: string };
}

export interface SeedCompiled {
    readonly plugins: Readonly<Record<string, ProviderPlugin>>;
    readonly routes: Readonly<Record<string, (eventType: string) => string>>;
}

export function compileSeed(config: RouterRuntimeConfig): SeedCompiled {
    const plugins: Record<string, ProviderPlugin> = {};
    const routes: Record<string, (eventType: string) => string> = {};
    for (const p of Object.values(config.providers)) {
        plugins[p.name] = getPlugin(p.plugin, p.hmac);
        // The seed routed each event to one lane: it takes a route's first lane (the bench's configs have no fan-out).
        const compiledRoutes = compileRoutes(p.routes);
        routes[p.name] = (eventType) => compiledRoutes(eventType)[0];
    }
    return { plugins, routes };
}

/** Verify, read facts, route and serialize one parsed message: everything but the calls. Throws on an unknown provider (the seed had no quarantine for it). */
export function decideSeed(config: RouterRuntimeConfig, compiled: SeedCompiled, envelope: Envelope, secrets: readonly string[], now: number): SeedDecision {
    const provider = config.providers[envelope.provider];
    if (!provider) throw new Error(`seed router: unknown provider ${envelope.provider}`);
    const request: WebhookRequest = { headers: envelope.headers, body: envelope.body, url: envelope.url ?? "" };
    const plugin = compiled.plugins[provider.name];
    const verdict = plugin.verify(request, secrets, { now, toleranceSeconds: provider.toleranceSeconds });
    if (!verdict.ok) {
        const archiveKey = `${ArchivePrefix.Quarantine}/${envelope.provider}/${envelope.requestId}.json`;
        return { envelope, verdict, archiveKey, archiveBody: archiveLineOf(envelope, envelope.body, { reason: verdict.reason, detail: verdict.detail }) };
    }
    const facts = plugin.facts(request);
    const target = compiled.routes[provider.name](facts.eventType);
    const archiveKey = `${ArchivePrefix.Raw}/${envelope.provider}/${envelope.requestId}.json`;
    const archiveBody = archiveLineOf(envelope, envelope.body, { eventId: facts.eventId, eventType: facts.eventType, target });
    if (target === LaneName.Drop) return { envelope, verdict, facts, archiveKey, archiveBody };
    const lane = config.lanes[target];
    const laneBody = JSON.stringify({
        v: LaneMessageVersion,
        provider: envelope.provider,
        lane: lane.id,
        requestId: envelope.requestId,
        eventId: facts.eventId,
        eventType: facts.eventType,
        orderingKey: facts.orderingKey,
        receivedAt: envelope.receivedAt,
        archiveKey,
        body: envelope.body.toString("utf8"),
    });
    const fifo = lane.ordering ? { groupId: messageGroupId(facts.orderingKey, envelope.provider), deduplicationId: deduplicationId(lane.id, facts.eventId) } : undefined;
    return { envelope, verdict, facts, lane, archiveKey, archiveBody, laneBody, fifo };
}

/** The seed-style router: one batch (10 records) in, a report out; failed record ids are returned like the real router's. */
export function createSeedRouter(deps: SeedRouterDeps): (records: readonly InboundRecord[]) => Promise<{ failures: string[]; report: SeedReport }> {
    const now = deps.now ?? Date.now;
    const compiled = compileSeed(deps.config);
    return async (records) => {
        const report: SeedReport = { received: records.length, accepted: 0, quarantined: 0, dropped: 0, sent: 0, failed: 0 };
        const failures: string[] = [];
        await Promise.all(
            records.map(async (record) => {
                try {
                    const envelope = decodeEnvelope(record.body, record.attributes);
                    const secrets = await deps.secrets(deps.config.providers[envelope.provider]?.secretId ?? "");
                    const d = decideSeed(deps.config, compiled, envelope, secrets, now());
                    await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.bucket, Key: d.archiveKey, Body: d.archiveBody, ContentType: "application/json" }));
                    if (!d.verdict.ok) {
                        report.quarantined += 1;
                        return;
                    }
                    report.accepted += 1;
                    if (!d.lane || !d.laneBody) {
                        report.dropped += 1;
                        return;
                    }
                    await deps.sqs.send(
                        new SendMessageCommand({ QueueUrl: d.lane.queueUrl, MessageBody: d.laneBody, ...(d.fifo ? { MessageGroupId: d.fifo.groupId, MessageDeduplicationId: d.fifo.deduplicationId } : {}) }),
                    );
                    report.sent += 1;
                } catch (err) {
                    failures.push(record.messageId);
                    report.firstError ??= `${(err as Error).name}: ${(err as Error).message}`;
                }
            }),
        );
        report.failed = failures.length;
        return { failures, report };
    };
}
