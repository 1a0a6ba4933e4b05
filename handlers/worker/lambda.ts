/**
 * The worker as a Lambda function on a lane queue's event source
 * (ReportBatchItemFailures, maximumConcurrency = the lane's concurrency).
 * Powertools batch processing reports exactly the records that failed; on a
 * FIFO lane the processor stops at the first failure and fails the rest of
 * that message group, so order within an ordering key holds across retries.
 */
import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { lambdaWorker } from "./lambda-worker";
import { RecordOutcome, sqsRecordHandler } from "./sqs-record";

export function makeWorkerHandler(getConfig: () => WorkerRuntimeConfig, handler: WebhookHandler) {
    const worker = lambdaWorker(getConfig, handler);
    const { config, logger } = worker;
    const handleRecord = sqsRecordHandler({ config, sqs: () => worker.clients.sqs, process: worker.process, logger });
    return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
        logger.addContext(context);
        const counts: Record<RecordOutcome | "failed", number> = { processed: 0, duplicate: 0, "dead-lettered": 0, failed: 0 };
        const processor = config.ordering ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);
        const recordHandler = async (record: SQSRecord) => {
            try {
                counts[await handleRecord(record, context)] += 1;
            } catch (err) {
                counts.failed += 1;
                logger.error("handler failed; the message will be retried", { messageId: record.messageId, error: err as Error });
                throw err;
            }
        };
        // Every record failing is a normal outcome here (retry, then DLQ), not an invocation error. One record at a time:
        // the lane's concurrency bounds handler calls (your database's connections), not batches of them.
        const response = await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false, ...(config.ordering ? {} : { processInParallel: false }) });
        // A rate-limited destination: the next invocation on this concurrency slot may run elsewhere (see pace.ts).
        await worker.pacer.release();
        worker.publish(counts);
        return response;
    };
}
