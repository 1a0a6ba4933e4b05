/**
 * Lanes and their workers. An SQS lane is a queue pair and a worker with an
 * SQS event source mapping; a Kafka lane has no queue: its topic lives in the
 * cluster (components/kafka.ts) and its worker has a Kafka event source mapping.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WebhookHandler } from "../handlers/app/types";
import { ArchivePrefix } from "../model/constants";
import type { PipelineConfig } from "../model/config";
import { handlerSecretValuesOf, LaneModel, PipelineModel } from "../model/pipeline";
import { pipelineWorkerEnvironment } from "../model/worker-settings";
import { createCallback, CreatedFunction } from "./functions";
import { Actions, allow, objectArns, Statement } from "./iam";
import { KafkaActions, KafkaResources, NetworkInterfacesSid } from "./kafka";
import { childName } from "./naming";
import { FunctionPackages } from "./packages";
import { createQueuePair, QueuePair } from "./queues";
import type { DestinationSecrets } from "./secrets";
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
    /** Lane id -> its destination's secrets (destination lanes only). */
    readonly destinationSecrets?: Readonly<Record<string, DestinationSecrets>>;
    /** The validated config: where handler secret values are read from (never the model). */
    readonly config: PipelineConfig;
}

/** The ARNs of a lane's destination secrets, for its worker's config and its exact GetSecretValue grant. */
function destinationSecretArns(secrets: DestinationSecrets | undefined): pulumi.Output<string[]> {
    return pulumi.all([secrets?.signing?.arn, secrets?.auth?.arn]).apply((arns) => arns.filter((a): a is string => Boolean(a)));
}

/** Every SQS lane of the model, in model order. */
export function createSqsLanes(name: string, model: PipelineModel, deps: LaneDependencies, parent: pulumi.Resource): LaneResources[] {
    return model.lanes.filter((l) => l.kind === "sqs").map((lane) => createLane(name, lane, deps, model, parent));
}

/** Every Kafka lane of the model, in model order; none without Kafka resources. */
export function createKafkaLanes(name: string, model: PipelineModel, deps: LaneDependencies, kafka: KafkaResources | undefined, parent: pulumi.Resource): KafkaLaneResources[] {
    return kafka ? model.lanes.filter((l) => l.kind === "kafka").map((lane) => createKafkaLane(name, lane, deps, model, kafka, parent)) : [];
}

/** What a lane ends in, for descriptions. */
const endsIn = (lane: LaneModel) => (lane.destination ? `destination ${lane.destination.method} ${lane.destination.url}` : `handler ${lane.handler}`);

function createLane(name: string, lane: LaneModel, deps: LaneDependencies, model: PipelineModel, parent: pulumi.Resource): LaneResources {
    const { bucket, table } = deps;
    const secrets = deps.destinationSecrets?.[lane.id];
    const base = childName(name, lane.id);
    const pair = createQueuePair(base, { fifo: lane.ordering, visibilityTimeoutSeconds: lane.visibilityTimeoutSeconds, maxReceiveCount: lane.maxReceiveCount, retentionSeconds: lane.retentionSeconds }, parent);
    const settings = workerSettings(base, lane, deps.config, parent);
    const workerConfig = workerConfigOf(lane, bucket, table, model, { queue: pair.queue, dlq: pair.dlq, signingSecretArn: secrets?.signing?.arn, authSecretArn: secrets?.auth?.arn, handlerSecrets: settings.secretIds });
    const worker = createCallback(
        childName(base, "worker"),
        {
            description: `Webhook worker for lane ${lane.id} (${endsIn(lane)})`,
            factory: workerFactory(workerConfig, deps.handlers[lane.handler]),
            statements: pulumi.all([pair.queue.arn, pair.dlq.arn, bucket.arn, table.arn, destinationSecretArns(secrets), settings.statements]).apply(([queueArn, dlqArn, bucketArn, tableArn, secretArns, extra]) => [
                allow(Actions.consumeQueue, queueArn, "ConsumeLane"),
                allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                allow(Actions.idempotency, tableArn, "Idempotency"),
                // A destination's permanent failure (4xx) goes to the lane's DLQ at once (handlers/worker/sqs-record.ts).
                ...(lane.destination ? [allow(Actions.sendQueue, dlqArn, "DeadLetterRefused")] : []),
                ...(secretArns.length ? [allow(Actions.readSecret, secretArns, "ReadDestinationSecrets")] : []),
                ...extra,
            ]),
            timeoutSeconds: lane.timeoutSeconds,
            packages: FunctionPackages.worker,
            ...settings.function,
        },
        parent,
        { queueArn: pair.queue.arn, batchSize: lane.batchSize, batchWindowSeconds: lane.batchWindowSeconds || undefined, maximumConcurrency: lane.concurrency, enabled: !lane.paused },
    );
    return { ...pair, lane, worker };
}

