/**
 * The Kafka side of a WebhookPipeline, for pipelines with `lane: kafka`:
 *
 * - `msk-serverless` (default): an MSK Serverless cluster with IAM auth in a
 *   VPC: a new one from `@pulumi/awsx` (isolated subnets in 3 AZs, no NAT) or
 *   the `vpcId`/`subnetIds` you give. Security groups: the router's may reach
 *   the brokers on 9098; the cluster's admits the router and itself (Lambda's
 *   Kafka pollers run with the cluster's security groups). In a VPC we create,
 *   the router and the pollers reach AWS through VPC endpoints: S3 (gateway),
 *   Secrets Manager, SQS (when there are SQS lanes), Lambda and STS (the
 *   pollers invoke the worker and assume its role). Endpoints rather than a
 *   NAT gateway: no path to the internet from the cluster's subnets, security
 *   groups that name what may be reached, no per-GB NAT charge, and no single
 *   NAT AZ to lose. In a VPC you give, we create no endpoints (they would clash
 *   with yours): it must reach those services already (NAT or endpoints).
 * - `external`: brokers you run (`brokers`, optional SASL/SCRAM, TLS, and
 *   `subnetIds` + `securityGroupIds` when they are only reachable inside a
 *   VPC). SCRAM credentials live in a Secrets Manager secret (`{"username",
 *   "password"}`, the format Lambda's self-managed Kafka event source reads);
 *   the password comes from config as a Pulumi secret and never reaches code
 *   or environment.
 *
 * Workers are Lambda functions on a Kafka event source mapping in provisioned
 * mode (required for retries, partial batch responses and a Kafka
 * on-failure destination): `maximumRetryAttempts` = maxReceiveCount - 1, then
 * `<topic>.dlq`; at most one concurrent invocation per partition, so the
 * lane's concurrency (= its partitions) bounds them. Workers need no VPC
 * (the mapping's pollers connect to the brokers; the worker itself only calls
 * DynamoDB and S3).
 *
 * Topics are created before traffic by the code, not by Pulumi: Pulumi's
 * Kafka provider would need the brokers reachable from wherever `pulumi up`
 * runs (inside the VPC, for MSK). The router creates the lane and DLQ topics
 * before its first publish in a container, and the consumer runner before it
 * subscribes (handlers/kafka/topics.ts, idempotent). Until the first webhook
 * of a Kafka lane, its mapping reports the topic as missing; it starts at
 * TRIM_HORIZON, so nothing published is skipped.
 *
 * IAM: exact actions on exact ARNs (cluster, each topic, the mapping's
 * consumer group). The one exception is the network-interface statement a
 * Lambda in a VPC and a Kafka event source mapping need: `ec2:Describe*`
 * actions support no resource-level permissions and the interfaces do not
 * exist before Lambda creates them, so AWS requires `Resource: "*"`
 * (the statement is `NetworkInterfaces`).
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { deadLetterTopicOf, KafkaDefaults, lambdaGroupOf } from "../handlers/kafka/constants";
import type { PipelineConfig } from "../model/config";
import { EventSourceMappingMetrics } from "../model/metrics";
import type { LaneModel, PipelineModel } from "../model/pipeline";
import type { KafkaRuntime } from "../model/runtime-config";
import { allow, Statement } from "./iam";
import { autoName, childName, fitName, NameLimits, stackNamePart } from "./naming";

/** The MSK Serverless IAM listener. */
export const MskIamPort = 9098;

