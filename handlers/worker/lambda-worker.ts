/**
 * What both Lambda workers (SQS lanes: lambda.ts; Kafka lanes:
 * handlers/kafka/lambda.ts) set up once per container: the AWS clients, the
 * Powertools logger and metrics with the lane's dimensions, and the lane
 * processor. S3 is read only for claim-checked bodies, so a getter keeps
 * @aws-sdk/client-s3 unloaded until one arrives.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { WorkerMetrics, workerMetricDimensions } from "../../model/metrics";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { laneHandler } from "../destination";
import type { Pacer } from "../destination/pace";
import { awsClients, AwsClients } from "../shared/clients";
import { publishCounts } from "../shared/metrics";
import { cachedSecretReader } from "../shared/secrets";
import { handlerSecrets } from "../shared/handler-secrets";
import { createLaneProcessor, Outcome } from "./worker";

export interface LambdaWorker {
    readonly config: WorkerRuntimeConfig;
    readonly logger: Logger;
    readonly process: ReturnType<typeof createLaneProcessor>;
    readonly clients: AwsClients;
    /** A destination lane's rate-limit pacer: released before an invocation returns. */
    readonly pacer: Pacer;
    /** One invocation's outcomes as the Processed, Duplicates and HandlerFailures metrics. */
    publish(counts: Readonly<Record<Outcome | "failed", number> & { "dead-lettered"?: number }>): void;
}

export function lambdaWorker(getConfig: () => WorkerRuntimeConfig, handler: WebhookHandler): LambdaWorker {
    const config = getConfig();
    const clients = awsClients();
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? `webhook-worker-${config.lane}` });
    // Namespace and dimensions exactly as the alarms name them (model/metrics.ts): no environment override.
    const { service, ...dimensions } = workerMetricDimensions(config);
    const metrics = new Metrics({ namespace: WorkerMetrics.namespace, serviceName: service });
    metrics.setDefaultDimensions(dimensions);
    // A destination lane delivers to its HTTP service instead of calling the handler module.
    const deliveries: Record<string, number> = {};
    const lane = laneHandler(config, handler, { secrets: () => cachedSecretReader(clients.secrets), onAttempt: (r) => (deliveries[r.outcome] = (deliveries[r.outcome] ?? 0) + 1) });
    const processor = createLaneProcessor({
        config,
        handler: lane.handler,
        get s3() {
            return clients.s3;
        },
        dynamo: clients.dynamo,
        logger,
        secrets: handlerSecrets(config.secrets ?? {}, () => clients.secrets, config.secretMaxAgeSeconds),
    });
    return {
        config,
        logger,
        process: processor,
        clients,
        pacer: lane.pacer,
        publish(counts) {
            metrics.addMetric(WorkerMetrics.names.processed, "Count", counts.processed);
            metrics.addMetric(WorkerMetrics.names.duplicates, "Count", counts.duplicate);
            metrics.addMetric(WorkerMetrics.names.handlerFailures, "Count", counts.failed);
            if (counts["dead-lettered"]) metrics.addMetric(WorkerMetrics.names.deadLettered, "Count", counts["dead-lettered"]);
            // Destination lanes: attempts by outcome (delivered, retryable, permanent).
            publishCounts(metrics, WorkerMetrics.names.deliveries, "outcome", deliveries);
            for (const k of Object.keys(deliveries)) delete deliveries[k];
            metrics.publishStoredMetrics();
        },
    };
}
