/**
 * The local backend: maps the pipeline model onto an AWS emulator (moto) the
 * way components/ maps it onto AWS: catch-all queue + DLQ, one queue + DLQ
 * per lane (FIFO when ordered, redrive at maxReceiveCount, visibility 6x the
 * timeout), the archive bucket, the idempotency table, one secret per
 * provider holding `{"secrets": [...]}`, and the pipeline-internal key that
 * seals trusted envelopes (model/seal.ts), generated here once per emulator.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "crypto";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import type { PipelineModel } from "../model/pipeline";
import { DestinationRuntime, KafkaRuntime, LaneRuntime, providerRuntimeOf, RouterRuntimeConfig, WorkerRuntimeConfig } from "../model/runtime-config";
import { Limits, ProviderDefaults, QueueSettings } from "../model/constants";
import { patientRetryStrategy } from "../handlers/shared/retry";

export interface LocalQueue {
    readonly url: string;
    readonly arn: string;
    readonly name: string;
}

export interface LocalQueuePair {
    readonly queue: LocalQueue;
    readonly dlq: LocalQueue;
}

export interface LocalResources {
    readonly catchAll: LocalQueuePair;
    readonly lanes: Readonly<Record<string, LocalQueuePair>>;
    readonly bucket: string;
    readonly table: string;
    readonly secretIds: Readonly<Record<string, string>>;
    /** The pipeline-internal key's secret (`{"secrets": [key]}`): the router, the local ingress and `npm run ops` read it. */
    readonly sealSecretId: string;
    readonly router: RouterRuntimeConfig;
    readonly workers: Readonly<Record<string, WorkerRuntimeConfig>>;
}

export interface LocalClients {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretsManagerClient;
    readonly dynamo: DynamoDBClient;
}

/**
 * Clients for the emulator at `endpoint` (S3 needs path-style addressing there).
 * DynamoDB retries through a short outage (handlers/shared/retry.ts): a failed
 * idempotency write after a handler ran would run the handler again.
 */
export function localClients(endpoint: string, region = "us-east-1"): LocalClients {
    const common = { endpoint, region, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    return {
        sqs: new SQSClient(common),
        s3: new S3Client({ ...common, forcePathStyle: true }),
        secrets: new SecretsManagerClient(common),
        dynamo: new DynamoDBClient({ ...common, retryStrategy: patientRetryStrategy() }),
    };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<LocalQueue> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn!, name };
}

async function createQueuePair(sqs: SQSClient, base: string, fifo: boolean, visibilityTimeoutSeconds: number, maxReceiveCount: number, retentionSeconds: number = QueueSettings.retentionSeconds): Promise<LocalQueuePair> {
    const suffix = fifo ? ".fifo" : "";
    const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: "true" } : {};
    const size = { MaximumMessageSize: String(QueueSettings.maxMessageSizeBytes) };
    const dlq = await createQueue(sqs, `${base}-dlq${suffix}`, { ...fifoAttributes, ...size, MessageRetentionPeriod: String(QueueSettings.dlqRetentionSeconds) });
    const queue = await createQueue(sqs, `${base}${suffix}`, {
        ...fifoAttributes,
        ...size,
        MessageRetentionPeriod: String(retentionSeconds),
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    });
    return { queue, dlq };
}

