/**
 * The worker's logic, shared by both lane kinds: a lane message in, your
 * handler called at most once per lane and provider event id (Powertools
 * idempotency on the DynamoDB table), with the exact request bytes whether
 * they travelled inline or by claim check. Throwing means "retry": the SQS adapter reports a
 * batch item failure, the Kafka runner retries and then dead-letters.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { s3Package } from "../shared/clients";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, IdempotencyRecordStatus, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { randomUUID } from "crypto";
import { LaneMessage, parseLaneMessage, WebhookEvent } from "../../model/lane-message";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { HandlerSecrets, noHandlerSecrets } from "../shared/handler-secrets";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { recordLastError } from "./last-error";

export type Outcome = "processed" | "duplicate";

export interface LaneProcessorDeps {
    readonly config: WorkerRuntimeConfig;
    readonly handler: WebhookHandler;
    readonly s3: S3Client;
    readonly dynamo: DynamoDBClient;
    readonly logger?: HandlerLogger;
    /** The lane's handler secrets (context.secrets). @default none declared */
    readonly secrets?: HandlerSecrets;
}

export interface ProcessOptions {
    /** Delivery attempt, 1 on the first. */
    readonly attempt?: number;
    /** The invocation's context: an in-progress record expires with it, so a crash mid-handler is retried. */
    readonly lambdaContext?: Pick<Context, "getRemainingTimeInMillis">;
}

/**
 * Prefix of every idempotency record's key. Fixed, so that the key depends on
 * the event and its lane alone: Powertools would otherwise prefix the Lambda
 * function's name, and a deploy that replaces the worker function (new
 * physical name) would forget every key. (The lane is in the key itself, see
 * idempotencyKey: a route moved to another lane runs the event there once.)
 */
export const IdempotencyKeyPrefix = "webhook-pipeline";

/**
 * The idempotency key: provider, lane id and the provider's own event id (days of provider retries
 * collapse onto it), so each lane of a fan-out route runs its handler once: billing having processed
 * an event does not make it a duplicate for analytics. A `replay --force` run id suffixes it.
 */
export function idempotencyKey(message: Pick<LaneMessage, "provider" | "lane" | "eventId" | "force">): string {
    const key = `${message.provider}#${message.lane}#${message.eventId}`;
    return message.force ? `${key}#force:${message.force}` : key;
}

/**
 * The key releases before per-lane idempotency wrote (`provider#eventId`, one per provider, whichever
 * lane processed it). The worker still honours a COMPLETED record under it until the record expires
 * (the idempotency TTL), so an upgrade does not process again an event that a provider redelivers
 * after the deploy (legacyVerdict in createLaneProcessor).
 */
export function legacyIdempotencyKey(message: Pick<LaneMessage, "provider" | "eventId" | "force">): string {
    return message.force ? `${message.provider}#${message.eventId}#force:${message.force}` : `${message.provider}#${message.eventId}`;
}

/** The result a lane's new record keeps when a legacy record made the event a duplicate (never a random token). */
export const LegacyDuplicateToken = "legacy-key-completed";

