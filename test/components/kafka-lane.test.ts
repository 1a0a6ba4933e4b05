/**
 * The Pulumi graph of a pipeline with a Kafka lane, under the mock runtime:
 * MSK Serverless in a VPC of its own (or brokers you run), the worker's Kafka
 * event source mapping, security groups and endpoints, least privilege, and
 * what the router and the Kafka worker would upload.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { WebhookPipeline, WebhookPipelineArgs } from "../../components";
import { kafkaDeploymentProblems, mskArns, NetworkInterfacesSid } from "../../components/kafka";
import { bundleOf, loadBundle, missingPackages, sdkClientsLoadedAtStart } from "../../scripts/bundles";
import { MockSession, plain, RecordedResource, settled, setupMocks, uploadedCode, valueOf } from "../../scripts/pulumi-mocks";
import { buildPipelineModel } from "../../model/pipeline";
import { parseConfig } from "../../model/config";
import { EventSourceMappingMetrics, WorkerMetrics, workerMetricDimensions } from "../../model/metrics";

/** Distinctive secrets: neither may appear in code or environment. */
const SIGNING = "whsec_KAFKA_LANE_SIGNING_must_not_leak_41c7";
const PASSWORD = "scram_KAFKA_PASSWORD_must_not_leak_93d2";

/** stripe's default lane is a Kafka lane (concurrency 4); its billing lane and github stay on SQS; invoices fan out to billing and the Kafka lane. */
function config(kafka: WebhookPipelineArgs["kafka"]): WebhookPipelineArgs {
    return {
        providers: [
            { name: "stripe", plugin: "stripe", secret: SIGNING, lane: "kafka", concurrency: 4, maxReceiveCount: 5, routes: { "invoice.*": ["billing", "default"] }, lanes: { billing: { lane: "sqs", concurrency: 2 } } },
            { name: "github", plugin: "github", secret: SIGNING },
        ],
        kafka,
    };
}

interface Graph {
    session: MockSession;
    pipeline: WebhookPipeline;
    mine(type: string): RecordedResource[];
    one(type: string, name: string): RecordedResource;
    policy(name: string): { Sid?: string; Action: string[]; Resource: string | string[] }[];
}

/** Create the component under fresh mocks and wait until every function is serialized. */
async function synthesize(prefix: string, kafka: WebhookPipelineArgs["kafka"]): Promise<Graph> {
    const session = await setupMocks();
    const { WebhookPipeline } = await import("../../components");
    const pipeline = new WebhookPipeline(prefix, config(kafka));
    await valueOf(pipeline.webhookUrls);
    const mine = (type: string) => session.byType(type).filter((r) => r.name.startsWith(`${prefix}-`));
    await Promise.all(mine("aws:lambda/function:Function").map((f) => uploadedCode(f)));
    await settled();
    const one = (type: string, name: string) => {
        const found = mine(type).filter((r) => r.name === name);
        expect(found, `${type} ${name}`).to.have.length(1);
        return found[0];
    };
    const policy = (name: string) => JSON.parse(one("aws:iam/rolePolicy:RolePolicy", name).inputs.policy).Statement;
    return { session, pipeline, mine, one, policy };
}