/** A Kafka lane: no queue; the worker consumes the lane's topic through a Kafka event source mapping. */
function createKafkaLane(name: string, lane: LaneModel, deps: LaneDependencies, model: PipelineModel, kafka: KafkaResources, parent: pulumi.Resource): KafkaLaneResources {
    const { bucket, table } = deps;
    const secrets = deps.destinationSecrets?.[lane.id];
    const base = childName(name, lane.id);
    const settings = workerSettings(base, lane, deps.config, parent);
    const workerConfig = workerConfigOf(lane, bucket, table, model, { signingSecretArn: secrets?.signing?.arn, authSecretArn: secrets?.auth?.arn, handlerSecrets: settings.secretIds });
    const worker = createCallback(
        childName(base, "worker"),
        {
            description: `Webhook worker for Kafka lane ${lane.id} (topic ${lane.topic}, ${endsIn(lane)})`,
            factory: kafkaWorkerFactory(workerConfig, deps.handlers[lane.handler]),
            statements: pulumi.all([bucket.arn, table.arn, kafka.workerStatements(lane), destinationSecretArns(secrets), settings.statements]).apply(([bucketArn, tableArn, kafkaStatements, secretArns, extra]) => [
                allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                allow(Actions.idempotency, tableArn, "Idempotency"),
                // The mapping's pollers and a worker in a VPC each need network-interface actions: one statement (Sids are unique).
                ...mergeNetworkInterfaces([...kafkaStatements, ...extra]),
                ...(secretArns.length ? [allow(Actions.readSecret, secretArns, "ReadDestinationSecrets")] : []),
            ]),
            timeoutSeconds: lane.timeoutSeconds,
            packages: FunctionPackages.kafkaWorker,
            ...settings.function,
        },
        parent,
        { kind: "kafka", mapping: kafka.mapping(name, lane) },
    );
    return { lane, worker };
}

/** The X-Ray actions Lambda's active tracing needs (the AWSXRayDaemonWriteAccess actions Lambda documents for tracing). */
export const TracingActions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] as const;

/** Sid of the X-Ray statement: its Resource is "*" because X-Ray's Put actions have no resource types (Service Authorization Reference, AWS X-Ray). */
export const TracingSid = "XRayTracing";

interface WorkerSettingsResources {
    /** Name -> secret ARN, for the worker's runtime config. */
    readonly secretIds: pulumi.Output<Record<string, string>>;
    /** Statements for exactly this worker: its secrets, tracing, VPC interfaces, extra permissions. */
    readonly statements: pulumi.Output<Statement[]>;
    /** createCallback settings: memory, log retention, tracing, environment, VPC. */
    readonly function: { memorySize: number; logRetentionDays: number; tracing: boolean; environment: Record<string, string>; vpc?: { subnetIds: string[]; securityGroupIds: string[] } };
}

/**
 * A lane's worker settings as resources and function settings: one Secrets Manager secret per handler
 * secret value (this lane's own, so no other worker's role names it), plus the ARNs given for existing secrets.
 */
function workerSettings(base: string, lane: LaneModel, config: PipelineConfig, parent: pulumi.Resource): WorkerSettingsResources {
    const w = lane.worker;
    const values = handlerSecretValuesOf(config, lane);
    const created: [string, pulumi.Output<string>][] = Object.entries(values).map(([secretName, value]) => {
        const secret = new aws.secretsmanager.Secret(childName(base, "handler-secret", secretName), {
            description: `Handler secret ${secretName} of webhook lane ${lane.id} (read by its worker through context.secrets)`,
            recoveryWindowInDays: 7,
        }, { parent });
        new aws.secretsmanager.SecretVersion(childName(base, "handler-secret", secretName, "value"), { secretId: secret.id, secretString: pulumi.secret(value) }, { parent });
        return [secretName, secret.arn];
    });
    const given = w.secrets.filter((s) => s.arn).map((s): [string, pulumi.Output<string>] => [s.name, pulumi.output(s.arn!)]);
    const secretIds = pulumi.all(Object.fromEntries([...created, ...given]));
    const statements = secretIds.apply((ids): Statement[] => [
        ...(Object.keys(ids).length ? [allow(Actions.readSecret, Object.values(ids), "ReadHandlerSecrets")] : []),
        ...(w.tracing ? [allow(TracingActions, "*", TracingSid)] : []),
        // Lambda creates the worker's network interfaces before they exist, and ec2:Describe* take no resource: "*" is required (see kafka.ts).
        ...(w.vpc ? [allow(KafkaActions.functionNetworkInterfaces, "*", NetworkInterfacesSid)] : []),
        ...w.permissions.map((p, i) => allow(p.actions, [...p.resources], `Extra${i}`)),
    ]);
    return {
        secretIds,
        statements,
        function: {
            memorySize: w.memorySize,
            logRetentionDays: w.logRetentionDays,
            tracing: w.tracing,
            // The pipeline's own names last: validation refuses them in `environment` anyway.
            environment: { ...w.environment, ...pipelineWorkerEnvironment(lane.id) },
            vpc: w.vpc ? { subnetIds: [...w.vpc.subnetIds], securityGroupIds: [...w.vpc.securityGroupIds] } : undefined,
        },
    };
}

/** Statements with the network-interface Sid merged into one (the first one's place) holding every action they name. */
export function mergeNetworkInterfaces(statements: readonly Statement[]): Statement[] {
    const network = statements.filter((s) => s.Sid === NetworkInterfacesSid);
    if (network.length < 2) return [...statements];
    const actions = [...new Set(network.flatMap((s) => [].concat(s.Action as never)))].sort();
    const first = statements.indexOf(network[0]);
    return statements.flatMap((s, i) => (s.Sid !== NetworkInterfacesSid ? [s] : i === first ? [allow(actions, "*", NetworkInterfacesSid)] : []));
}
