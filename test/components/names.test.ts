/**
 * Every child's final name (Pulumi's random suffix included) fits what AWS
 * accepts, for the longest names validation allows; names that already fit
 * are the ones deployed today (names are permanent: only names AWS would
 * refuse may change).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { WebhookPipelineArgs } from "../../components";
import { validateConfig } from "../../model/config";
import { Limits } from "../../model/constants";
import { pipelineNameProblems } from "../../components/naming";
import { RecordedResource, settled, setupMocks, uploadedCode, valueOf } from "../../scripts/pulumi-mocks";
import { nameListing, physicalNames } from "../support/names";

/** Pulumi stack and project names: up to 100 alphanumerics, '-', '_' and '.' (pulumi/pulumi sdk/go/common/tokens: ValidateProjectName, and stack name validation in the CLI). */
const PulumiNameMax = 100;
const longestStack = "prod.eu-central_1-".repeat(6).slice(0, PulumiNameMax);
const longestProject = "platform-webhook-ingestion.".repeat(4).slice(0, PulumiNameMax);

const longestPipeline = (last: string) => `payments-platform-webhook-pipeline-${"x".repeat(Limits.maxPipelineNameLength - 37)}-${last}`;
const providerA = "acme-payments-eu-central";
const providerB = "slack-workspace-eu-north";
const laneFifo = "priority-billing";
const laneKafka = "kafka-stream-one";
const laneOther = "ordered-accounts";

/** SQS lanes (one FIFO), a Kafka lane on MSK Serverless in a VPC of its own, an ingress function, alarms to a topic. */
function mskPipeline(): WebhookPipelineArgs {
    return {
        providers: [
            {
                name: providerA,
                plugin: "stripe",
                secret: "whsec_names",
                routes: { "invoice.*": laneFifo, "charge.*": laneKafka },
                lanes: { [laneFifo]: { ordering: true, batchSize: 10 }, [laneKafka]: { lane: "kafka" } },
            },
            { name: providerB, plugin: "slack", secret: "slack-names", lanes: { [laneOther]: { ordering: true } } },
        ],
        kafka: {},
        alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:webhook-alarms",
    };
}

