/**
 * The worker's logic, shared by both lane kinds: a lane message in, your
 * handler called at most once per provider event id (Powertools idempotency
 * on the DynamoDB table), with the exact request bytes whether they travelled
 * inline or by claim check. Throwing means "retry": the SQS adapter reports a
 * batch item failure, the Kafka runner retries and then dead-letters.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { s3Package } from "../shared/clients";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
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
 * the event alone: Powertools would otherwise prefix the Lambda function's
 * name, and a deploy that replaces the worker function (new physical name) or
 * a route that moves an event type to another lane would forget every key.
 */
export const IdempotencyKeyPrefix = "webhook-pipeline";

/** The idempotency key: provider and the provider's own event id (days of provider retries collapse onto it). */
export function idempotencyKey(message: Pick<LaneMessage, "provider" | "eventId" | "force">): string {
    return message.force ? `${message.provider}#${message.eventId}#force:${message.force}` : `${message.provider}#${message.eventId}`;
}

export function createLaneProcessor(deps: LaneProcessorDeps): (text: string, options?: ProcessOptions) => Promise<Outcome> {
    const logger = deps.logger ?? silentLogger;
    const secrets = deps.secrets ?? noHandlerSecrets;
    const env: Readonly<Record<string, string>> = Object.freeze({ ...deps.config.environment });
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName: deps.config.idempotencyTable, awsSdkV3Client: deps.dynamo });

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
        const run = makeIdempotent(
            async (input: { key: string; token: string }) => {
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