export const KafkaActions = {
    /** The router: connect, produce idempotently (InitProducerId needs WriteDataIdempotently on the cluster). */
    produceCluster: ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"],
    /** The router on each lane and DLQ topic: create it, grow it (AlterTopic), read its metadata, write. */
    produceTopic: ["kafka-cluster:AlterTopic", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
    /** An MSK event source mapping (as AWS documents it), on the cluster. */
    eventSourceCluster: ["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"],
    eventSourceDescribe: ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
    /** ... on the lane topic. */
    eventSourceTopic: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
    /** ... on its consumer group. */
    eventSourceGroup: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
    /** ... writing failed records to the dead-letter topic (its on-failure destination). */
    eventSourceDeadLetters: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
    /** A Lambda function in a VPC (AWSLambdaVPCAccessExecutionRole's actions). Resource "*" is required. */
    functionNetworkInterfaces: [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
    ],
    /** A Kafka event source mapping's pollers in the brokers' VPC (AWSLambdaMSKExecutionRole's ec2 actions). Resource "*" is required. */
    eventSourceNetworkInterfaces: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
    readSecret: ["secretsmanager:GetSecretValue"],
} as const;

/** Sid of the only statements with `Resource: "*"` (see the file comment). */
export const NetworkInterfacesSid = "NetworkInterfaces";

/** Services the router and the pollers reach through interface endpoints in a VPC we create. */
export const InterfaceEndpointServices = {
    /** Signing secrets (router), SCRAM secrets. */
    secretsManager: "secretsmanager",
    /** SQS lanes (router). */
    sqs: "sqs",
    /** The event source mapping's pollers invoke the worker... */
    lambda: "lambda",
    /** ...with its role. */
    sts: "sts",
} as const;

export type KafkaSettings = NonNullable<PipelineConfig["kafka"]>;

/**
 * Problems with a Kafka configuration that the config schema allows but a
 * deployment cannot do, each naming the path, the value and the fix.
 * Empty when the pipeline has no Kafka lane.
 */
export function kafkaDeploymentProblems(model: Pick<PipelineModel, "usesKafka" | "kafka">): string[] {
    if (!model.usesKafka) return [];
    const k = model.kafka ?? { mode: "msk-serverless" as const };
    const problems: string[] = [];
    if (k.mode === "msk-serverless") {
        if (k.sasl && k.sasl.mechanism !== "aws-iam") problems.push(`kafka.sasl.mechanism: MSK Serverless authenticates with IAM only, got ${k.sasl.mechanism} (remove kafka.sasl or set mechanism: aws-iam)`);
        if (k.tls === false) problems.push("kafka.tls: MSK Serverless always uses TLS, got false (remove kafka.tls)");
        if (k.subnetIds && !k.vpcId) problems.push("kafka.vpcId: is required with kafka.subnetIds (the security groups are created in that VPC)");
    } else {
        if (k.sasl?.mechanism === "aws-iam") problems.push("kafka.sasl.mechanism: aws-iam works with MSK only; Lambda's self-managed Kafka event source cannot use it (use mode: msk-serverless, or scram-sha-512 / scram-sha-256)");
        if (k.subnetIds && !k.securityGroupIds?.length) problems.push("kafka.securityGroupIds: is required with kafka.subnetIds in external mode (the groups that may reach your brokers)");
    }
    if (k.securityGroupIds && !k.subnetIds) problems.push("kafka.securityGroupIds: only applies together with kafka.subnetIds");
    return problems;
}

/** Exact IAM resource ARNs under an MSK cluster ARN (`arn:<p>:kafka:<r>:<a>:cluster/<name>/<uuid>`). */
export function mskArns(clusterArn: string): { cluster: string; topic(name: string): string; group(name: string): string } {
    const match = /^(arn:[^:]+:kafka:[^:]+:[^:]+:)cluster\/(.+)$/.exec(clusterArn);
    if (!match) throw new Error(`not an MSK cluster ARN: ${clusterArn}`);
    const [, prefix, rest] = match;
    return { cluster: clusterArn, topic: (name) => `${prefix}topic/${rest}/${name}`, group: (name) => `${prefix}group/${rest}/${name}` };
}

export interface KafkaVpcConfig {
    readonly subnetIds: pulumi.Input<string[]>;
    readonly securityGroupIds: pulumi.Input<string[]>;
}

/** What the rest of the pipeline uses from the Kafka resources. */
export interface KafkaResources {
    readonly mode: "msk-serverless" | "external";
    /** Where and how the router connects; read by the router at cold start. */
    readonly runtime: pulumi.Output<KafkaRuntime>;
    /** VPC config of the functions that connect to the brokers (the router); undefined when the brokers are public. */
    readonly routerVpc?: KafkaVpcConfig;
    /** The router's Kafka statements (connect, create and write the lane and DLQ topics, credentials, network interfaces). */
    readonly routerStatements: pulumi.Output<Statement[]>;
    /** A Kafka lane worker's statements for its event source mapping. */
    workerStatements(lane: LaneModel): pulumi.Output<Statement[]>;
    /** The event source mapping of a Kafka lane's worker. */
    mapping(name: string, lane: LaneModel): Omit<aws.lambda.EventSourceMappingArgs, "functionName">;
    readonly cluster?: aws.msk.ServerlessCluster;
    readonly vpc?: awsx.ec2.Vpc;
    readonly credentials?: aws.secretsmanager.Secret;
    /** Bootstrap brokers (stack output). */
    readonly bootstrapBrokers: pulumi.Output<string>;
}

function topicsOf(model: PipelineModel): string[] {
    return model.lanes.filter((l) => l.kind === "kafka").flatMap((l) => [l.topic!, deadLetterTopicOf(l.topic!)]);
}

/** The mapping settings both modes share: provisioned pollers, retries, partial batch responses, the DLQ topic. */
function mappingBase(name: string, lane: LaneModel): Omit<aws.lambda.EventSourceMappingArgs, "functionName"> {
    return {
        topics: [lane.topic!],
        // Nothing published before the mapping first polled is skipped.
        startingPosition: "TRIM_HORIZON",
        batchSize: lane.batchSize,
        // Retries, partial batch responses and a Kafka on-failure destination need provisioned mode.
        // One poller group per pipeline: its lanes share Event Poller Units.
        provisionedPollerConfig: { minimumPollers: 1, maximumPollers: lane.concurrency, pollerGroupName: fitName(`${name}-${pulumi.getStack()}-kafka`, NameLimits.pollerGroup) },
        functionResponseTypes: ["ReportBatchItemFailures"],
        // maxReceiveCount counts deliveries; Lambda counts retries after the first.
        maximumRetryAttempts: Math.max(0, lane.maxReceiveCount - 1),
        destinationConfig: { onFailure: { destinationArn: `kafka://${deadLetterTopicOf(lane.topic!)}` } },
        // Dead letters are counted by Lambda, not by our code: the Kafka event tells the function no attempt number,
        // and the mapping writes exhausted records to <topic>.dlq itself (monitoring.ts alarms on them; model/metrics.ts).
        metricsConfig: { metrics: [...EventSourceMappingMetrics.groups] },
        // A paused lane: the pollers stop, the records wait in the topic and the group keeps its offsets.
        enabled: !lane.paused,
    };
}

/** Create the Kafka resources for a pipeline with Kafka lanes (call only when `model.usesKafka`). */
export function createKafkaResources(name: string, model: PipelineModel, settings: KafkaSettings | undefined, parent: pulumi.Resource): KafkaResources {
    return (settings?.mode ?? "msk-serverless") === "external" ? createExternal(name, model, settings!, parent) : createMskServerless(name, model, settings ?? {}, parent);
}

function createMskServerless(name: string, model: PipelineModel, settings: KafkaSettings, parent: pulumi.Resource): KafkaResources {
    const opts = { parent };
    const base = childName(name, "kafka");
    const network = createNetwork(base, model, settings, parent);

    const cluster = new aws.msk.ServerlessCluster(base, {
        clusterName: fitName(`${name}-${stackNamePart(pulumi.getStack(), "alnum")}`, NameLimits.mskCluster),
        vpcConfigs: [{ subnetIds: network.subnetIds, securityGroupIds: [network.clusterSg.id] }],
        clientAuthentication: { sasl: { iam: { enabled: true } } },
    }, opts);

    const arns = cluster.arn.apply(mskArns);
    const topics = topicsOf(model);
    const routerSgs = pulumi.all([network.functionsSg.id, settings.securityGroupIds ?? []]).apply(([own, extra]) => [own, ...extra]);
    return {
        mode: "msk-serverless",
        cluster,
        vpc: network.vpc,
        runtime: cluster.bootstrapBrokersSaslIam.apply((brokers) => ({
            brokers: brokers.split(",").filter(Boolean),
            ssl: true,
            sasl: { mechanism: "aws-iam" as const },
            replicationFactor: KafkaDefaults.mskReplicationFactor,
        })),
        routerVpc: { subnetIds: network.subnetIds, securityGroupIds: routerSgs },
        routerStatements: arns.apply((a) => [
            allow(KafkaActions.produceCluster, a.cluster, "KafkaConnect"),
            allow(KafkaActions.produceTopic, topics.map(a.topic), "KafkaLaneTopics"),
            allow(KafkaActions.functionNetworkInterfaces, "*", NetworkInterfacesSid),
        ]),
        workerStatements: (lane) =>
            arns.apply((a) => [
                allow(KafkaActions.eventSourceDescribe, a.cluster, "KafkaEventSourceCluster"),
                allow(KafkaActions.eventSourceCluster, a.cluster, "KafkaEventSourceConnect"),
                allow(KafkaActions.eventSourceTopic, a.topic(lane.topic!), "KafkaEventSourceTopic"),
                allow(KafkaActions.eventSourceGroup, a.group(lambdaGroupOf(lane.topic!)), "KafkaEventSourceGroup"),
                allow(KafkaActions.eventSourceDeadLetters, a.topic(deadLetterTopicOf(lane.topic!)), "KafkaDeadLetters"),
                allow(KafkaActions.eventSourceNetworkInterfaces, "*", NetworkInterfacesSid),
            ]),
        mapping: (mappingName, lane) => ({
            ...mappingBase(mappingName, lane),
            eventSourceArn: cluster.arn,
            amazonManagedKafkaEventSourceConfig: { consumerGroupId: lambdaGroupOf(lane.topic!) },
        }),
        bootstrapBrokers: cluster.bootstrapBrokersSaslIam,
    };
}

interface Network {
    readonly vpc?: awsx.ec2.Vpc;
    readonly subnetIds: pulumi.Output<string[]>;
    readonly functionsSg: aws.ec2.SecurityGroup;
    readonly clusterSg: aws.ec2.SecurityGroup;
}

/** The VPC (ours or yours), the router's and the cluster's security groups, and, in our VPC, the endpoints. */
function createNetwork(base: string, model: PipelineModel, settings: KafkaSettings, parent: pulumi.Resource): Network {
    const opts = { parent };
    const vpc = settings.vpcId
        ? undefined
        : new awsx.ec2.Vpc(childName(base, "vpc"), {
              // Isolated subnets only: no internet gateway, no NAT; AWS services through endpoints.
              subnetStrategy: "Auto",
              subnetSpecs: [{ type: "Isolated", cidrMask: 20 }],
              natGateways: { strategy: "None" },
              numberOfAvailabilityZones: 3,
              enableDnsHostnames: true,
              enableDnsSupport: true,
          }, opts);
    const vpcId: pulumi.Output<string> = vpc ? vpc.vpcId : pulumi.output(settings.vpcId!);
    const subnetIds: pulumi.Output<string[]> = vpc ? vpc.isolatedSubnetIds : pulumi.output(settings.subnetIds!);

    const functionsSg = new aws.ec2.SecurityGroup(autoName(childName(base, "functions-sg"), NameLimits.securityGroup), { vpcId, description: "Functions that publish to Kafka (the webhook router)" }, opts);
    const clusterSg = new aws.ec2.SecurityGroup(autoName(childName(base, "cluster-sg"), NameLimits.securityGroup), { vpcId, description: "MSK Serverless cluster and Lambda's Kafka pollers" }, opts);
    const rule = (kind: "in" | "out", ruleName: string, args: Omit<aws.vpc.SecurityGroupIngressRuleArgs, "ipProtocol">) =>
        kind === "in"
            ? new aws.vpc.SecurityGroupIngressRule(childName(base, ruleName), { ipProtocol: "tcp", ...args }, opts)
            : new aws.vpc.SecurityGroupEgressRule(childName(base, ruleName), { ipProtocol: "tcp", ...args }, opts);
    const tcp = (port: number) => ({ fromPort: port, toPort: port });

    rule("in", "cluster-from-functions", { securityGroupId: clusterSg.id, referencedSecurityGroupId: functionsSg.id, ...tcp(MskIamPort), description: "Router to the brokers (IAM listener)" });
    rule("in", "cluster-from-pollers", { securityGroupId: clusterSg.id, referencedSecurityGroupId: clusterSg.id, ...tcp(MskIamPort), description: "Lambda's Kafka pollers (they use the cluster's security group)" });
    rule("out", "pollers-to-cluster", { securityGroupId: clusterSg.id, referencedSecurityGroupId: clusterSg.id, ...tcp(MskIamPort), description: "Lambda's Kafka pollers to the brokers" });
    rule("out", "functions-to-cluster", { securityGroupId: functionsSg.id, referencedSecurityGroupId: clusterSg.id, ...tcp(MskIamPort), description: "Router to the brokers" });

    if (!vpc) {
        // Your VPC reaches AWS services its own way (NAT or endpoints): allow HTTPS out, nothing else.
        rule("out", "functions-to-aws", { securityGroupId: functionsSg.id, cidrIpv4: "0.0.0.0/0", ...tcp(443), description: "Router to AWS APIs (S3, SQS, Secrets Manager) through your NAT or endpoints" });
        rule("out", "pollers-to-aws", { securityGroupId: clusterSg.id, cidrIpv4: "0.0.0.0/0", ...tcp(443), description: "Kafka pollers to Lambda and STS through your NAT or endpoints" });
        pulumi.log.warn(
            `kafka.vpcId ${settings.vpcId} is yours: no VPC endpoints are created in it. Its subnets must reach S3, Secrets Manager, Lambda, STS` +
                `${model.lanes.some((l) => l.kind === "sqs") ? " and SQS" : ""} (NAT gateway or VPC endpoints), or the router and the Kafka workers cannot run.`,
            parent,
        );
        return { subnetIds, functionsSg, clusterSg };
    }

    const endpointsSg = new aws.ec2.SecurityGroup(autoName(childName(base, "endpoints-sg"), NameLimits.securityGroup), { vpcId, description: "Interface VPC endpoints for the router and Lambda's Kafka pollers" }, opts);
    rule("in", "endpoints-from-functions", { securityGroupId: endpointsSg.id, referencedSecurityGroupId: functionsSg.id, ...tcp(443), description: "Router to AWS APIs" });
    rule("in", "endpoints-from-pollers", { securityGroupId: endpointsSg.id, referencedSecurityGroupId: clusterSg.id, ...tcp(443), description: "Kafka pollers to Lambda and STS" });
    rule("out", "functions-to-endpoints", { securityGroupId: functionsSg.id, referencedSecurityGroupId: endpointsSg.id, ...tcp(443), description: "Router to AWS APIs" });
    rule("out", "pollers-to-endpoints", { securityGroupId: clusterSg.id, referencedSecurityGroupId: endpointsSg.id, ...tcp(443), description: "Kafka pollers to Lambda and STS" });

    const region = aws.getRegionOutput({}, { parent }).region;
    const services = [
        InterfaceEndpointServices.secretsManager,
        ...(model.lanes.some((l) => l.kind === "sqs") ? [InterfaceEndpointServices.sqs] : []),
        InterfaceEndpointServices.lambda,
        InterfaceEndpointServices.sts,
    ];
    for (const service of services) {
        new aws.ec2.VpcEndpoint(childName(base, service, "endpoint"), {
            vpcId,
            serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds,
            securityGroupIds: [endpointsSg.id],
        }, opts);
    }
    // S3 (the archive) through a gateway endpoint: free, and the router's egress names its prefix list.
    const routeTables = aws.ec2.getRouteTablesOutput({ vpcId }, { parent });
    const s3 = new aws.ec2.VpcEndpoint(childName(base, "s3", "endpoint"), {
        vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: routeTables.ids,
    }, opts);
    rule("out", "functions-to-s3", { securityGroupId: functionsSg.id, prefixListId: s3.prefixListId, ...tcp(443), description: "Router to S3 (gateway endpoint)" });
    return { vpc, subnetIds, functionsSg, clusterSg };
}

function createExternal(name: string, model: PipelineModel, settings: KafkaSettings, parent: pulumi.Resource): KafkaResources {
    const opts = { parent };
    const base = childName(name, "kafka");
    const brokers = settings.brokers ?? [];
    const sasl = settings.sasl && settings.sasl.mechanism !== "aws-iam" ? settings.sasl : undefined;
    const credentials = sasl
        ? new aws.secretsmanager.Secret(autoName(childName(base, "credentials"), NameLimits.secret), { description: `SASL/SCRAM credentials for the Kafka brokers of pipeline ${name}: JSON {"username", "password"}`, recoveryWindowInDays: 7 }, opts)
        : undefined;
    if (credentials && sasl) {
        new aws.secretsmanager.SecretVersion(childName(base, "credentials-value"), {
            secretId: credentials.id,
            secretString: pulumi.secret(JSON.stringify({ username: sasl.username, password: sasl.password })),
        }, opts);
    }
    const vpc = settings.subnetIds ? { subnetIds: pulumi.output(settings.subnetIds), securityGroupIds: pulumi.output(settings.securityGroupIds ?? []) } : undefined;
    const credentialStatements = (): pulumi.Output<Statement[]> =>
        credentials ? credentials.arn.apply((arn) => [allow(KafkaActions.readSecret, arn, "ReadKafkaCredentials")]) : pulumi.output([] as Statement[]);
    const withNetwork = (statements: pulumi.Output<Statement[]>, actions: readonly string[]) => statements.apply((s) => (vpc ? [...s, allow(actions, "*", NetworkInterfacesSid)] : s));
    const saslType = sasl?.mechanism === "scram-sha-256" ? "SASL_SCRAM_256_AUTH" : "SASL_SCRAM_512_AUTH";
    return {
        mode: "external",
        credentials,
        runtime: pulumi.output(credentials ? credentials.arn : undefined).apply((secretId) => ({
            brokers,
            // SASL/SCRAM travels over TLS unless you say otherwise (Lambda's event source uses SASL_SSL).
            ssl: settings.tls ?? Boolean(sasl),
            ...(sasl && secretId ? { sasl: { mechanism: sasl.mechanism, secretId } } : {}),
            replicationFactor: settings.replicationFactor ?? KafkaDefaults.externalReplicationFactor,
        })),
        routerVpc: vpc,
        routerStatements: withNetwork(credentialStatements(), KafkaActions.functionNetworkInterfaces),
        workerStatements: () => withNetwork(credentialStatements(), KafkaActions.eventSourceNetworkInterfaces),
        mapping: (mappingName, lane) => ({
            ...mappingBase(mappingName, lane),
            selfManagedEventSource: { endpoints: { KAFKA_BOOTSTRAP_SERVERS: brokers.join(",") } },
            selfManagedKafkaEventSourceConfig: { consumerGroupId: lambdaGroupOf(lane.topic!) },
            sourceAccessConfigurations: pulumi
                .all([credentials?.arn, vpc?.subnetIds ?? [], vpc?.securityGroupIds ?? []])
                .apply(([secretArn, subnets, groups]) => [
                    ...(secretArn ? [{ type: saslType, uri: secretArn }] : []),
                    ...subnets.map((id) => ({ type: "VPC_SUBNET", uri: `subnet:${id}` })),
                    ...groups.map((id) => ({ type: "VPC_SECURITY_GROUP", uri: `security_group:${id}` })),
                ]),
        }),
        bootstrapBrokers: pulumi.output(brokers.join(",")),
    };
}
