/**
 * WebhookPipeline: API Gateway -> catch-all queue -> router -> per-provider
 * lanes -> workers, generated from provider definitions.
 *
 * The constructor is a short script of named steps. Everything is validated
 * (all problems at once) before the first child is registered; the pipeline
 * model (model/pipeline.ts) decides what exists, the steps only map it onto
 * AWS resources, one concern per file: archive.ts, idempotency.ts, queues.ts,
 * secrets.ts, kafka.ts (Kafka lanes' cluster or brokers), lanes.ts, router.ts,
 * api.ts, monitoring.ts. What each function runs is in runtime.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { handlers as builtinHandlers } from "../handlers/app";
import type { WebhookHandler } from "../handlers/app/types";
import { ConfigError, PipelineConfig, ProviderConfig, validateConfig } from "../model/config";
import { buildPipelineModel, PipelineModel } from "../model/pipeline";
import { createApi } from "./api";
import { createArchiveBucket } from "./archive";
import { createIdempotencyTable } from "./idempotency";
import { createKafkaResources, kafkaDeploymentProblems } from "./kafka";
import { createKafkaLanes, createSqsLanes } from "./lanes";
import { createAlarms, createDashboard } from "./monitoring";
import { childName, pipelineNameProblems } from "./naming";
import { keyed } from "./outputs";
import { createQueuePair, urlsByLane } from "./queues";
import { createRouter } from "./router";
import { createDestinationSecrets, createInternalKey, createSecrets, warnAboutSecrets } from "./secrets";
import { createWorkerEndpoints } from "./worker-network";

export { FunctionPackages } from "./packages";

/** A provider as declared in stack config (`webhook-pipeline:providers[i]`); see the README's config reference. */
export type ProviderDefinition = ProviderConfig;

export interface WebhookPipelineArgs extends PipelineConfig {
    /**
     * Handler modules by name (`handler:` in provider and lane config picks one).
     * Defaults to the modules registered in handlers/app/index.ts.
     */
    readonly handlers?: Readonly<Record<string, WebhookHandler>>;
}

export class WebhookPipeline extends pulumi.ComponentResource {
    /** The pipeline model the resources were built from. */
    public readonly model: PipelineModel;
    /** Base URL of the HTTP API, e.g. `https://abc.execute-api.us-east-1.amazonaws.com`. */
    public readonly url: pulumi.Output<string>;
    /** The API's generated execute-api URL (differs from `url` when api.domain is set; both work). */
    public readonly apiEndpointUrl: pulumi.Output<string>;
    /** Provider name -> the URL to give the provider. */
    public readonly webhookUrls: pulumi.Output<Record<string, string>>;
    /** Lane id -> queue URL (`catch-all` included). */
    public readonly queueUrls: pulumi.Output<Record<string, string>>;
    /** Lane id -> DLQ URL (`catch-all` included). */
    public readonly dlqUrls: pulumi.Output<Record<string, string>>;
    public readonly bucketName: pulumi.Output<string>;
    public readonly tableName: pulumi.Output<string>;
    /**
     * The pipeline-internal key's secret (model/seal.ts): seals the envelopes of the pipeline's own writers
     * (ingress functions, `ops replay`, `ops redrive --catch-all`). Readable by the router, the ingress
     * functions and operators only; `npm run ops` needs it in the stack outputs.
     */
    public readonly internalKeySecretArn: pulumi.Output<string>;
    /** Every function the component created, by role (`router`, `ingress-<provider>`, `worker-<lane>`). */
    public readonly functions: Readonly<Record<string, aws.lambda.Function>>;
    /** Kafka lane id -> topic (its dead-letter topic is `<topic>.dlq`); empty without Kafka lanes. */
    public readonly kafkaTopics: pulumi.Output<Record<string, string>>;
    /**
     * Lane id -> the UUID of its worker's event source mapping (SQS and Kafka lanes): what `npm run ops -- pause|resume
     * --aws` enables and disables (Lambda UpdateEventSourceMapping).
     */
    public readonly eventSourceMappings: pulumi.Output<Record<string, string>>;
    /** Lane id -> its `paused` as configured: what the next `pulumi up --refresh` sets each mapping back to. */
    public readonly lanePaused: pulumi.Output<Record<string, boolean>>;
    /** Bootstrap brokers of the Kafka lanes (for your own consumers and `npm run kafka:replay`); undefined without Kafka lanes. */
    public readonly kafkaBootstrapBrokers?: pulumi.Output<string>;

