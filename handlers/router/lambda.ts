/**
 * The router as a Lambda function on the catch-all queue's event source
 * (ReportBatchItemFailures). `makeRouterHandler` runs once per container
 * (Pulumi's callbackFactory): clients, the secret cache, compiled routes and
 * the Kafka producer are created there, never at module level, so nothing
 * unserializable is captured and nothing secret is frozen into the zip.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { RouterRuntimeConfig } from "../../model/runtime-config";
import { awsClients } from "../shared/clients";
import { publishCounts } from "../shared/metrics";
import { cachedSecretReader } from "../shared/secrets";
import type { KafkaPublisher } from "./lanes";
import { createRouter, RouterReport } from "./router";

export function publishRouterMetrics(metrics: Metrics, report: RouterReport): void {
    metrics.addMetric("Received", "Count", report.received);
    metrics.addMetric("Accepted", "Count", report.accepted);
    metrics.addMetric("RetriedRecords", "Count", report.failed);
    publishCounts(metrics, "Archived", "provider", report.archived);
    publishCounts(metrics, "Dropped", "provider", report.dropped);
    publishCounts(metrics, "Routed", "lane", report.routed);
    for (const [provider, reasons] of Object.entries(report.quarantined)) publishCounts(metrics, "Quarantined", "reason", reasons, { provider });
    metrics.publishStoredMetrics();
}

/**
 * @param getConfig returns the runtime config (on AWS an Output's `.get()`, read at cold start).
 * @param makeKafka optional: builds the Kafka publisher for pipelines with Kafka lanes.
 */
export function makeRouterHandler(getConfig: () => RouterRuntimeConfig, makeKafka?: () => KafkaPublisher) {
    const config = getConfig();
    const clients = awsClients();
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "webhook-router" });
    const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "WebhookPipeline", serviceName: "router" });
    const route = createRouter({ config, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets), kafka: makeKafka?.(), logger });
    return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
        logger.addContext(context);
        const { failures, report } = await route(event.Records.map((r) => ({ messageId: r.messageId, body: r.body, attributes: r.messageAttributes })));
        publishRouterMetrics(metrics, report);
        logger.debug("batch routed", { report });
        return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    };
}
