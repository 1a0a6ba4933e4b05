/**
 * What both Lambda workers (SQS lanes: lambda.ts; Kafka lanes:
 * handlers/kafka/lambda.ts) set up once per container: the AWS clients, the
 * Powertools logger and metrics with the lane's dimensions, and the lane
 * processor. S3 is read only for claim-checked bodies, so a getter keeps
 * @aws-sdk/client-s3 unloaded until one arrives.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import type { WebhookHandler } from "../app/types";
import { awsClients } from "../shared/clients";
import { handlerSecrets } from "../shared/handler-secrets";
import { createLaneProcessor, Outcome } from "./worker";

export interface LambdaWorker {
    readonly config: WorkerRuntimeConfig;
    readonly logger: Logger;
    readonly process: ReturnType<typeof createLaneProcessor>;
    /** One invocation's outcomes as the Processed, Duplicates and HandlerFailures metrics. */
    publish(counts: Readonly<Record<Outcome | "failed", number>>): void;
}

export function lambdaWorker(getConfig: () => WorkerRuntimeConfig, handler: WebhookHandler): LambdaWorker {
    const config = getConfig();
    const clients = awsClients();
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? `webhook-worker-${config.lane}` });
    const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "WebhookPipeline", serviceName: "worker" });
    metrics.setDefaultDimensions({ lane: config.lane, provider: config.provider });
    const processor = createLaneProcessor({
        config,
        handler,
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
        publish(counts) {
            metrics.addMetric("Processed", "Count", counts.processed);
            metrics.addMetric("Duplicates", "Count", counts.duplicate);
            metrics.addMetric("HandlerFailures", "Count", counts.failed);
            metrics.publishStoredMetrics();
        },
    };
}