function expectLeastPrivilege(graph: Graph) {
    for (const p of graph.mine("aws:iam/rolePolicy:RolePolicy")) {
        for (const s of JSON.parse(p.inputs.policy).Statement as { Sid?: string; Action: string | string[]; Resource: string | string[] }[]) {
            for (const action of ([] as string[]).concat(s.Action)) expect(action, `${p.name}: ${action}`).to.not.match(/\*/);
            const resources = ([] as string[]).concat(s.Resource);
            expect(resources.length, `${p.name} ${s.Sid}: empty Resource`).to.be.above(0);
            if (resources.includes("*")) expect(s.Sid, `${p.name}: Resource "*" outside the network-interface statement`).to.equal(NetworkInterfacesSid);
            // Otherwise the only wildcards are S3 object prefixes (arn:aws:s3:::bucket/claims/github/*) and the function's own log streams.
            else for (const r of resources) if (r.includes("*")) expect(r, `${p.name} ${s.Sid}`).to.match(/^arn:aws:s3:::[^/*]+\/[^*]+\/\*$|^arn:aws:logs:[^*]+:log-group:[^*]+:\*$/);
        }
    }
}

describe("Kafka lane: MSK Serverless (mocks)", function () {
    this.timeout(120_000);
    let g: Graph;
    const clusterArn = "arn:aws:kafka:us-east-1:123456789012:cluster/kl-test/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-s1";
    const topicArn = (topic: string) => `arn:aws:kafka:us-east-1:123456789012:topic/kl-test/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-s1/${topic}`;

    before(async () => {
        g = await synthesize("kl", undefined);
    });

    it("GIVEN no kafka settings THEN one MSK Serverless cluster with IAM auth sits in the isolated subnets of a new awsx VPC without NAT", () => {
        const vpc = g.one("awsx:ec2:Vpc", "kl-kafka-vpc");
        expect(vpc.inputs.natGateways).to.deep.equal({ strategy: "None" });
        expect(vpc.inputs.subnetSpecs).to.deep.equal([{ type: "Isolated", cidrMask: 20 }]);
        const cluster = g.one("aws:msk/serverlessCluster:ServerlessCluster", "kl-kafka");
        expect(cluster.inputs.clusterName).to.equal("kl-test");
        expect(cluster.inputs.clientAuthentication).to.deep.equal({ sasl: { iam: { enabled: true } } });
        expect(cluster.inputs.vpcConfigs).to.deep.equal([{ subnetIds: ["subnet-kl-kafka-vpc-isolated-a", "subnet-kl-kafka-vpc-isolated-b", "subnet-kl-kafka-vpc-isolated-c"], securityGroupIds: ["kl-kafka-cluster-sg-id"] }]);
    });

    it("THEN the security groups admit exactly the router and Lambda's pollers to the brokers on 9098, and HTTPS to the endpoints", () => {
        expect(g.mine("aws:ec2/securityGroup:SecurityGroup").map((s) => s.name).sort()).to.deep.equal(["kl-kafka-cluster-sg", "kl-kafka-endpoints-sg", "kl-kafka-functions-sg"]);
        const rules = [...g.mine("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), ...g.mine("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")]
            .map((r) => [r.name.replace("kl-kafka-", ""), r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId ?? r.inputs.prefixListId ?? r.inputs.cidrIpv4, r.inputs.fromPort, r.inputs.toPort, r.inputs.ipProtocol])
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        expect(rules).to.deep.equal([
            ["cluster-from-functions", "kl-kafka-cluster-sg-id", "kl-kafka-functions-sg-id", 9098, 9098, "tcp"],
            ["cluster-from-pollers", "kl-kafka-cluster-sg-id", "kl-kafka-cluster-sg-id", 9098, 9098, "tcp"],
            ["endpoints-from-functions", "kl-kafka-endpoints-sg-id", "kl-kafka-functions-sg-id", 443, 443, "tcp"],
            ["endpoints-from-pollers", "kl-kafka-endpoints-sg-id", "kl-kafka-cluster-sg-id", 443, 443, "tcp"],
            ["functions-to-cluster", "kl-kafka-functions-sg-id", "kl-kafka-cluster-sg-id", 9098, 9098, "tcp"],
            ["functions-to-endpoints", "kl-kafka-functions-sg-id", "kl-kafka-endpoints-sg-id", 443, 443, "tcp"],
            ["functions-to-s3", "kl-kafka-functions-sg-id", "pl-63a5400a", 443, 443, "tcp"],
            ["pollers-to-cluster", "kl-kafka-cluster-sg-id", "kl-kafka-cluster-sg-id", 9098, 9098, "tcp"],
            ["pollers-to-endpoints", "kl-kafka-cluster-sg-id", "kl-kafka-endpoints-sg-id", 443, 443, "tcp"],
        ]);
    });

    it("THEN the VPC has interface endpoints for Secrets Manager, SQS, Lambda and STS, and an S3 gateway endpoint on its route tables", () => {
        const endpoints = g.mine("aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => [e.inputs.serviceName, e.inputs.vpcEndpointType, e.inputs.privateDnsEnabled ?? null]);
        expect(endpoints.sort()).to.deep.equal(
            [
                ["com.amazonaws.us-east-1.lambda", "Interface", true],
                ["com.amazonaws.us-east-1.s3", "Gateway", null],
                ["com.amazonaws.us-east-1.secretsmanager", "Interface", true],
                ["com.amazonaws.us-east-1.sqs", "Interface", true],
                ["com.amazonaws.us-east-1.sts", "Interface", true],
            ].sort(),
        );
        expect(g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "kl-kafka-s3-endpoint").inputs.routeTableIds).to.deep.equal(["rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002", "rtb-0a1b2c3d4e5f60003"]);
        expect(g.one("aws:ec2/vpcEndpoint:VpcEndpoint", "kl-kafka-sts-endpoint").inputs.securityGroupIds).to.deep.equal(["kl-kafka-endpoints-sg-id"]);
    });

    it("THEN the router runs in those subnets with the functions' security group; the workers run outside the VPC", () => {
        expect(g.one("aws:lambda/function:Function", "kl-router-fn").inputs.vpcConfig).to.deep.equal({
            subnetIds: ["subnet-kl-kafka-vpc-isolated-a", "subnet-kl-kafka-vpc-isolated-b", "subnet-kl-kafka-vpc-isolated-c"],
            securityGroupIds: ["kl-kafka-functions-sg-id"],
        });
        for (const worker of ["kl-stripe-default-worker-fn", "kl-stripe-billing-worker-fn", "kl-github-default-worker-fn"]) {
            expect(g.one("aws:lambda/function:Function", worker).inputs.vpcConfig, worker).to.equal(undefined);
        }
    });

    it("THEN the Kafka lane has no queue, and its worker has a provisioned Kafka event source mapping on the cluster: its topic, its group, retries then <topic>.dlq", () => {
        expect(g.mine("aws:sqs/queue:Queue").map((q) => q.name).sort()).to.deep.equal([
            "kl-catch-all-dlq",
            "kl-catch-all-queue",
            "kl-github-default-dlq",
            "kl-github-default-queue",
            "kl-stripe-billing-dlq",
            "kl-stripe-billing-queue",
        ]);
        const mapping = g.one("aws:lambda/eventSourceMapping:EventSourceMapping", "kl-stripe-default-worker-trigger").inputs;
        expect(mapping).to.deep.include({
            eventSourceArn: clusterArn,
            topics: ["kl.stripe.default"],
            startingPosition: "TRIM_HORIZON",
            batchSize: 10,
            amazonManagedKafkaEventSourceConfig: { consumerGroupId: "kl.stripe.default.lambda" },
            provisionedPollerConfig: { minimumPollers: 1, maximumPollers: 4, pollerGroupName: "kl-test-kafka" },
            functionResponseTypes: ["ReportBatchItemFailures"],
            maximumRetryAttempts: 4,
            destinationConfig: { onFailure: { destinationArn: "kafka://kl.stripe.default.dlq" } },
            metricsConfig: { metrics: ["EventCount", "ErrorCount"] },
        });
        expect(mapping.scalingConfig).to.equal(undefined);
        expect(mapping.functionName).to.match(/kl-stripe-default-worker-fn/);
        expect(g.mine("aws:lambda/eventSourceMapping:EventSourceMapping")).to.have.length(4); // router, 2 SQS workers, 1 Kafka worker
    });

    it("THEN no statement has a wildcard action, and Resource \"*\" appears only in the network-interface statement", () => {
        expectLeastPrivilege(g);
    });

    it("THEN the router may connect, create, grow and write exactly its lane and DLQ topics", () => {
        const bySid = Object.fromEntries(g.policy("kl-router-policy").map((s) => [s.Sid, s]));
        expect(Object.keys(bySid).sort()).to.deep.equal(["ConsumeCatchAll", "KafkaConnect", "KafkaLaneTopics", NetworkInterfacesSid, "OwnLogs", "ReadIngressClaimChecks", "ReadInternalKey", "ReadSigningSecrets", "SendToLanes", "WriteArchive"]);
        expect(bySid.KafkaConnect).to.deep.include({ Action: ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"], Resource: clusterArn });
        expect(bySid.KafkaLaneTopics).to.deep.include({
            Action: ["kafka-cluster:AlterTopic", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
            Resource: [topicArn("kl.stripe.default"), topicArn("kl.stripe.default.dlq")],
        });
        expect(bySid.SendToLanes.Resource).to.have.length(2);
        expect(bySid[NetworkInterfacesSid].Action).to.deep.equal(["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"]);
    });

    it("THEN the router's uploaded code routes the fan-out route to the SQS lane and the Kafka lane, and its policy reaches both: the billing queue and the lane topic", async () => {
        // The router's runtime config (routes and lanes) is serialized into its code, one variable per value.
        const { indexJs } = await uploadedCode(g.one("aws:lambda/function:Function", "kl-router-fn"));
        expect(indexJs).to.match(/__routerConfig_value_providers_stripe_routes_0\.pattern = "invoice\.\*";/);
        expect(indexJs).to.match(/__routerConfig_value_providers_stripe_routes_0_targets = \["stripe-billing", "stripe-default"\];/);
        const bySid = Object.fromEntries(g.policy("kl-router-policy").map((s) => [s.Sid, s]));
        const billingQueueArn = g.mine("aws:sqs/queue:Queue").find((q) => q.name === "kl-stripe-billing-queue")!.state.arn;
        expect(bySid.SendToLanes.Resource).to.include(billingQueueArn);
        expect(bySid.KafkaLaneTopics.Resource).to.include(topicArn("kl.stripe.default"));
    });

    it("THEN the Kafka worker may read its topic as its group, write its DLQ topic, and nothing on SQS", () => {
        const bySid = Object.fromEntries(g.policy("kl-stripe-default-worker-policy").map((s) => [s.Sid, s]));
        expect(Object.keys(bySid).sort()).to.deep.equal(["Idempotency", "KafkaDeadLetters", "KafkaEventSourceCluster", "KafkaEventSourceConnect", "KafkaEventSourceGroup", "KafkaEventSourceTopic", NetworkInterfacesSid, "OwnLogs", "ReadClaimChecks"]);
        expect(bySid.KafkaEventSourceCluster).to.deep.include({ Action: ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], Resource: clusterArn });
        expect(bySid.KafkaEventSourceConnect).to.deep.include({ Action: ["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"], Resource: clusterArn });
        expect(bySid.KafkaEventSourceTopic).to.deep.include({ Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"], Resource: topicArn("kl.stripe.default") });
        expect(bySid.KafkaEventSourceGroup).to.deep.include({
            Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
            Resource: "arn:aws:kafka:us-east-1:123456789012:group/kl-test/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-s1/kl.stripe.default.lambda",
        });
        expect(bySid.KafkaDeadLetters).to.deep.include({ Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"], Resource: topicArn("kl.stripe.default.dlq") });
        expect(bySid[NetworkInterfacesSid].Action).to.deep.equal(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]);
    });

    it("THEN the router's and the Kafka worker's uploaded code loads; kafkajs is in the router's zip only; every zip stays under 1 MB but the MSK router's (under 1.2 MB)", async () => {
        const fns = g.mine("aws:lambda/function:Function");
        expect(fns.map((f) => f.name).sort()).to.deep.equal(["kl-github-default-worker-fn", "kl-router-fn", "kl-stripe-billing-worker-fn", "kl-stripe-default-worker-fn"]);
        for (const fn of fns) {
            const bundle = await bundleOf(fn);
            expect(missingPackages(bundle), fn.name).to.deep.equal([]);
            // The MSK router carries kafkajs and AWS's MSK IAM signer with the SDK packages it loads (STS, the credential chain):
            // about 1.03 MB, over the project's 1 MB goal (bench max_zip_bytes) and far under Lambda's 50 MB for a zip.
            expect(bundle.zipBytes, fn.name).to.be.below(fn.name === "kl-router-fn" ? 1_200_000 : 1_000_000);
            const hasKafkajs = bundle.paths.some((p) => p.includes("kafkajs"));
            expect(hasKafkajs, `${fn.name}: ${bundle.paths.join(",")}`).to.equal(fn.name === "kl-router-fn");
            expect(bundle.indexJs.includes("KAFKA_LANE_SIGNING"), fn.name).to.equal(false);
            if (fn.name === "kl-router-fn" || fn.name === "kl-stripe-default-worker-fn") expect(loadBundle(bundle), fn.name).to.be.a("function");
            // S3 is needed only for claim-checked bodies: a Kafka worker's cold start must not load its client.
            if (fn.name === "kl-stripe-default-worker-fn") expect(sdkClientsLoadedAtStart(bundle), fn.name).to.deep.equal(["@aws-sdk/client-dynamodb"]);
        }
        const router = await bundleOf(g.one("aws:lambda/function:Function", "kl-router-fn"));
        expect(router.indexJs).to.include("boot-mock1234.c2.kafka-serverless.us-east-1.amazonaws.com:9098");
        expect(router.indexJs).to.match(/require\("kafkajs(\/index\.js)?"\)/);
        console.log(`      [kafka] router zip with kafkajs: ${(router.zipBytes / 1024).toFixed(0)} KiB`);
    });

    it("THEN the router's zip carries AWS's MSK IAM signer with the SDK packages it loads, and laid out as Lambda runs it (the zip in /var/task, nothing from the runtime) it signs a token", async () => {
        // Prepare: the zip's files in a task folder; an empty runtime folder (NODE_PATH, as Lambda sets it): the zip relies on the runtime for nothing
        const router = await bundleOf(g.one("aws:lambda/function:Function", "kl-router-fn"));
        const posix = router.paths.map((p) => p.split(path.sep).join("/"));
        expect(posix.some((p) => p.startsWith("node_modules/aws-msk-iam-sasl-signer-js/")), "the signer is in the zip").to.equal(true);
        for (const sdk of ["@aws-sdk/client-sts", "@aws-sdk/credential-providers", "@aws-sdk/util-format-url"]) expect(posix.some((p) => p.startsWith(`node_modules/${sdk}/`)), sdk).to.equal(true);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-lambda-"));
        try {
            const task = path.join(dir, "task");
            for (const p of router.paths) fs.cpSync(path.resolve(p), path.join(task, p), { recursive: true, dereference: true });
            fs.writeFileSync(path.join(task, "__index.js"), router.indexJs);
            fs.mkdirSync(path.join(dir, "runtime", "node_modules"), { recursive: true });
            const script = [
                "const task = process.cwd();",
                "const handler = require(task + '/__index.js').handler;",
                "const signer = require.resolve('aws-msk-iam-sasl-signer-js', { paths: [task] });",
                "require(signer).generateAuthTokenFromCredentialsProvider({ region: 'us-east-1', awsCredentialsProvider: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }) })",
                "  .then((t) => process.stdout.write(JSON.stringify({ handler: typeof handler, signer, token: t.token })));",
            ].join("\n");

            // Act
            const out = execFileSync(process.execPath, ["-e", script], { cwd: task, encoding: "utf8", env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(dir, "runtime", "node_modules"), AWS_REGION: "us-east-1", NODE_NO_WARNINGS: "1", POWERTOOLS_LOG_LEVEL: "ERROR" } });

            // Assess
            const { handler, signer, token } = JSON.parse(out) as { handler: string; signer: string; token: string };
            expect(handler).to.equal("function");
            expect(signer.startsWith(fs.realpathSync(task))).to.equal(true);
            const url = new URL(Buffer.from(token, "base64url").toString("utf8"));
            expect(url.host).to.equal("kafka.us-east-1.amazonaws.com");
            expect(url.searchParams.get("Action")).to.equal("kafka-cluster:Connect");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("THEN the Kafka lane alarms on handler failures (exactly the worker's metric), on records its mapping sent to <topic>.dlq, and on records it could not write there; its Errors alarm stays", () => {
        const alarm = (name: string) => g.one("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs;
        const common = { statistic: "Sum", threshold: 0, comparisonOperator: "GreaterThanThreshold", treatMissingData: "notBreaching" };
        expect(alarm("kl-stripe-default-failures-alarm")).to.deep.include({
            ...common,
            namespace: WorkerMetrics.namespace,
            metricName: WorkerMetrics.names.handlerFailures,
            dimensions: workerMetricDimensions({ lane: "stripe-default", provider: "stripe" }),
        });
        expect(alarm("kl-stripe-default-failures-alarm").dimensions).to.deep.equal({ service: "worker", lane: "stripe-default", provider: "stripe" });
        // Lambda counts the mapping's dead letters under its UUID (the mock gives "<resource name>-uuid").
        const mappingUuid = { [EventSourceMappingMetrics.dimension]: "kl-stripe-default-worker-trigger-uuid" };
        expect(alarm("kl-stripe-default-dead-letter-alarm")).to.deep.include({ ...common, namespace: "AWS/Lambda", metricName: "OnFailureDestinationDeliveredEventCount", dimensions: mappingUuid });
        expect(alarm("kl-stripe-default-dead-letter-errors-alarm")).to.deep.include({ ...common, namespace: "AWS/Lambda", metricName: "OnFailureDestinationDeliveryErrorCount", dimensions: mappingUuid });
        expect(alarm("kl-stripe-default-dead-letter-alarm").alarmDescription).to.include("kl.stripe.default.dlq");
        expect(alarm("kl-stripe-default-errors-alarm")).to.deep.include({ namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "kl-stripe-default-worker-fn-abc1234" } });
        // The SQS lanes of the same pipeline have theirs too.
        for (const lane of ["github-default", "stripe-billing"]) expect(alarm(`kl-${lane}-failures-alarm`).dimensions).to.deep.equal(workerMetricDimensions({ lane, provider: lane.split("-")[0] }));
    });

    it("THEN the dashboard charts the Kafka lane's worker beside the SQS lanes", () => {
        const body = JSON.parse(plain<string>(g.one("aws:cloudwatch/dashboard:Dashboard", "kl-dashboard").inputs.dashboardBody)) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
        const titles = body.widgets.map((w) => w.properties.title);
        expect(titles).to.include.members(["catch-all", "github-default", "stripe-billing", "stripe-default worker (Kafka, topic kl.stripe.default)"]);
        const kafkaWorker = body.widgets.find((w) => w.properties.title.startsWith("stripe-default worker"))!;
        expect(JSON.stringify(kafkaWorker.properties.metrics)).to.match(/"Errors","FunctionName","kl-stripe-default-worker-fn/);
        // The failures series names the same metric and dimensions as the alarm.
        expect(kafkaWorker.properties.metrics).to.deep.include(["WebhookPipeline", "HandlerFailures", "service", "worker", "lane", "stripe-default", "provider", "stripe", { label: "handler failures" }]);
    });

    it("THEN the pipeline outputs name the lane's topic and the bootstrap brokers", async () => {
        expect(await valueOf(g.pipeline.kafkaTopics)).to.deep.equal({ "stripe-default": "kl.stripe.default" });
        expect(await valueOf(g.pipeline.kafkaBootstrapBrokers!)).to.equal("boot-mock1234.c2.kafka-serverless.us-east-1.amazonaws.com:9098");
        expect(Object.keys(await valueOf(g.pipeline.queueUrls)).sort()).to.deep.equal(["catch-all", "github-default", "stripe-billing"]);
    });
});

describe("Kafka lane: MSK Serverless in your VPC (mocks)", function () {
    this.timeout(120_000);

    it("GIVEN vpcId and subnetIds THEN no VPC and no endpoints are created, and the router and the cluster use your subnets", async () => {
        const g = await synthesize("ky", { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-aaa", "subnet-bbb"], securityGroupIds: ["sg-extra"] });
        expect(g.mine("awsx:ec2:Vpc")).to.deep.equal([]);
        expect(g.mine("aws:ec2/vpcEndpoint:VpcEndpoint")).to.deep.equal([]);
        expect(g.one("aws:msk/serverlessCluster:ServerlessCluster", "ky-kafka").inputs.vpcConfigs[0].subnetIds).to.deep.equal(["subnet-aaa", "subnet-bbb"]);
        expect(g.one("aws:lambda/function:Function", "ky-router-fn").inputs.vpcConfig).to.deep.equal({ subnetIds: ["subnet-aaa", "subnet-bbb"], securityGroupIds: ["ky-kafka-functions-sg-id", "sg-extra"] });
        expect(g.mine("aws:ec2/securityGroup:SecurityGroup").map((s) => s.inputs.vpcId)).to.deep.equal(["vpc-0123456789abcdef0", "vpc-0123456789abcdef0"]);
        expectLeastPrivilege(g);
    });
});

describe("Kafka lane: brokers you run (mocks)", function () {
    this.timeout(120_000);
    let g: Graph;

    before(async () => {
        g = await synthesize("kx", {
            mode: "external",
            brokers: ["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"],
            sasl: { mechanism: "scram-sha-512", username: "pipeline", password: PASSWORD },
            subnetIds: ["subnet-111", "subnet-222"],
            securityGroupIds: ["sg-brokers"],
        });
    });

    it("GIVEN external brokers with SCRAM THEN the credentials are a Secrets Manager secret holding a Pulumi secret, and no cluster, VPC or security group is created", () => {
        expect(g.mine("aws:msk/serverlessCluster:ServerlessCluster")).to.deep.equal([]);
        expect(g.mine("awsx:ec2:Vpc")).to.deep.equal([]);
        expect(g.mine("aws:ec2/securityGroup:SecurityGroup")).to.deep.equal([]);
        g.one("aws:secretsmanager/secret:Secret", "kx-kafka-credentials");
        const value = g.one("aws:secretsmanager/secretVersion:SecretVersion", "kx-kafka-credentials-value").inputs.secretString;
        expect(value).to.have.property("4dabf18193072939515e22adb298388d"); // a secret, as the engine sees it
        expect(JSON.parse(plain<string>(value))).to.deep.equal({ username: "pipeline", password: PASSWORD });
    });

    it("THEN the worker's mapping is a self-managed Kafka event source with the SCRAM secret and your subnets and security groups", () => {
        const mapping = g.one("aws:lambda/eventSourceMapping:EventSourceMapping", "kx-stripe-default-worker-trigger").inputs;
        expect(mapping.eventSourceArn).to.equal(undefined);
        expect(mapping).to.deep.include({
            selfManagedEventSource: { endpoints: { KAFKA_BOOTSTRAP_SERVERS: "b-1.kafka.example.com:9096,b-2.kafka.example.com:9096" } },
            selfManagedKafkaEventSourceConfig: { consumerGroupId: "kx.stripe.default.lambda" },
            topics: ["kx.stripe.default"],
            startingPosition: "TRIM_HORIZON",
            maximumRetryAttempts: 4,
            destinationConfig: { onFailure: { destinationArn: "kafka://kx.stripe.default.dlq" } },
        });
        expect(mapping.sourceAccessConfigurations).to.deep.equal([
            { type: "SASL_SCRAM_512_AUTH", uri: "arn:aws:secretsmanager:us-east-1:123456789012:secret:kx-kafka-credentials-abc1234-AbCdEf" },
            { type: "VPC_SUBNET", uri: "subnet:subnet-111" },
            { type: "VPC_SUBNET", uri: "subnet:subnet-222" },
            { type: "VPC_SECURITY_GROUP", uri: "security_group:sg-brokers" },
        ]);
    });

    it("THEN the router runs in your subnets and may read exactly the SCRAM secret; the password is in no code or environment", async () => {
        expect(g.one("aws:lambda/function:Function", "kx-router-fn").inputs.vpcConfig).to.deep.equal({ subnetIds: ["subnet-111", "subnet-222"], securityGroupIds: ["sg-brokers"] });
        const bySid = Object.fromEntries(g.policy("kx-router-policy").map((s) => [s.Sid, s]));
        expect(bySid.ReadKafkaCredentials).to.deep.include({ Action: ["secretsmanager:GetSecretValue"], Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:kx-kafka-credentials-abc1234-AbCdEf" });
        expect(Object.fromEntries(g.policy("kx-stripe-default-worker-policy").map((s) => [s.Sid, s])).ReadKafkaCredentials).to.not.equal(undefined);
        expectLeastPrivilege(g);
        for (const fn of g.mine("aws:lambda/function:Function")) {
            const { indexJs } = await uploadedCode(fn);
            expect(indexJs.includes("KAFKA_PASSWORD"), `${fn.name} code`).to.equal(false);
            expect(JSON.stringify(fn.inputs.environment ?? {}).includes("KAFKA_PASSWORD"), `${fn.name} env`).to.equal(false);
        }
        const router = await bundleOf(g.one("aws:lambda/function:Function", "kx-router-fn"));
        expect(router.indexJs).to.include("scram-sha-512");
        expect(loadBundle(router)).to.be.a("function");
    });
});

describe("Kafka lane: two stacks on one cluster (mocks)", function () {
    this.timeout(120_000);

    it("GIVEN kafka.topicPrefix and kafka.replicationFactor THEN topics, consumer group and the router's topic creation use them", async () => {
        const g = await synthesize("kp", { mode: "external", brokers: ["b-1.kafka.example.com:9092"], topicPrefix: "webhooks-prod", replicationFactor: 3 });
        const mapping = g.one("aws:lambda/eventSourceMapping:EventSourceMapping", "kp-stripe-default-worker-trigger").inputs;
        expect(mapping).to.deep.include({ topics: ["webhooks-prod.stripe.default"], selfManagedKafkaEventSourceConfig: { consumerGroupId: "webhooks-prod.stripe.default.lambda" } });
        expect(await valueOf(g.pipeline.kafkaTopics)).to.deep.equal({ "stripe-default": "webhooks-prod.stripe.default" });
        const router = await bundleOf(g.one("aws:lambda/function:Function", "kp-router-fn"));
        expect(router.indexJs).to.match(/replicationFactor["']?\s*[:=]\s*3\b/);
        expect(router.indexJs).to.include("webhooks-prod.stripe.default");
    });
});

describe("Kafka deployment validation", () => {
    const model = (kafka: unknown) => buildPipelineModel(parseConfig({ providers: [{ name: "a", plugin: "github", lane: "kafka" }], kafka }));

    it("GIVEN a valid setup of either mode THEN there is no problem", () => {
        expect(kafkaDeploymentProblems(model(undefined))).to.deep.equal([]);
        expect(kafkaDeploymentProblems(model({ mode: "external", brokers: ["k:9092"], sasl: { mechanism: "scram-sha-256", username: "u", password: "p" } }))).to.deep.equal([]);
        expect(kafkaDeploymentProblems(buildPipelineModel(parseConfig({ providers: [{ name: "a", plugin: "github" }], kafka: { mode: "external", brokers: ["k:9092"], sasl: { mechanism: "aws-iam" } } })))).to.deep.equal([]);
    });

    it("GIVEN settings a deployment cannot honour THEN every problem is listed with its path and fix", () => {
        expect(kafkaDeploymentProblems(model({ sasl: { mechanism: "scram-sha-512", username: "u", password: "p" }, tls: false, vpcId: "vpc-1", subnetIds: ["s-1", "s-2"] }))).to.deep.equal([
            "kafka.sasl.mechanism: MSK Serverless authenticates with IAM only, got scram-sha-512 (remove kafka.sasl or set mechanism: aws-iam)",
            "kafka.tls: MSK Serverless always uses TLS, got false (remove kafka.tls)",
        ]);
        expect(kafkaDeploymentProblems(model({ mode: "external", brokers: ["k:9092"], sasl: { mechanism: "aws-iam" }, subnetIds: ["s-1", "s-2"] }))).to.deep.equal([
            "kafka.sasl.mechanism: aws-iam works with MSK only; Lambda's self-managed Kafka event source cannot use it (use mode: msk-serverless, or scram-sha-512 / scram-sha-256)",
            "kafka.securityGroupIds: is required with kafka.subnetIds in external mode (the groups that may reach your brokers)",
        ]);
        expect(kafkaDeploymentProblems(model({ subnetIds: ["s-1", "s-2"] }))).to.deep.equal(["kafka.vpcId: is required with kafka.subnetIds (the security groups are created in that VPC)"]);
        expect(kafkaDeploymentProblems(model({ securityGroupIds: ["sg-1"] }))).to.deep.equal(["kafka.securityGroupIds: only applies together with kafka.subnetIds"]);
    });

    it("GIVEN an MSK cluster ARN THEN topic and group ARNs are exact", () => {
        const arns = mskArns("arn:aws:kafka:eu-west-1:111122223333:cluster/webhooks-prod/abcd-1234-s2");
        expect(arns.topic("webhooks.stripe.default")).to.equal("arn:aws:kafka:eu-west-1:111122223333:topic/webhooks-prod/abcd-1234-s2/webhooks.stripe.default");
        expect(arns.group("webhooks.stripe.default.lambda")).to.equal("arn:aws:kafka:eu-west-1:111122223333:group/webhooks-prod/abcd-1234-s2/webhooks.stripe.default.lambda");
        expect(() => mskArns("arn:aws:sqs:us-east-1:1:q")).to.throw("not an MSK cluster ARN");
    });

    it("GIVEN a component with a setup it cannot deploy THEN it throws one ResourceError listing the problems", async () => {
        await setupMocks();
        const { WebhookPipeline } = await import("../../components");
        expect(() => new WebhookPipeline("kbad", config({ mode: "external", brokers: ["k:9092"], sasl: { mechanism: "aws-iam" } }))).to.throw(pulumi.ResourceError, "kafka.sasl.mechanism: aws-iam works with MSK only");
    });
});
