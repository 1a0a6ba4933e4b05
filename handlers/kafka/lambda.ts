/**
 * The Kafka lane worker as a Lambda function on a Kafka event source mapping
 * (MSK or self-managed brokers). The event holds records by topic-partition
 * (`"<topic>-<partition>": [...]`), values base64-encoded. Each partition's
 * records run in offset order through the same lane processor as every other
 * worker (idempotency, claim checks); partitions run side by side.
 *
 * At the first failure in a partition the rest of that partition is not
 * attempted (order per key), and the response reports that record as the
 * partition's resume point (`ReportBatchItemFailures`; Kafka identifiers are
 * `{ partition: "<topic>-<n>", offset }`). Lambda retries from there,
 * `maximumRetryAttempts` times, then hands the records to the mapping's
 * on-failure destination (`<topic>.dlq`). Records that succeeded before the
 * failure may be delivered again; idempotency absorbs them.
 */
import type { Context, MSKEvent, MSKRecord, SelfManagedKafkaEvent } from "aws-lambda";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { lambdaWorker } from "../worker/lambda-worker";
import type { Outcome } from "../worker/worker";
import type { LaneProcess } from "./consumer";

export type KafkaEvent = MSKEvent | SelfManagedKafkaEvent;

export interface KafkaItemIdentifier {
    /** `<topic>-<partition>`, as the event's `records` key. */
    readonly partition: string;
    readonly offset: number;
}

export interface KafkaBatchResponse {
    readonly batchItemFailures: { readonly itemIdentifier: KafkaItemIdentifier }[];
}

export interface KafkaBatchCounts {
    processed: number;
    duplicate: number;
    failed: number;
    /** Records after a failure in their partition, left for the retry. */
    skipped: number;
}

/** A record's value as text (base64 in the event; a missing value becomes "" and fails as a malformed lane message). */
export function recordText(record: Pick<MSKRecord, "value">): string {
    return record.value ? Buffer.from(record.value, "base64").toString("utf8") : "";
}

/**
 * Process one Kafka event: partitions concurrently, each in offset order,
 * stopping a partition at its first failure. Never throws for a record's
 * failure: it is reported as that partition's resume point.
 */
export async function processKafkaEvent(
    event: KafkaEvent,
    process: LaneProcess,
    options: { lambdaContext?: Pick<Context, "getRemainingTimeInMillis">; logger?: HandlerLogger } = {},
): Promise<{ response: KafkaBatchResponse; counts: KafkaBatchCounts }> {
    const logger = options.logger ?? silentLogger;
    const counts: KafkaBatchCounts = { processed: 0, duplicate: 0, failed: 0, skipped: 0 };
    const failures: { itemIdentifier: KafkaItemIdentifier }[] = [];
    await Promise.all(
        Object.entries(event.records ?? {}).map(async ([partitionKey, records]) => {
            const ordered = [...records].sort((a, b) => a.offset - b.offset);
            for (let i = 0; i < ordered.length; i++) {
                const record = ordered[i];
                try {
                    const outcome: Outcome = await process(recordText(record), { attempt: 1, lambdaContext: options.lambdaContext });
                    counts[outcome] += 1;
                } catch (err) {
                    counts.failed += 1;
                    counts.skipped += ordered.length - i - 1;
                    failures.push({ itemIdentifier: { partition: partitionKey, offset: record.offset } });
                    logger.error("handler failed; the partition resumes from this record", { partition: partitionKey, offset: record.offset, error: err as Error });
                    return;
                }
            }
        }),
    );
    return { response: { batchItemFailures: failures }, counts };
}

/** The worker's callbackFactory body: clients and the processor are created once per container. */
export function makeKafkaWorkerHandler(getConfig: () => WorkerRuntimeConfig, handler: WebhookHandler) {
    const worker = lambdaWorker(getConfig, handler);
    const { logger, process: process_ } = worker;
    return async (event: KafkaEvent, context: Context): Promise<KafkaBatchResponse> => {
        logger.addContext(context);
        const { response, counts } = await processKafkaEvent(event, process_, { lambdaContext: context, logger });
        // A rate-limited destination: hold this invocation's slot until its pace has passed (handlers/destination/pace.ts).
        await worker.pacer.release();
        worker.publish(counts);
        return response;
    };
}
