/**
 * WebhookPipeline: API Gateway -> catch-all queue -> router -> per-provider
 * lanes -> workers, generated from provider definitions.
 *
 * The constructor is a short script of named steps. Everything is validated
 * (all problems at once) before the first child is registered; the pipeline
 * model (model/pipeline.ts) decides what exists, this file only maps it onto
 * AWS resources. Kafka lanes (topic + event source mapping instead of a queue)
 * and their cluster or brokers come from components/kafka.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { handlers as builtinHandlers } from "../handlers/app";
import type { WebhookHandler } from "../handlers/app/types";
import { makeIngressHandler } from "../handlers/ingress/lambda";
import { makeKafkaWorkerHandler } from "../handlers/kafka/lambda";
import { routerKafkaPublisher } from "../handlers/kafka/publisher";
import { makeRouterHandler } from "../handlers/router/lambda";
import { makeWorkerHandler } from "../handlers/worker/lambda";
import { ConfigError, PipelineConfig, ProviderConfig, validateConfig } from "../model/config";
import { ArchivePrefix, Limits } from "../model/constants";
import { apiGatewayMessageAttributes } from "../model/envelope";
import { buildPipelineModel, LaneModel, PipelineModel, ProviderModel, secretsOf } from "../model/pipeline";
import { LaneRuntime, ProviderRuntime, providerRuntimeOf, RouterRuntimeConfig, WorkerRuntimeConfig } from "../model/runtime-config";
import { createCallback, CreatedFunction } from "./functions";
import { createKafkaResources, kafkaDeploymentProblems, KafkaResources } from "./kafka";
import { Actions, allow, assumeRolePolicy, objectArns, tlsOnlyBucketPolicy } from "./iam";
import { childName, fitName, NameLimits } from "./naming";

/** A provider as declared in stack config (`webhook-pipeline:providers[i]`); see the README's config reference. */
export type ProviderDefinition = ProviderConfig;

export interface WebhookPipelineArgs extends PipelineConfig {
    /**
     * Handler modules by name (`handler:` in provider and lane config picks one).
     * Defaults to the modules registered in handlers/app/index.ts.
     */
    readonly handlers?: Readonly<Record<string, WebhookHandler>>;
}

/** Packages each function requires at run time (the AWS SDK v3 ships with the Lambda runtime). */
export const FunctionPackages = {
    router: ["@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"],
    worker: ["@aws-lambda-powertools/batch", "@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"],
    ingress: [] as string[],
    /** Added to the router's packages when the pipeline has Kafka lanes (and only then). */
    kafkaRouter: ["kafkajs"],
    /** Kafka lane workers: Lambda's event source does the Kafka side, so no kafkajs and no batch utility. */
    kafkaWorker: ["@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"],
} as const;

interface QueuePair {
    readonly queue: aws.sqs.Queue;
    readonly dlq: aws.sqs.Queue;
}

interface LaneResources extends QueuePair {
    readonly lane: LaneModel;
    readonly worker: CreatedFunction;
}

/** A Kafka lane: its topic lives in the cluster; the worker has a Kafka event source mapping. */
interface KafkaLaneResources {
    readonly lane: LaneModel;
    readonly worker: CreatedFunction;
}

export class WebhookPipeline extends pulumi.ComponentResource {
    /** The pipeline model the resources were built from. */
    public readonly model: PipelineModel;
    /** Base URL of the HTTP API, e.g. `https://abc.execute-api.us-east-1.amazonaws.com`. */
    public readonly url: pulumi.Output<string>;
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
    /** Bootstrap brokers of the Kafka lanes (for your own consumers and `npm run kafka:replay`); undefined without Kafka lanes. */
    public readonly kafkaBootstrapBrokers?: pulumi.Output<string>;