/** Brokers you run, with SCRAM credentials (a secret of ours) and a VPC of yours. */
function externalPipeline(): WebhookPipelineArgs {
    return {
        providers: [{ name: providerA, plugin: "github", secret: "gh-names", lane: "kafka", lanes: { [laneFifo]: { lane: "sqs", ordering: true } } }],
        kafka: { mode: "external", brokers: ["b-1.kafka.internal:9096"], sasl: { mechanism: "scram-sha-512", username: "webhooks", password: "scram-names" }, subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-0123"] },
    };
}

async function graph(stack: string, project: string, build: (create: (name: string, args: WebhookPipelineArgs) => void) => void): Promise<RecordedResource[]> {
    const session = await setupMocks({ stack, project });
    const { WebhookPipeline } = await import("../../components");
    const pipelines: InstanceType<typeof WebhookPipeline>[] = [];
    build((name, args) => pipelines.push(new WebhookPipeline(name, args)));
    for (const p of pipelines) await valueOf(p.webhookUrls);
    await Promise.all(session.byType("aws:lambda/function:Function").map((f) => uploadedCode(f)));
    await settled();
    return session.resources;
}

describe("resource names (mocks)", function () {
    this.timeout(180_000);

    describe("GIVEN the longest pipeline, provider, lane, stack and project names validation allows", () => {
        let resources: RecordedResource[];

        before(async () => {
            resources = await graph(longestStack, longestProject, (create) => {
                create(longestPipeline("a"), mskPipeline());
                create(longestPipeline("b"), externalPipeline());
            });
        });

        it("THEN they are the longest: one character more is refused, naming the path", () => {
            expect(providerA).to.have.length(Limits.maxProviderNameLength);
            expect(providerB).to.have.length(Limits.maxProviderNameLength);
            for (const lane of [laneFifo, laneKafka, laneOther]) expect(lane).to.have.length(Limits.maxLaneNameLength);
            expect(longestPipeline("a")).to.have.length(Limits.maxPipelineNameLength);
            expect(longestStack).to.have.length(PulumiNameMax);
            expect(longestProject).to.have.length(PulumiNameMax);
            expect(validateConfig(mskPipeline()).ok).to.equal(true);
            expect(validateConfig(externalPipeline()).ok).to.equal(true);

            const longer = validateConfig({ providers: [{ name: `${providerA}x`, plugin: "github", lanes: { [`${laneFifo}x`]: {} } }] });
            expect(longer.ok).to.equal(false);
            expect(!longer.ok && longer.problems.map((p) => p.split(":")[0])).to.deep.equal([`providers[0] (${providerA}x).name`, `providers[0].lanes.${laneFifo}x`]);
            const laneLonger = validateConfig({ providers: [{ name: providerA, plugin: "github", lanes: { [`${laneFifo}x`]: {} } }] });
            expect(!laneLonger.ok && laneLonger.problems).to.deep.equal([`providers[0] (${providerA}).lanes.${laneFifo}x: lane names must be lowercase letters, digits and '-', at most 16 characters`]);
            expect(pipelineNameProblems(`${longestPipeline("a")}x`)).to.deep.equal([
                `name: "${longestPipeline("a")}x" must be at most ${Limits.maxPipelineNameLength} characters, letters, digits and '-', starting with a letter or digit (it starts every AWS resource name)`,
            ]);
            expect(pipelineNameProblems("my_pipeline")).to.have.length(1);
            expect(pipelineNameProblems(longestPipeline("a"))).to.deep.equal([]);
        });

        it("THEN every resource's final name, Pulumi's random suffix included, fits its AWS limit and characters", () => {
            const names = physicalNames(resources);
            // Every kind of named child is in the graph: the check covers them all.
            expect([...new Set(names.map((n) => n.type))].sort()).to.deep.equal([
                "aws:apigatewayv2/api:Api",
                "aws:apigatewayv2/stage:Stage",
                "aws:cloudwatch/dashboard:Dashboard",
                "aws:cloudwatch/logGroup:LogGroup",
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                "aws:dynamodb/table:Table",
                "aws:ec2/securityGroup:SecurityGroup",
                "aws:iam/role:Role",
                "aws:iam/rolePolicy:RolePolicy",
                "aws:lambda/function:Function",
                "aws:lambda/permission:Permission",
                "aws:msk/serverlessCluster:ServerlessCluster",
                "aws:s3/bucket:Bucket",
                "aws:secretsmanager/secret:Secret",
                "aws:sqs/queue:Queue",
            ]);
            const tooLong = names.filter((n) => n.name.length > n.rule.max).map((n) => `${n.type} ${n.name} (${n.name.length} > ${n.rule.max})`);
            expect(tooLong).to.deep.equal([]);
            const badCharacters = names.filter((n) => !n.rule.pattern.test(n.name)).map((n) => `${n.type} ${n.name}`);
            expect(badCharacters).to.deep.equal([]);
            // Two pipelines and their children never share a physical name (stage names are per API: both are $default).
            const physical = names.filter((n) => n.type !== "aws:apigatewayv2/stage:Stage").map((n) => `${n.type} ${n.name}`);
            expect(new Set(physical).size).to.equal(physical.length);
            // FIFO queues keep their .fifo suffix within the 80 characters.
            const fifo = names.filter((n) => n.type === "aws:sqs/queue:Queue" && n.explicit);
            expect(fifo.length).to.equal(6);
            for (const q of fifo) expect(q.name, q.logical).to.match(/\.fifo$/);
        });

        it("THEN the Kafka names the mappings use fit too: topics 249, consumer groups 200, poller groups 128", () => {
            const mappings = resources.filter((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" && r.inputs.topics);
            expect(mappings).to.have.length(2);
            for (const m of mappings) {
                // Kafka topic names: at most 249 of [a-zA-Z0-9._-] (Apache Kafka, Topic.validate); the dead-letter topic adds ".dlq".
                expect(`${m.inputs.topics[0]}.dlq`).to.match(/^[A-Za-z0-9._-]{1,249}$/);
                // Lambda API AmazonManagedKafkaEventSourceConfig / SelfManagedKafkaEventSourceConfig: ConsumerGroupId 1-200, [a-zA-Z0-9-\/*:_+=.@-]*.
                const group = (m.inputs.amazonManagedKafkaEventSourceConfig ?? m.inputs.selfManagedKafkaEventSourceConfig).consumerGroupId;
                expect(group).to.match(/^[a-zA-Z0-9\-/*:_+=.@]{1,200}$/);
                // Lambda API ProvisionedPollerConfig: PollerGroupName, at most 128 (its characters are not documented where we could read them: the stack name is kept as is).
                expect(m.inputs.provisionedPollerConfig.pollerGroupName).to.match(/^[A-Za-z0-9._-]{1,128}$/);
            }
        });
    });

    describe("GIVEN the Kafka pipelines of the Kafka lane tests (MSK Serverless and brokers you run)", () => {
        it("THEN every name is the one deployed before names were fitted (nothing that fits is renamed)", async () => {
            const resources = await graph("test", "webhook-pipeline", (create) => {
                const providers: WebhookPipelineArgs["providers"] = [
                    { name: "stripe", plugin: "stripe", secret: "s", lane: "kafka", concurrency: 4, routes: { "invoice.*": "billing" }, lanes: { billing: { lane: "sqs", concurrency: 2 } } },
                    { name: "github", plugin: "github", secret: "g" },
                ];
                create("kmsk", { providers, kafka: {} });
                create("kext", { providers, kafka: { mode: "external", brokers: ["k:9096"], sasl: { mechanism: "scram-sha-512", username: "u", password: "p" }, subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"] } });
            });
            const before = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "test", "components", "fixtures", "kafka-names.json"), "utf8"));
            // Resources added since have names of their own; every one recorded then must still be there, named the same.
            const now = new Set(nameListing(resources));
            expect((before as string[]).filter((line) => !now.has(line))).to.deep.equal([]);
        });
    });
});
