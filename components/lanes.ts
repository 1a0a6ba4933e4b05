/**
 * Lanes and their workers. An SQS lane is a queue pair and a worker with an
 * SQS event source mapping; a Kafka lane has no queue: its topic lives in the
 * cluster (components/kafka.ts) and its worker has a Kafka event source mapping.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WebhookHandler } from "../handlers/app/types";
import { ArchivePrefix } from "../model/constants";
import type { LaneModel, PipelineModel } from "../model/pipeline";
import { createCallback, CreatedFunction } from "./functions";
import { Actions, allow, objectArns } from "./iam";
import type { KafkaResources } from "./kafka";
import { childName } from "./naming";
import { FunctionPackages } from "./packages";
import { createQueuePair, QueuePair } from "./queues";
import { kafkaWorkerFactory, workerConfigOf, workerFactory } from "./runtime";

export interface LaneResources extends QueuePair {
    readonly lane: LaneModel;
    readonly worker: CreatedFunction;
}

/** A Kafka lane: its topic lives in the cluster; the worker has a Kafka event source mapping. */
export interface KafkaLaneResources {
    readonly lane: LaneModel;
    readonly worker: CreatedFunction;
}

/** What every lane's worker needs besides its lane. */
export interface LaneDependencies {
    readonly bucket: aws.s3.Bucket;
    readonly table: aws.dynamodb.Table;
    readonly handlers: Readonly<Record<string, WebhookHandler>>;
}

/** Every SQS lane of the model, in model order. */
export function createSqsLanes(name: string, model: PipelineModel, deps: LaneDependencies, parent: pulumi.Resource): LaneResources[] {
    return model.lanes.filter((l) => l.kind === "sqs").map((lane) => createLane(name, lane, deps.bucket, deps.table, deps.handlers[lane.handler], model, parent));
}

/** Every Kafka lane of the model, in model order; none without Kafka resources. */
export function createKafkaLanes(name: string, model: PipelineModel, deps: LaneDependencies, kafka: KafkaResources | undefined, parent: pulumi.Resource): KafkaLaneResources[] {
    return kafka ? model.lanes.filter((l) => l.kind === "kafka").map((lane) => createKafkaLane(name, lane, deps.bucket, deps.table, deps.handlers[lane.handler], model, kafka, parent)) : [];
}

function createLane(name: string, lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, handler: WebhookHandler, model: PipelineModel, parent: pulumi.Resource): LaneResources {
    const base = childName(name, lane.id);
    const pair = createQueuePair(base, { fifo: lane.ordering, visibilityTimeoutSeconds: lane.visibilityTimeoutSeconds, maxReceiveCount: lane.maxReceiveCount }, parent);
    const workerConfig = workerConfigOf(lane, bucket, table, model);
    const worker = createCallback(
        childName(base, "worker"),
        {
            description: `Webhook worker for lane ${lane.id} (handler ${lane.handler})`,
            factory: workerFactory(workerConfig, handler),
            statements: pulumi.all([pair.queue.arn, bucket.arn, table.arn]).apply(([queueArn, bucketArn, tableArn]) => [
                allow(Actions.consumeQueue, queueArn, "ConsumeLane"),
                allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                allow(Actions.idempotency, tableArn, "Idempotency"),
            ]),
            timeoutSeconds: lane.timeoutSeconds,
            packages: FunctionPackages.worker,
            environment: { POWERTOOLS_SERVICE_NAME: `webhook-worker-${lane.id}`, POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" },
        },
        parent,
        { queueArn: pair.queue.arn, batchSize: lane.batchSize, batchWindowSeconds: lane.batchWindowSeconds || undefined, maximumConcurrency: lane.concurrency },
    );
    return { ...pair, lane, worker };
}

/** A Kafka lane: no queue; the worker consumes the lane's topic through a Kafka event source mapping. */
function createKafkaLane(name: string, lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, handler: WebhookHandler, model: PipelineModel, kafka: KafkaResources, parent: pulumi.Resource): KafkaLaneResources {
    const base = childName(name, lane.id);
    const workerConfig = workerConfigOf(lane, bucket, table, model);
    const worker = createCallback(
        childName(base, "worker"),
        {
            description: `Webhook worker for Kafka lane ${lane.id} (topic ${lane.topic}, handler ${lane.handler})`,
            factory: kafkaWorkerFactory(workerConfig, handler),
            statements: pulumi.all([bucket.arn, table.arn, kafka.workerStatements(lane)]).apply(([bucketArn, tableArn, kafkaStatements]) => [
                allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                allow(Actions.idempotency, tableArn, "Idempotency"),
                ...kafkaStatements,
            ]),
            timeoutSeconds: lane.timeoutSeconds,
            packages: FunctionPackages.kafkaWorker,
            environment: { POWERTOOLS_SERVICE_NAME: `webhook-worker-${lane.id}`, POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" },
        },
        parent,
        { kind: "kafka", mapping: kafka.mapping(name, lane) },
    );
    return { lane, worker };
}