    constructor(name: string, args: WebhookPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webhook-pipeline:index:WebhookPipeline", name, {}, opts);
        const { handlers = builtinHandlers, ...config } = args;

        const result = validateConfig(config, { handlers: Object.keys(handlers) });
        if (!result.ok) throw new pulumi.ResourceError(new ConfigError(result.problems).message, this);
        const model = buildPipelineModel(result.config, name);
        this.model = model;
        const kafkaProblems = kafkaDeploymentProblems(model);
        if (kafkaProblems.length) throw new pulumi.ResourceError(new ConfigError(kafkaProblems).message, this);
        warnAboutSecrets(result.config, this);

        const bucket = this.createArchiveBucket(name, model);
        const table = this.createIdempotencyTable(name, model);
        const catchAll = this.createQueuePair(childName(name, "catch-all"), { fifo: false, visibilityTimeoutSeconds: model.router.visibilityTimeoutSeconds, maxReceiveCount: model.router.maxReceiveCount });
        const secrets = this.createSecrets(name, result.config);
        const internalKey = this.createInternalKey(name);
        const kafka = model.usesKafka ? createKafkaResources(name, model, result.config.kafka, this) : undefined;
        const lanes = model.lanes.filter((l) => l.kind === "sqs").map((lane) => this.createLane(name, lane, bucket, table, handlers[lane.handler], model));
        const kafkaLanes = kafka ? model.lanes.filter((l) => l.kind === "kafka").map((lane) => this.createKafkaLane(name, lane, bucket, table, handlers[lane.handler], model, kafka)) : [];
        const router = this.createRouter(name, model, catchAll, lanes, secrets, bucket, internalKey, kafkaLanes, kafka);
        const api = this.createApi(name, model, catchAll, secrets, bucket, internalKey);
        this.createAlarms(name, model, catchAll, lanes, router, result.config.alarmTopicArn, kafkaLanes);
        this.createDashboard(name, catchAll, lanes, kafkaLanes);

        this.url = api.url;
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
        this.registerOutputs({
            url: this.url,
            webhookUrls: this.webhookUrls,
            queueUrls: this.queueUrls,
            dlqUrls: this.dlqUrls,
            bucketName: this.bucketName,
            tableName: this.tableName,
            internalKeySecretArn: this.internalKeySecretArn,
            kafkaTopics: this.kafkaTopics,
            kafkaBootstrapBrokers: this.kafkaBootstrapBrokers,
        });
    }

