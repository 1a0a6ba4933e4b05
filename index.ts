/**
 * The Pulumi program: one WebhookPipeline from this stack's config.
 * `pulumi preview` fails before any resource is registered when the config is
 * invalid, with one message listing every problem by path.
 */
import { WebhookPipeline } from "./components";
import { loadStackConfig } from "./components/stack-config";

const pipeline = new WebhookPipeline("webhooks", loadStackConfig());

export const url = pipeline.url;
export const apiEndpointUrl = pipeline.apiEndpointUrl;
export const webhookUrls = pipeline.webhookUrls;
export const queueUrls = pipeline.queueUrls;
export const dlqUrls = pipeline.dlqUrls;
export const bucketName = pipeline.bucketName;
export const idempotencyTable = pipeline.tableName;
export const internalKeySecretArn = pipeline.internalKeySecretArn;
export const kafkaTopics = pipeline.kafkaTopics;
export const kafkaBootstrapBrokers = pipeline.kafkaBootstrapBrokers;
export const eventSourceMappings = pipeline.eventSourceMappings;
export const lanePaused = pipeline.lanePaused;
