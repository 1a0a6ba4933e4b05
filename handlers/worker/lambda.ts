/**
 * The worker as a Lambda function on a lane queue's event source
 * (ReportBatchItemFailures, maximumConcurrency = the lane's concurrency).
 * Powertools batch processing reports exactly the records that failed; on a
 * FIFO lane the processor stops at the first failure and fails the rest of
 * that message group, so order within an ordering key holds across retries.
 */
import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { awsClients } from "../shared/clients";
import { lambdaLaneProcessor, Outcome } from "./worker";

export function makeWorkerHandler(getConfig: () => WorkerRuntimeConfig, handler: WebhookHandler) {
    const config = getConfig();
    const clients = awsClients();
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? `webhook-worker-${config.lane}` });
    const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "WebhookPipeline", serviceName: "worker" });
    metrics.setDefaultDimensions({ lane: config.lane, provider: config.provider });
    const process_ = lambdaLaneProcessor(config, handler, clients, logger);
    return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
        logger.addContext(context);
        const counts: Record<Outcome | "failed", number> = { processed: 0, duplicate: 0, failed: 0 };
        const processor = config.ordering ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);
        const recordHandler = async (record: SQSRecord) => {
            try {
                counts[await process_(record.body, { attempt: Number(record.attributes.ApproximateReceiveCount) || 1, lambdaContext: context })] += 1;
            } catch (err) {
                counts.failed += 1;
                logger.error("handler failed; the message will be retried", { messageId: record.messageId, error: err as Error });
                throw err;
            }
        };
        // Every record failing is a normal outcome here (retry, then DLQ), not an invocation error. One record at a time:
        // the lane's concurrency bounds handler calls (your database's connections), not batches of them.
        const response = await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false, ...(config.ordering ? {} : { processInParallel: false }) });
        metrics.addMetric("Processed", "Count", counts.processed);
        metrics.addMetric("Duplicates", "Count", counts.duplicate);
        metrics.addMetric("HandlerFailures", "Count", counts.failed);
        metrics.publishStoredMetrics();
        return response;
    };
}