    /** Encrypted, private, TLS-only; old requests move to a cheaper class. */
    private createArchiveBucket(name: string, model: PipelineModel): aws.s3.Bucket {
        const opts = { parent: this };
        const bucket = new aws.s3.Bucket(childName(name, "archive"), { forceDestroy: false }, opts);
        new aws.s3.BucketServerSideEncryptionConfiguration(childName(name, "archive-sse"), {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
        }, opts);
        new aws.s3.BucketPublicAccessBlock(childName(name, "archive-private"), {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, opts);
        new aws.s3.BucketOwnershipControls(childName(name, "archive-owner"), { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
        new aws.s3.BucketPolicy(childName(name, "archive-tls-only"), { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) }, opts);
        const expiration = model.archive.expirationDays > 0 ? { days: model.archive.expirationDays } : undefined;
        new aws.s3.BucketLifecycleConfiguration(childName(name, "archive-lifecycle"), {
            bucket: bucket.id,
            rules: [
                {
                    id: "raw-and-quarantine-to-infrequent-access",
                    status: "Enabled",
                    filter: {},
                    transitions: [{ days: model.archive.transitionDays, storageClass: "STANDARD_IA" }],
                    expiration,
                },
                // Claim-check bodies are only needed while the lane message lives (14 days at most).
                { id: "claims-expire", status: "Enabled", filter: { prefix: `${ArchivePrefix.Claims}/` }, expiration: { days: 15 } },
            ],
        }, opts);
        return bucket;
    }

    /** Idempotency keys outlive provider retries (days), unlike FIFO deduplication (5 minutes). */
    private createIdempotencyTable(name: string, model: PipelineModel): aws.dynamodb.Table {
        void model;
        return new aws.dynamodb.Table(childName(name, "idempotency"), {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "id",
            attributes: [{ name: "id", type: "S" }],
            ttl: { attributeName: "expiration", enabled: true },
            serverSideEncryption: { enabled: true },
            pointInTimeRecovery: { enabled: true },
        }, { parent: this });
    }

    private createQueuePair(base: string, args: { fifo: boolean; visibilityTimeoutSeconds: number; maxReceiveCount: number }): QueuePair {
        const opts = { parent: this };
        // FIFO queues need an explicit `.fifo` name; others are auto-named (stack-unique).
        const fifoName = (suffix: string) => (args.fifo ? `${fitName(`${base}${suffix}-${pulumi.getStack()}`, NameLimits.sqs - 5)}.fifo` : undefined);
        const dlq = new aws.sqs.Queue(`${base}-dlq`, {
            name: fifoName("-dlq"),
            fifoQueue: args.fifo || undefined,
            sqsManagedSseEnabled: true,
            messageRetentionSeconds: 14 * 24 * 3600,
        }, opts);
        const queue = new aws.sqs.Queue(`${base}-queue`, {
            name: fifoName(""),
            fifoQueue: args.fifo || undefined,
            sqsManagedSseEnabled: true,
            visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
            messageRetentionSeconds: 4 * 24 * 3600,
            redrivePolicy: dlq.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: args.maxReceiveCount })),
        }, opts);
        new aws.sqs.RedriveAllowPolicy(`${base}-dlq-allow`, {
            queueUrl: dlq.url,
            redriveAllowPolicy: queue.arn.apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })),
        }, opts);
        return { queue, dlq };
    }

    /** One Secrets Manager secret per provider; the value is set from the Pulumi secret in config when given. */
    private createSecrets(name: string, config: PipelineConfig): Map<string, aws.secretsmanager.Secret> {
        const secrets = new Map<string, aws.secretsmanager.Secret>();
        for (const p of config.providers) {
            const secret = new aws.secretsmanager.Secret(childName(name, p.name, "secret"), {
                description: `Signing secret(s) for webhook provider ${p.name}: JSON {"secrets": [...]}`,
                recoveryWindowInDays: 7,
            }, { parent: this });
            const values = secretsOf(p);
            if (values.length > 0) {
                new aws.secretsmanager.SecretVersion(childName(name, p.name, "secret-value"), {
                    secretId: secret.id,
                    secretString: pulumi.secret(JSON.stringify({ secrets: values })),
                }, { parent: this });
            }
            secrets.set(p.name, secret);
        }
        return secrets;
    }

    /**
     * The pipeline-internal key: 64 random characters from Secrets Manager's GetRandomPassword, stored once
     * (`ignoreChanges`, so a later `pulumi up` keeps the key: messages sealed before stay valid). Rotate by
     * putting `{"secrets": ["<new>", "<old>"]}` into the secret by hand (the first seals, any opens).
     */
    private createInternalKey(name: string): aws.secretsmanager.Secret {
        const secret = new aws.secretsmanager.Secret(childName(name, "internal-key"), {
            description: 'Pipeline-internal key sealing the envelopes of the pipeline\'s own writers: JSON {"secrets": [...]}',
            recoveryWindowInDays: 7,
        }, { parent: this });
        const key = aws.secretsmanager.getRandomPasswordOutput({ passwordLength: 64, excludePunctuation: true }, { parent: this });
        new aws.secretsmanager.SecretVersion(childName(name, "internal-key-value"), {
            secretId: secret.id,
            secretString: pulumi.secret(key.randomPassword.apply((k) => JSON.stringify({ secrets: [k] }))),
        }, { parent: this, ignoreChanges: ["secretString"] });
        return secret;
    }

    private createLane(name: string, lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, handler: WebhookHandler, model: PipelineModel): LaneResources {
        const base = childName(name, lane.id);
        const pair = this.createQueuePair(base, { fifo: lane.ordering, visibilityTimeoutSeconds: lane.visibilityTimeoutSeconds, maxReceiveCount: lane.maxReceiveCount });
        const workerConfig = workerConfigOf(lane, bucket, table, model);
        const worker = createCallback(
            childName(base, "worker"),
            {
                description: `Webhook worker for lane ${lane.id} (handler ${lane.handler})`,
                factory: () => makeWorkerHandler(() => workerConfig.get(), handler),
                statements: pulumi.all([pair.queue.arn, bucket.arn, table.arn]).apply(([queueArn, bucketArn, tableArn]) => [
                    allow(Actions.consumeQueue, queueArn, "ConsumeLane"),
                    allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                    allow(Actions.idempotency, tableArn, "Idempotency"),
                ]),
                timeoutSeconds: lane.timeoutSeconds,
                packages: FunctionPackages.worker,
                environment: { POWERTOOLS_SERVICE_NAME: `webhook-worker-${lane.id}`, POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" },
            },
            this,
            { queueArn: pair.queue.arn, batchSize: lane.batchSize, batchWindowSeconds: lane.batchWindowSeconds || undefined, maximumConcurrency: lane.concurrency },
        );
        return { ...pair, lane, worker };
    }

    /** A Kafka lane: no queue; the worker consumes the lane's topic through a Kafka event source mapping. */
    private createKafkaLane(name: string, lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, handler: WebhookHandler, model: PipelineModel, kafka: KafkaResources): KafkaLaneResources {
        const base = childName(name, lane.id);
        const workerConfig = workerConfigOf(lane, bucket, table, model);
        const worker = createCallback(
            childName(base, "worker"),
            {
                description: `Webhook worker for Kafka lane ${lane.id} (topic ${lane.topic}, handler ${lane.handler})`,
                factory: () => makeKafkaWorkerHandler(() => workerConfig.get(), handler),
                statements: pulumi.all([bucket.arn, table.arn, kafka.workerStatements(lane)]).apply(([bucketArn, tableArn, kafkaStatements]) => [
                    allow(Actions.getObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/${lane.provider}`), "ReadClaimChecks"),
                    allow(Actions.idempotency, tableArn, "Idempotency"),
                    ...kafkaStatements,
                ]),
                timeoutSeconds: lane.timeoutSeconds,
                packages: FunctionPackages.kafkaWorker,
                environment: { POWERTOOLS_SERVICE_NAME: `webhook-worker-${lane.id}`, POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" },
            },
            this,
            { kind: "kafka", mapping: kafka.mapping(name, lane) },
        );
        return { lane, worker };
    }

    private createRouter(
        name: string,
        model: PipelineModel,
        catchAll: QueuePair,
        lanes: readonly LaneResources[],
        secrets: Map<string, aws.secretsmanager.Secret>,
        bucket: aws.s3.Bucket,
        internalKey: aws.secretsmanager.Secret,
        kafkaLanes: readonly KafkaLaneResources[] = [],
        kafka?: KafkaResources,
    ): CreatedFunction {
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
                factory: () => makeRouterHandler(() => routerConfig.get(), makeKafka),
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
            this,
            { queueArn: catchAll.queue.arn, batchSize: model.router.batchSize, batchWindowSeconds: model.router.batchWindowSeconds, maximumConcurrency: model.router.concurrency },
        );
    }

    /** HTTP API: direct SQS integration per provider route, or the ingress function where the provider challenges the endpoint. */
    private createApi(name: string, model: PipelineModel, catchAll: QueuePair, secrets: Map<string, aws.secretsmanager.Secret>, bucket: aws.s3.Bucket, internalKey: aws.secretsmanager.Secret) {
        const opts = { parent: this };
        const api = new aws.apigatewayv2.Api(childName(name, "api"), { protocolType: "HTTP", description: "Webhook ingestion: POST /webhooks/{provider}" }, opts);
        const accessLogs = new aws.cloudwatch.LogGroup(childName(name, "api-access-logs"), { retentionInDays: 30 }, opts);
        const stage = new aws.apigatewayv2.Stage(childName(name, "api-stage"), {
            apiId: api.id,
            name: "$default",
            autoDeploy: true,
            defaultRouteSettings: { throttlingRateLimit: model.api.throttleRateLimit, throttlingBurstLimit: model.api.throttleBurstLimit },
            accessLogSettings: {
                destinationArn: accessLogs.arn,
                format: JSON.stringify({
                    requestId: "$context.requestId",
                    ip: "$context.identity.sourceIp",
                    requestTime: "$context.requestTimeEpoch",
                    routeKey: "$context.routeKey",
                    status: "$context.status",
                    responseLength: "$context.responseLength",
                    integrationError: "$context.integrationErrorMessage",
                }),
            },
        }, opts);
        const sendRole = new aws.iam.Role(childName(name, "api-role"), { assumeRolePolicy: JSON.stringify(assumeRolePolicy("apigateway.amazonaws.com")), description: "API Gateway: send to the catch-all queue only" }, opts);
        new aws.iam.RolePolicy(childName(name, "api-policy"), {
            role: sendRole.id,
            policy: catchAll.queue.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [allow(Actions.sendQueue, arn, "SendToCatchAll")] })),
        }, opts);

        const ingress: [string, CreatedFunction][] = [];
        for (const provider of model.providers) {
            const base = childName(name, provider.name);
            let integration: aws.apigatewayv2.Integration;
            if (provider.ingress === "direct") {
                integration = new aws.apigatewayv2.Integration(childName(base, "integration"), {
                    apiId: api.id,
                    integrationType: "AWS_PROXY",
                    integrationSubtype: "SQS-SendMessage",
                    credentialsArn: sendRole.arn,
                    payloadFormatVersion: "1.0",
                    requestParameters: {
                        QueueUrl: catchAll.queue.url,
                        MessageBody: "$request.body",
                        MessageAttributes: apiGatewayMessageAttributes(provider.name, provider.headers, provider.signsUrl),
                    },
                }, opts);
            } else {
                const fn = this.createIngressFunction(base, provider, catchAll, secrets.get(provider.name)!, bucket, internalKey);
                ingress.push([provider.name, fn]);
                new aws.lambda.Permission(childName(base, "ingress-invoke"), {
                    action: "lambda:InvokeFunction",
                    function: fn.fn.name,
                    principal: "apigateway.amazonaws.com",
                    sourceArn: pulumi.interpolate`${api.executionArn}/*/*${provider.path}`,
                }, opts);
                integration = new aws.apigatewayv2.Integration(childName(base, "integration"), {
                    apiId: api.id,
                    integrationType: "AWS_PROXY",
                    integrationUri: fn.fn.invokeArn,
                    payloadFormatVersion: "2.0",
                }, opts);
            }
            new aws.apigatewayv2.Route(childName(base, "route"), {
                apiId: api.id,
                routeKey: `POST ${provider.path}`,
                target: pulumi.interpolate`integrations/${integration.id}`,
            }, opts);
        }
        return { api, stage, url: stage.invokeUrl.apply((u) => u.replace(/\/$/, "")), ingress };
    }

    private createIngressFunction(base: string, provider: ProviderModel, catchAll: QueuePair, secret: aws.secretsmanager.Secret, bucket: aws.s3.Bucket, internalKey: aws.secretsmanager.Secret): CreatedFunction {
        const ingressConfig = pulumi.all([catchAll.queue.url, bucket.bucket, secret.arn, internalKey.arn]).apply(([catchAllQueueUrl, bucketName, secretArn, sealSecretId]) => ({
            provider: providerRuntime(provider, secretArn),
            headers: provider.headers,
            signsUrl: provider.signsUrl,
            catchAllQueueUrl,
            bucket: bucketName,
            sealSecretId,
        }));
        return createCallback(
            childName(base, "ingress"),
            {
                description: `Webhook ingress for ${provider.name}: answers the endpoint challenge, enqueues the rest`,
                factory: () => makeIngressHandler(() => ingressConfig.get()),
                statements: pulumi.all([catchAll.queue.arn, bucket.arn, secret.arn, internalKey.arn]).apply(([queueArn, bucketArn, secretArn, internalKeyArn]) => [
                    allow(Actions.sendQueue, queueArn, "SendToCatchAll"),
                    allow(Actions.putObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/ingress/${provider.name}`), "WriteClaimChecks"),
                    allow(Actions.readSecret, secretArn, "ReadSigningSecret"),
                    allow(Actions.readSecret, internalKeyArn, "ReadInternalKey"),
                ]),
                timeoutSeconds: 10,
                packages: FunctionPackages.ingress,
            },
            this,
        );
    }

    /** DLQ has messages; oldest message too old; worker errors. */
    private createAlarms(name: string, model: PipelineModel, catchAll: QueuePair, lanes: readonly LaneResources[], router: CreatedFunction, topicArn?: string, kafkaLanes: readonly KafkaLaneResources[] = []) {
        const actions = topicArn ? [topicArn] : [];
        const opts = { parent: this };
        const queueAlarms = (base: string, pair: QueuePair, maxAgeSeconds: number) => {
            new aws.cloudwatch.MetricAlarm(childName(base, "dlq-alarm"), {
                alarmDescription: `${base}: messages in the DLQ (failed ${"`"}maxReceiveCount${"`"} times). Inspect, fix, then redrive.`,
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: { QueueName: pair.dlq.name },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 1,
                threshold: 0,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
            }, opts);
            new aws.cloudwatch.MetricAlarm(childName(base, "age-alarm"), {
                alarmDescription: `${base}: oldest message older than ${maxAgeSeconds}s (workers are not keeping up)`,
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessage",
                dimensions: { QueueName: pair.queue.name },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 5,
                threshold: maxAgeSeconds,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
            }, opts);
        };
        const errorAlarm = (base: string, fn: CreatedFunction) =>
            new aws.cloudwatch.MetricAlarm(childName(base, "errors-alarm"), {
                alarmDescription: `${base}: function errors`,
                namespace: "AWS/Lambda",
                metricName: "Errors",
                dimensions: { FunctionName: fn.fn.name },
                statistic: "Sum",
                period: 300,
                evaluationPeriods: 1,
                threshold: 0,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
            }, opts);
        queueAlarms(childName(name, "catch-all"), catchAll, Math.max(300, model.router.visibilityTimeoutSeconds));
        errorAlarm(childName(name, "router"), router);
        for (const l of lanes) {
            const base = childName(name, l.lane.id);
            queueAlarms(base, l, Math.max(300, l.lane.visibilityTimeoutSeconds));
            errorAlarm(base, l.worker);
        }
        // Kafka lanes have no queue to watch: worker errors (failed records are retried, then go to <topic>.dlq).
        for (const l of kafkaLanes) errorAlarm(childName(name, l.lane.id), l.worker);
    }

    /** One row per queue: the catch-all, then each SQS lane (queue and worker), then each Kafka lane's worker. */
    private createDashboard(name: string, catchAll: QueuePair, lanes: readonly LaneResources[], kafkaLanes: readonly KafkaLaneResources[]) {
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const body = pulumi
            .all([region, catchAll.queue.name, catchAll.dlq.name, pulumi.all(lanes.map((l) => pulumi.all([l.queue.name, l.dlq.name, l.worker.fn.name]))), pulumi.all(kafkaLanes.map((l) => l.worker.fn.name))])
            .apply(([r, q, dlq, laneNames, kafkaWorkers]) => {
                const widget = (title: string, x: number, y: number, stat: string, metrics: unknown[][]) => ({ type: "metric", x, y, width: 12, height: 6, properties: { title, region: r, stat, metrics } });
                const queueWidget = (title: string, queue: string, deadLetters: string, y: number) =>
                    widget(title, 0, y, "Maximum", [
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue],
                        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { yAxis: "right" }],
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", deadLetters, { label: "DLQ" }],
                    ]);
                const workerWidget = (title: string, fn: string, y: number) =>
                    widget(title, 12, y, "Sum", [
                        ["AWS/Lambda", "Invocations", "FunctionName", fn],
                        ["AWS/Lambda", "Errors", "FunctionName", fn],
                        ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", fn, { stat: "Maximum", yAxis: "right" }],
                    ]);
                const widgets = [queueWidget("catch-all", q, dlq, 0)];
                laneNames.forEach(([queue, deadLetters, fn], i) => {
                    widgets.push(queueWidget(lanes[i].lane.id, queue, deadLetters, 6 * (i + 1)));
                    widgets.push(workerWidget(`${lanes[i].lane.id} worker`, fn, 6 * (i + 1)));
                });
                // Kafka lanes have no queue to chart: their worker, beside an empty left column.
                kafkaWorkers.forEach((fn, i) => widgets.push(workerWidget(`${kafkaLanes[i].lane.id} worker (Kafka, topic ${kafkaLanes[i].lane.topic})`, fn, 6 * (laneNames.length + 1 + i))));
                return JSON.stringify({ widgets });
            });
        new aws.cloudwatch.Dashboard(childName(name, "dashboard"), { dashboardName: fitName(`${name}-${pulumi.getStack()}`, 255), dashboardBody: body }, { parent: this });
    }
}

/** `[[key, Output<string>], ...]` -> `Output<Record<key, string>>` */
function keyed(entries: [string, pulumi.Output<string>][]): pulumi.Output<Record<string, string>> {
    return pulumi.all(entries.map(([k, v]) => v.apply((value): [string, string] => [k, value]))).apply((pairs) => Object.fromEntries(pairs));
}

function urlsByLane(catchAll: aws.sqs.Queue, lanes: [string, aws.sqs.Queue][]): pulumi.Output<Record<string, string>> {
    return keyed([["catch-all", catchAll.url], ...lanes.map(([id, q]): [string, pulumi.Output<string>] => [id, q.url])]);
}

function providerRuntime(p: ProviderModel, secretId: string): ProviderRuntime {
    return providerRuntimeOf(p, secretId);
}

/** A provider without a secret in config works once the secret is put into Secrets Manager by hand; say so. */
function warnAboutSecrets(config: PipelineConfig, resource: pulumi.Resource) {
    config.providers.forEach((p, i) => {
        if (p.secret === undefined) {
            pulumi.log.warn(
                `providers[${i}].secret is not set: webhooks for "${p.name}" are quarantined as no-secret until the secret holds {"secrets":["..."]} ` +
                    `(run \`pulumi config set --secret --path 'webhook-pipeline:providers[${i}].secret' <value>\`, or put the value into Secrets Manager)`,
                resource,
            );
        }
    });
}

/** What a lane's worker reads at run time (SQS and Kafka lanes alike). */
function workerConfigOf(lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, model: PipelineModel): pulumi.Output<WorkerRuntimeConfig> {
    return pulumi.all([bucket.bucket, table.name]).apply(([bucketName, tableName]) => ({
        lane: lane.id,
        provider: lane.provider,
        bucket: bucketName,
        idempotencyTable: tableName,
        idempotencyTtlSeconds: model.archive.idempotencyDays * 24 * 3600,
        ordering: lane.ordering,
    }));
}