export function createLaneProcessor(deps: LaneProcessorDeps): (text: string, options?: ProcessOptions) => Promise<Outcome> {
    const logger = deps.logger ?? silentLogger;
    const secrets = deps.secrets ?? noHandlerSecrets;
    const env: Readonly<Record<string, string>> = Object.freeze({ ...deps.config.environment });
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName: deps.config.idempotencyTable, awsSdkV3Client: deps.dynamo });
    // Reads records under the legacy key; a layer of its own, so Powertools' own hashing names the record.
    const legacyStore = new DynamoDBPersistenceLayer({ tableName: deps.config.idempotencyTable, awsSdkV3Client: deps.dynamo });

    /**
     * Awaited before the handler runs (this lane's record is then held INPROGRESS, so no other worker of the
     * lane runs it meanwhile): a legacy record (legacyIdempotencyKey) that is COMPLETED and not expired means a
     * release before per-lane keys processed the event: a duplicate. One still INPROGRESS and live means
     * an old worker runs it now: retry later (the error the runners treat as "someone else holds it").
     * No record, or an expired one: run the handler. Records are read with Powertools' own key hashing
     * (`<prefix>#<md5 of the key data>`), by GetItem (consistent read), never written.
     */
    async function legacyVerdict(config: IdempotencyConfig, message: LaneMessage, token: string): Promise<"run" | "duplicate"> {
        legacyStore.configure({ config, keyPrefix: IdempotencyKeyPrefix });
        let record;
        try {
            record = await legacyStore.getRecord({ key: legacyIdempotencyKey(message), token });
        } catch (err) {
            // Recognised by name: a class may not survive function serialization (Pulumi) as the same class.
            if ((err as Error).name === "IdempotencyItemNotFoundError") return "run";
            throw err;
        }
        const status = record.getStatus();
        if (status === IdempotencyRecordStatus.COMPLETED) return "duplicate";
        if (status === IdempotencyRecordStatus.INPROGRESS && (record.inProgressExpiryTimestamp ?? 0) > Date.now()) {
            throw new IdempotencyAlreadyInProgressError(`event ${message.eventId} is being processed under the pre-fan-out idempotency key by another worker; retry later`);
        }
        return "run";
    }

    async function bodyOf(message: LaneMessage): Promise<Buffer> {
        if (message.body !== undefined) return Buffer.from(message.body, "utf8");
        if (message.bodyBase64 !== undefined) return Buffer.from(message.bodyBase64, "base64");
        const out = await deps.s3.send(new (s3Package().GetObjectCommand)({ Bucket: message.claim!.bucket, Key: message.claim!.key }));
        return Buffer.from(await out.Body!.transformToByteArray());
    }

    return async function process(text, options = {}) {
        const message = parseLaneMessage(text);
        // One config per call: it carries this invocation's remaining time.
        const config = new IdempotencyConfig({ eventKeyJmesPath: "key", expiresAfterSeconds: deps.config.idempotencyTtlSeconds, throwOnNoIdempotencyKey: true });
        const remainingMs = () => options.lambdaContext?.getRemainingTimeInMillis() ?? 60_000;
        config.registerLambdaContext({ getRemainingTimeInMillis: remainingMs } as Context);
        const token = randomUUID();
        // Read beside the new record's PutItem, not after it: the handler starts no later than before the
        // upgrade path existed (a lane whose batch runs past its timeout must not gain time). A duplicate under
        // the new key never awaits it; the catch keeps its failure from being an unhandled rejection then.
        const legacy = legacyVerdict(config, message, token);
        legacy.catch(() => undefined);
        const run = makeIdempotent(
            async (input: { key: string; token: string }) => {
                if ((await legacy) === "duplicate") return { token: LegacyDuplicateToken };
                const event: WebhookEvent = {
                    provider: message.provider,
                    lane: message.lane,
                    requestId: message.requestId,
                    eventId: message.eventId,
                    eventType: message.eventType,
                    orderingKey: message.orderingKey,
                    receivedAt: message.receivedAt,
                    archiveKey: message.archiveKey,
                    replay: message.replay === true,
                    ...(message.force ? { force: message.force } : {}),
                    ...(message.contentType ? { contentType: message.contentType } : {}),
                    body: await bodyOf(message),
                };
                await deps.handler(event, { logger, attempt: options.attempt ?? 1, remainingMs, secrets, env });
                // `processedAt` is kept in the record's data: `ops trace` says when an event was processed.
                return { token: input.token, processedAt: Date.now() };
            },
            { persistenceStore, config, keyPrefix: IdempotencyKeyPrefix },
        );
        let result: { token: string };
        try {
            result = await run({ key: idempotencyKey(message), token });
        } catch (err) {
            // Where `ops dlq` and `ops trace` find why (last-error.ts); best effort, skipped when the invocation is nearly out of time.
            if (remainingMs() > 3_000) await recordLastError(deps.dynamo, message, err, options.attempt ?? 1, { table: deps.config.idempotencyTable });
            throw err;
        }
        // A completed record returns the first call's result without calling the handler.
        const outcome: Outcome = result.token === token ? "processed" : "duplicate";
        if (outcome === "duplicate") logger.info("duplicate webhook skipped", { provider: message.provider, eventId: message.eventId, lane: message.lane });
        return outcome;
    };
}
