/**
 * The router as a Lambda function on the catch-all queue's event source
 * (ReportBatchItemFailures). `makeRouterHandler` runs once per container
 * (Pulumi's callbackFactory): clients, the secret cache, compiled routes and
 * the Kafka producer are created there, never at module level, so nothing
 * unserializable is captured and nothing secret is frozen into the zip.
 *
 * Kafka: the component passes `routerKafkaPublisher` (handlers/kafka/publisher.ts)
 * only when the pipeline has Kafka lanes, so kafkajs is required by (and zipped
 * into) the router only then. The publisher connects on the first batch with
 * Kafka-lane messages and creates the lanes' topics first.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { RouterRuntimeConfig } from "../../model/runtime-config";
import { awsClients } from "../shared/clients";
import { publishCounts } from "../shared/metrics";
import { cachedSecretReader } from "../shared/secrets";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { HandlerLogger } from "../shared/logger";
import type { KafkaPublisher } from "./lanes";
import { createRouter, RouterReport } from "./router";

/** Builds the router's Kafka publisher once per container. */
export type KafkaPublisherFactory = (config: RouterRuntimeConfig, deps: { secrets: SecretsManagerClient; logger: HandlerLogger }) => KafkaPublisher;

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
 * @param makeKafka optional: builds the Kafka publisher for pipelines with Kafka lanes, from the
 *   runtime config (brokers, SASL, topics) with the container's Secrets Manager client (SCRAM
 *   credentials, MSK IAM signing credentials) and logger.
 */
export function makeRouterHandler(getConfig: () => RouterRuntimeConfig, makeKafka?: KafkaPublisherFactory) {
    const config = getConfig();
    const clients = awsClients();
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "webhook-router" });
    const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "WebhookPipeline", serviceName: "router" });
    const route = createRouter({ config, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets), kafka: makeKafka?.(config, { secrets: clients.secrets, logger }), logger });
    return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
        logger.addContext(context);
        // SentTimestamp: the record's system attribute, epoch ms, set by SQS on enqueue (the example event in
        // "Using Lambda with Amazon SQS", AWS Lambda Developer Guide); the tolerance of unsealed requests runs from it.
        const { failures, report } = await route(event.Records.map((r) => ({ messageId: r.messageId, body: r.body, attributes: r.messageAttributes, sentTimestamp: Number(r.attributes.SentTimestamp) })));
        publishRouterMetrics(metrics, report);
        logger.debug("batch routed", { report });
        return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    };
}