    constructor(name: string, args: WebhookPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webhook-pipeline:index:WebhookPipeline", name, {}, opts);
        const { handlers = builtinHandlers, ...config } = args;

        const result = validateConfig(config, { handlers: Object.keys(handlers) });
        const nameProblems = pipelineNameProblems(name);
        if (!result.ok || nameProblems.length) throw new pulumi.ResourceError(new ConfigError([...nameProblems, ...(result.ok ? [] : result.problems)]).message, this);
        const model = buildPipelineModel(result.config, name);
        this.model = model;
        const kafkaProblems = kafkaDeploymentProblems(model);
        if (kafkaProblems.length) throw new pulumi.ResourceError(new ConfigError(kafkaProblems).message, this);
        // The model says which backend can reach a destination: plain http to loopback is for npm start only.
        const unreachable = model.lanes.filter((l) => l.destination && !l.destination.backends.includes("aws"));
        if (unreachable.length) {
            throw new pulumi.ResourceError(new ConfigError(unreachable.map((l) => `lane ${l.id}: destination.url "${l.destination!.url}" is plain http to a loopback address, which only npm start can reach (deploy with an https URL)`)).message, this);
        }
        warnAboutSecrets(result.config, this);

        const bucket = createArchiveBucket(name, model, this);
        const table = createIdempotencyTable(name, model, this);
        const catchAll = createQueuePair(childName(name, "catch-all"), { fifo: false, visibilityTimeoutSeconds: model.router.visibilityTimeoutSeconds, maxReceiveCount: model.router.maxReceiveCount }, this);
        const secrets = createSecrets(name, result.config, this);
        const internalKey = createInternalKey(name, this);
        const kafka = model.usesKafka ? createKafkaResources(name, model, result.config.kafka, this) : undefined;
        const destinationSecrets = createDestinationSecrets(name, result.config, model, this);
        const lanes = createSqsLanes(name, model, { bucket, table, handlers, destinationSecrets, config: result.config }, this);
        const kafkaLanes = createKafkaLanes(name, model, { bucket, table, handlers, destinationSecrets, config: result.config }, kafka, this);
        createWorkerEndpoints(name, model, this);
        const router = createRouter(name, model, { catchAll, lanes, kafkaLanes, secrets, bucket, internalKey, kafka }, this);
        const api = createApi(name, model, { catchAll, secrets, bucket, internalKey }, this);
        createAlarms(name, model, { catchAll, lanes, kafkaLanes, router }, result.config.alarmTopicArn, this);
        createDashboard(name, { catchAll, lanes, kafkaLanes }, this);

        this.url = api.url;
        this.apiEndpointUrl = api.endpointUrl;
        this.webhookUrls = api.url.apply((base) => Object.fromEntries(model.providers.map((p) => [p.name, `${base}${p.path}`])));
        this.queueUrls = urlsByLane(catchAll.queue, lanes.map((l) => [l.lane.id, l.queue]));
        this.dlqUrls = urlsByLane(catchAll.dlq, lanes.map((l) => [l.lane.id, l.dlq]));
        this.bucketName = bucket.bucket;
        this.tableName = table.name;
        this.internalKeySecretArn = internalKey.arn;
        this.functions = {
            router: router.fn,
            ...Object.fromEntries(api.ingress.map(([p, f]) => [`ingress-${p}`, f.fn])),
            ...Object.fromEntries(lanes.map((l) => [`worker-${l.lane.id}`, l.worker.fn])),
            ...Object.fromEntries(kafkaLanes.map((l) => [`worker-${l.lane.id}`, l.worker.fn])),
        };
        this.kafkaTopics = pulumi.output(Object.fromEntries(kafkaLanes.map((l) => [l.lane.id, l.lane.topic!])));
        this.kafkaBootstrapBrokers = kafka?.bootstrapBrokers;
        this.eventSourceMappings = keyed([...lanes, ...kafkaLanes].map((l): [string, pulumi.Output<string>] => [l.lane.id, l.worker.mapping!.uuid]));
        this.lanePaused = pulumi.output(Object.fromEntries(model.lanes.map((l) => [l.id, l.paused])));
        this.registerOutputs({
            url: this.url,
            apiEndpointUrl: this.apiEndpointUrl,
            webhookUrls: this.webhookUrls,
            queueUrls: this.queueUrls,
            dlqUrls: this.dlqUrls,
            bucketName: this.bucketName,
            tableName: this.tableName,
            internalKeySecretArn: this.internalKeySecretArn,
            kafkaTopics: this.kafkaTopics,
            kafkaBootstrapBrokers: this.kafkaBootstrapBrokers,
            eventSourceMappings: this.eventSourceMappings,
            lanePaused: this.lanePaused,
        });
    }
}
