/**
 * The CloudWatch metrics that alarms watch, named once. The workers publish
 * with exactly these (handlers/worker/lambda-worker.ts, Powertools EMF) and
 * the Pulumi backend alarms on exactly these: a CloudWatch alarm matches a
 * metric only by namespace, name and its complete set of dimensions
 * ("Each unique combination of dimensions is a separate metric", Amazon
 * CloudWatch User Guide, "Metrics concepts: Dimensions"), so a dimension
 * added on one side and not the other makes an alarm that never fires.
 */

/** Metrics every Lambda worker (SQS and Kafka lanes) publishes once per invocation. */
export const WorkerMetrics = {
    namespace: "WebhookPipeline",
    /** Powertools' `service` dimension (the Metrics `serviceName`). */
    service: "worker",
    names: {
        /** Records your handler completed. */
        processed: "Processed",
        /** Records skipped by idempotency (already completed). */
        duplicates: "Duplicates",
        /** Records that failed (handler threw, bad lane message, claim check or DynamoDB error): each one is retried, then dead-lettered. */
        handlerFailures: "HandlerFailures",
        /** Records a destination refused for good (4xx other than 408/429, 3xx), sent straight to the lane DLQ. */
        deadLettered: "DeadLettered",
        /** Destination attempts, with dimension `outcome` (delivered, retryable, permanent). */
        deliveries: "Deliveries",
    },
} as const;

/** A worker's lane, as its metrics name it. */
export interface WorkerMetricLane {
    /** Lane id (`<provider>-<lane>`). */
    readonly lane: string;
    readonly provider: string;
}

/** The complete dimension set of every worker metric: the worker publishes these and nothing else, the alarms name all of them. */
export function workerMetricDimensions(lane: WorkerMetricLane): { service: string; lane: string; provider: string } {
    return { service: WorkerMetrics.service, lane: lane.lane, provider: lane.provider };
}

/**
 * What Lambda itself publishes for an event source mapping once its metrics
 * config enables the groups below (AWS Lambda Developer Guide, "Types of
 * metrics for Lambda functions", section "Event source mapping metrics":
 * `OnFailureDestinationDeliveredEventCount` (EventCount group) and
 * `OnFailureDestinationDeliveryErrorCount` (ErrorCount group) exist for
 * Amazon MSK and self-managed Apache Kafka; dimension `EventSourceMappingUUID`,
 * "Viewing metrics for Lambda functions"). A Kafka worker cannot count its
 * dead letters itself: the Kafka event carries no attempt number, and the
 * mapping, not the function, writes exhausted records to `<topic>.dlq`.
 */
export const EventSourceMappingMetrics = {
    namespace: "AWS/Lambda",
    /** The metric groups the Kafka lanes' mappings enable (`metricsConfig.metrics`). */
    groups: ["EventCount", "ErrorCount"],
    names: {
        /** Records the mapping wrote to its on-failure destination (`<topic>.dlq`) after the last retry. */
        deadLettered: "OnFailureDestinationDeliveredEventCount",
        /** Failed writes to the on-failure destination: those records are dropped. */
        deadLetterErrors: "OnFailureDestinationDeliveryErrorCount",
    },
    dimension: "EventSourceMappingUUID",
} as const;
