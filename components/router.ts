/**
 * The router: consumes the catch-all queue, verifies, archives, and routes
 * each webhook to its provider lane (an SQS queue or a Kafka topic).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { routerKafkaPublisher } from "../handlers/kafka/publisher";
import { ArchivePrefix, Limits } from "../model/constants";
import type { PipelineModel } from "../model/pipeline";
import type { LaneRuntime, RouterRuntimeConfig } from "../model/runtime-config";
import { createCallback, CreatedFunction } from "./functions";
import { Actions, allow, objectArns } from "./iam";
import type { KafkaResources } from "./kafka";
import type { KafkaLaneResources, LaneResources } from "./lanes";
import { childName } from "./naming";
import { keyed } from "./outputs";
import { FunctionPackages } from "./packages";
import type { QueuePair } from "./queues";
import { providerRuntime, routerFactory } from "./runtime";

export interface RouterDependencies {
    readonly catchAll: QueuePair;
    readonly lanes: readonly LaneResources[];
    readonly kafkaLanes: readonly KafkaLaneResources[];
    readonly secrets: Map<string, aws.secretsmanager.Secret>;
    readonly bucket: aws.s3.Bucket;
    /** The pipeline-internal key's secret (createInternalKey). */
    readonly internalKey: aws.secretsmanager.Secret;
    readonly kafka?: KafkaResources;
}

export function createRouter(name: string, model: PipelineModel, deps: RouterDependencies, parent: pulumi.Resource): CreatedFunction {
    const { catchAll, lanes, kafkaLanes, secrets, bucket, internalKey, kafka } = deps;
    const queueUrls = keyed(lanes.map((l) => [l.lane.id, l.queue.url]));
    const secretArns = keyed([...secrets].map(([p, s]) => [p, s.arn]));
    const kafkaRuntime = kafka ? kafka.runtime : pulumi.output(undefined);
    const routerConfig: pulumi.Output<RouterRuntimeConfig> = pulumi
        .all([bucket.bucket, queueUrls, secretArns, kafkaRuntime, internalKey.arn])
        .apply(([bucketName, queueUrls, secretArns, kafkaRuntime, sealSecretId]) => ({
            bucket: bucketName,
            sealSecretId,
            inlineBodyBytes: Limits.laneInlineBodyBytes,
            providers: Object.fromEntries(model.providers.map((p) => [p.name, providerRuntime(p, secretArns[p.name])])),
            lanes: Object.fromEntries([
                ...lanes.map(({ lane }): [string, LaneRuntime] => [lane.id, { id: lane.id, provider: lane.provider, kind: lane.kind, ordering: lane.ordering, queueUrl: queueUrls[lane.id] }]),
                // Kafka lanes: the topic and its partitions (= the lane's concurrency), created by the router before it publishes.
                ...kafkaLanes.map(({ lane }): [string, LaneRuntime] => [lane.id, { id: lane.id, provider: lane.provider, kind: lane.kind, ordering: lane.ordering, topic: lane.topic, partitions: lane.concurrency }]),
            ]),
            ...(kafkaRuntime ? { kafka: kafkaRuntime } : {}),
        }));
    // Only a pipeline with Kafka lanes captures the Kafka publisher (and so zips kafkajs).
    const makeKafka = kafka ? routerKafkaPublisher : undefined;
    return createCallback(
        childName(name, "router"),
        {
            description: "Webhook router: verify, archive, route to provider lanes",
            factory: routerFactory(routerConfig, makeKafka),
            statements: pulumi
                .all([catchAll.queue.arn, bucket.arn, pulumi.all(lanes.map((l) => l.queue.arn)), pulumi.all([...secrets.values()].map((s) => s.arn)), kafka ? kafka.routerStatements : [], internalKey.arn])
                .apply(([catchAllArn, bucketArn, laneArns, secretArns, kafkaStatements, internalKeyArn]) => [
                    allow(Actions.consumeQueue, catchAllArn, "ConsumeCatchAll"),
                    // A pipeline whose lanes are all Kafka lanes sends to no queue (an empty Resource is invalid IAM).
                    ...(laneArns.length ? [allow(Actions.sendQueue, laneArns, "SendToLanes")] : []),
                    allow(Actions.putObject, objectArns(bucketArn, ArchivePrefix.Raw, ArchivePrefix.Quarantine, ArchivePrefix.Claims), "WriteArchive"),
                    allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/ingress`), "ReadIngressClaimChecks"),
                    allow(Actions.readSecret, secretArns, "ReadSigningSecrets"),
                    allow(Actions.readSecret, internalKeyArn, "ReadInternalKey"),
                    ...kafkaStatements,
                ]),
            timeoutSeconds: model.router.timeoutSeconds,
            memorySize: model.router.memorySize,
            packages: kafka ? [...FunctionPackages.router, ...FunctionPackages.kafkaRouter] : FunctionPackages.router,
            vpc: kafka?.routerVpc,
            environment: { POWERTOOLS_SERVICE_NAME: "webhook-router", POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" },
        },
        parent,
        { queueArn: catchAll.queue.arn, batchSize: model.router.batchSize, batchWindowSeconds: model.router.batchWindowSeconds, maximumConcurrency: model.router.concurrency },
    );
}