export interface CreateLocalOptions {
    /** Prefix for every name, so several pipelines can share one emulator. @default model.name */
    readonly prefix?: string;
    /** Override every lane's visibility timeout (seconds), e.g. 1 to see retries quickly. */
    readonly visibilityTimeoutSeconds?: number;
    /** Where Kafka lanes publish (pipelines with Kafka lanes); topics are created by the router and the lane runners. */
    readonly kafka?: KafkaRuntime;
    /** Lane id -> its destination's secrets (signing secrets, auth header value), stored like the providers'. */
    readonly destinationSecrets?: Readonly<Record<string, { readonly signing: readonly string[]; readonly auth?: string }>>;
    /** The pipeline-internal key to create its secret with (benchmarks share one between pipelines). @default a fresh random key */
    readonly sealKey?: string;
    /** Lane id -> handler secret name -> value (see local/stack.ts); each is put into the emulator's Secrets Manager for that lane's worker. */
    readonly handlerSecrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Create or overwrite a secret holding `{"secrets": [...]}`; resolves to its id. */
async function putSecret(client: SecretsManagerClient, name: string, secrets: readonly string[]): Promise<string> {
    return putRawSecret(client, name, JSON.stringify({ secrets }));
}

/** Create or overwrite a secret in the emulator holding `value` as it is; its id (ARN when created). */
async function putRawSecret(client: SecretsManagerClient, name: string, value: string): Promise<string> {
    try {
        const { ARN } = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
        return ARN!;
    } catch (err) {
        if ((err as Error).name !== "ResourceExistsException") throw err;
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
        return name;
    }
}

/** Create everything the model needs in the emulator; idempotent for the same prefix. */
export async function createLocalResources(model: PipelineModel, secrets: Readonly<Record<string, readonly string[]>>, clients: LocalClients, options: CreateLocalOptions = {}): Promise<LocalResources> {
    const prefix = options.prefix ?? model.name;
    const visibility = (seconds: number) => options.visibilityTimeoutSeconds ?? seconds;
    const catchAll = await createQueuePair(clients.sqs, `${prefix}-catch-all`, false, visibility(model.router.visibilityTimeoutSeconds), model.router.maxReceiveCount);
    const lanes: Record<string, LocalQueuePair> = {};
    for (const lane of model.lanes.filter((l) => l.kind === "sqs")) {
        lanes[lane.id] = await createQueuePair(clients.sqs, `${prefix}-${lane.id}`, lane.ordering, visibility(lane.visibilityTimeoutSeconds), lane.maxReceiveCount, lane.retentionSeconds);
    }
    const bucket = `${prefix}-archive`.toLowerCase();
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err) => {
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(String(err?.name))) throw err;
    });
    const table = `${prefix}-idempotency`;
    try {
        await clients.dynamo.send(new DescribeTableCommand({ TableName: table }));
    } catch {
        await clients.dynamo.send(
            new CreateTableCommand({ TableName: table, BillingMode: "PAY_PER_REQUEST", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }] }),
        );
        await clients.dynamo.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: "expiration", Enabled: true } }));
    }
    const secretIds: Record<string, string> = {};
    for (const p of model.providers) secretIds[p.name] = await putSecret(clients.secrets, `${prefix}/${p.name}/signing-secret`, secrets[p.name] ?? []);
    const destinations: Record<string, DestinationRuntime> = {};
    for (const l of model.lanes) {
        const d = l.destination;
        if (!d) continue;
        const own = options.destinationSecrets?.[l.id];
        const signingSecretId = d.signingSecretCount > 0 || own?.signing.length ? await putSecret(clients.secrets, `${prefix}/${l.id}/destination-signing-secret`, own?.signing ?? []) : undefined;
        const authSecretId = d.authHeader ? await putSecret(clients.secrets, `${prefix}/${l.id}/destination-auth`, own?.auth !== undefined ? [own.auth] : []) : undefined;
        destinations[l.id] = {
            url: d.url,
            method: d.method,
            timeoutSeconds: d.timeoutSeconds,
            headers: d.headers,
            ...(d.authHeader ? { authHeader: d.authHeader, authSecretId } : {}),
            ...(signingSecretId ? { signingSecretId } : {}),
            ...(d.paceMs ? { paceMs: d.paceMs, startsPerWindow: d.startsPerWindow, windowMs: d.windowMs } : {}),
        };
    }
    const sealSecretId = await createSealSecret(clients.secrets, `${prefix}/internal-key`, options.sealKey ?? randomBytes(32).toString("base64"));
    const router: RouterRuntimeConfig = {
        bucket,
        sealSecretId,
        inlineBodyBytes: Limits.laneInlineBodyBytes,
        ...(options.kafka ? { kafka: options.kafka } : {}),
        providers: Object.fromEntries(
            model.providers.map((p) => [p.name, providerRuntimeOf(p, secretIds[p.name])]),
        ),
        lanes: Object.fromEntries(
            model.lanes.map((l): [string, LaneRuntime] => [l.id, { id: l.id, provider: l.provider, kind: l.kind, ordering: l.ordering, queueUrl: lanes[l.id]?.queue.url, topic: l.topic, partitions: l.kind === "kafka" ? l.concurrency : undefined }]),
        ),
    };
    const workers: Record<string, WorkerRuntimeConfig> = {};
    for (const l of model.lanes) {
        // One secret per handler secret and lane, as the Pulumi backend creates them; read through context.secrets.
        const handlerSecretIds: Record<string, string> = {};
        for (const { name } of l.worker.secrets) {
            const value = options.handlerSecrets?.[l.id]?.[name];
            if (value !== undefined) handlerSecretIds[name] = await putRawSecret(clients.secrets, `${prefix}/${l.id}/handler/${name}`, value);
        }
        workers[l.id] = {
                lane: l.id,
                provider: l.provider,
                bucket,
                idempotencyTable: table,
                idempotencyTtlSeconds: model.archive.idempotencyDays * 24 * 3600,
                ordering: l.ordering,
                timeoutSeconds: l.timeoutSeconds,
                ...(lanes[l.id] ? { queueUrl: lanes[l.id].queue.url, dlqUrl: lanes[l.id].dlq.url } : {}),
                ...(l.retry ? { retry: l.retry } : {}),
                ...(destinations[l.id] ? { destination: destinations[l.id] } : {}),
                ...(Object.keys(handlerSecretIds).length ? { secrets: handlerSecretIds, secretMaxAgeSeconds: ProviderDefaults.secretMaxAgeSeconds } : {}),
                ...(Object.keys(l.worker.environment).length ? { environment: { ...l.worker.environment } } : {}),
        };
    }
    return { catchAll, lanes, bucket, table, secretIds, sealSecretId, router, workers };
}

/**
 * The internal key's secret, created with a fresh random key; an existing one is kept as it is (a router
 * started in its own process shares the pipeline's key, and messages sealed before stay valid).
 */
async function createSealSecret(client: SecretsManagerClient, name: string, key: string): Promise<string> {
    try {
        const { ARN } = await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ secrets: [key] }) }));
        return ARN!;
    } catch (err) {
        if ((err as Error).name !== "ResourceExistsException") throw err;
        return name;
    }
}
