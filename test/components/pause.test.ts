/**
 * Paused lanes and lane retention in the Pulumi graph (mocks), and `ops pause|resume --aws` against the
 * event source mappings of that graph created in moto (the emulated deploy of test/support/moto-provisioner.ts).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GetEventSourceMappingCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { WebhookPipeline, WebhookPipelineArgs } from "../../components";
import { retentionAlarmSeconds } from "../../components/monitoring";
import { QueueSettings } from "../../model/constants";
import { MockSession, RecordedResource, settled, setupMocks, uploadedCode, valueOf } from "../../scripts/pulumi-mocks";
import { pauseLanes, resumeLanes } from "../../local/ops/pause";
import { StackOutputs, targetFromOutputs } from "../../local/ops/target";
import { localClients } from "../../local/resources";
import { motoProvisioner } from "../support/moto-provisioner";
import { runScript } from "../local/support";
import { services } from "../support/services";

const SECRET = "whsec_PAUSE_TEST_SECRET_must_not_leak_5d1e";

/** stripe paused (its billing lane not: the lane wins), billing kept 14 days; github as default; shop's Kafka lane paused. */
function pausedConfig(kafka: boolean): WebhookPipelineArgs {
    return {
        providers: [
            { name: "stripe", plugin: "stripe", secret: SECRET, paused: true, routes: { "invoice.*": "billing" }, lanes: { billing: { paused: false, ordering: true, retentionDays: 14 } } },
            { name: "github", plugin: "github", secret: SECRET, retentionDays: 2 },
            ...(kafka ? [{ name: "shop", plugin: "shopify" as const, secret: SECRET, lane: "kafka" as const, paused: true }] : []),
        ],
        ...(kafka ? { kafka: { mode: "external" as const, brokers: ["b-1.kafka.example.com:9092"] } } : {}),
    };
}

async function synthesize(prefix: string, config: WebhookPipelineArgs, session: MockSession) {
    const { WebhookPipeline } = await import("../../components");
    const pipeline = new WebhookPipeline(prefix, config);
    await valueOf(pipeline.webhookUrls);
    const mine = (type: string) => session.byType(type).filter((r) => r.name.startsWith(`${prefix}-`));
    await Promise.all(mine("aws:lambda/function:Function").map((f) => uploadedCode(f)));
    await settled();
    const one = (type: string, name: string): RecordedResource => {
        const found = mine(type).filter((r) => r.name === name);
        expect(found, `${type} ${name}`).to.have.length(1);
        return found[0];
    };
    return { pipeline, mine, one };
}

describe("paused lanes and lane retention (mocks)", function () {
    this.timeout(180_000);
    let g: Awaited<ReturnType<typeof synthesize>>;
    let pipeline: WebhookPipeline;

    before(async () => {
        const session = await setupMocks();
        g = await synthesize("pz", pausedConfig(true), session);
        pipeline = g.pipeline;
    });

    it("GIVEN paused lanes THEN their SQS and Kafka event source mappings are created disabled, every other one enabled", () => {
        const enabled = Object.fromEntries(g.mine("aws:lambda/eventSourceMapping:EventSourceMapping").map((m) => [m.name, m.inputs.enabled]));
        expect(enabled).to.deep.equal({
            "pz-router-trigger": true,
            "pz-stripe-default-worker-trigger": false,
            "pz-stripe-billing-worker-trigger": true,
            "pz-github-default-worker-trigger": true,
            "pz-shop-default-worker-trigger": false,
        });
        // The Kafka one is the Kafka mapping (topic), not an SQS one.
        expect(g.one("aws:lambda/eventSourceMapping:EventSourceMapping", "pz-shop-default-worker-trigger").inputs.topics).to.deep.equal(["pz.shop.default"]);
    });

    it("GIVEN retentionDays THEN each lane queue keeps messages that long, DLQs and the catch-all keep theirs, and claim checks outlive the longest", () => {
        const retention = Object.fromEntries(g.mine("aws:sqs/queue:Queue").map((q) => [q.state.name ?? q.name, q.inputs.messageRetentionSeconds]));
        const byLogical = (part: string) => Object.entries(retention).filter(([n]) => n.includes(part)).map(([, s]) => s);
        expect(byLogical("stripe-billing-dlq")).to.deep.equal([QueueSettings.dlqRetentionSeconds]);
        expect(Object.entries(retention).filter(([n]) => n.includes("stripe-billing") && !n.includes("-dlq")).map(([, s]) => s)).to.deep.equal([14 * 86400]);
        expect(Object.entries(retention).filter(([n]) => n.includes("github-default") && !n.includes("-dlq")).map(([, s]) => s)).to.deep.equal([2 * 86400]);
        expect(Object.entries(retention).filter(([n]) => n.includes("stripe-default") && !n.includes("-dlq")).map(([, s]) => s)).to.deep.equal([QueueSettings.retentionSeconds]);
        expect(Object.entries(retention).filter(([n]) => n.includes("catch-all") && !n.includes("-dlq")).map(([, s]) => s)).to.deep.equal([QueueSettings.retentionSeconds]);
        const rules = g.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "pz-archive-lifecycle").inputs.rules as { id: string; expiration?: { days: number } }[];
        // 14 days held + 14 days in the DLQ + the 3-day margin.
        expect(rules.find((r) => r.id === "claims-expire")!.expiration).to.deep.equal({ days: 31 });
    });

    it("GIVEN a long pause THEN besides the age alarm each SQS lane has a retention alarm firing a day (or half the retention) before SQS deletes", () => {
        const alarms = g.mine("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.metricName === "ApproximateAgeOfOldestMessage");
        const byName = Object.fromEntries(alarms.map((a) => [a.name.replace(/-[0-9a-f]{7}$/, ""), a.inputs.threshold]));
        expect(byName).to.deep.include({
            "pz-stripe-default-age-alarm": 300,
            "pz-stripe-default-retention-alarm": 3 * 86400,
            "pz-stripe-billing-retention-alarm": 13 * 86400,
            "pz-github-default-retention-alarm": 1 * 86400,
        });
        // Every retention alarm fires before its queue's retention, with at least half of it left... or a day.
        expect([retentionAlarmSeconds(86400), retentionAlarmSeconds(4 * 86400), retentionAlarmSeconds(14 * 86400)]).to.deep.equal([43200, 3 * 86400, 13 * 86400]);
        const description = alarms.find((a) => a.name.startsWith("pz-stripe-default-retention-alarm"))!.inputs.alarmDescription as string;
        expect(description).to.include("SQS deletes messages at 4 days").and.to.include("npm run ops -- resume").and.to.include("npm run ops -- replay");
    });

    it("THEN the outputs name every lane's mapping (SQS and Kafka) and its configured paused state", async () => {
        expect(await valueOf(pipeline.eventSourceMappings)).to.deep.equal({
            "stripe-default": "pz-stripe-default-worker-trigger-uuid",
            "stripe-billing": "pz-stripe-billing-worker-trigger-uuid",
            "github-default": "pz-github-default-worker-trigger-uuid",
            "shop-default": "pz-shop-default-worker-trigger-uuid",
        });
        expect(await valueOf(pipeline.lanePaused)).to.deep.equal({ "stripe-default": true, "stripe-billing": false, "github-default": false, "shop-default": true });
    });
});

describe("ops pause|resume --aws against the mappings of an emulated deploy (moto)", function () {
    this.timeout(240_000);
    let outputs: StackOutputs;
    let file: string;
    let lambda: LambdaClient;
    const stateOf = async (lane: string) => (await lambda.send(new GetEventSourceMappingCommand({ UUID: outputs.eventSourceMappings![lane] }))).State;

    before(async () => {
        // Prepare: the program's queues, roles, functions and SQS mappings created in moto (nothing is sent to them:
        // moto would invoke an enabled mapping's function through docker)
        const session = await setupMocks({ provision: motoProvisioner(services.awsEndpoint, { lambda: true }) });
        const { pipeline } = await synthesize("pa", pausedConfig(false), session);
        outputs = {
            queueUrls: await valueOf(pipeline.queueUrls),
            dlqUrls: await valueOf(pipeline.dlqUrls),
            bucketName: await valueOf(pipeline.bucketName),
            webhookUrls: await valueOf(pipeline.webhookUrls),
            internalKeySecretArn: await valueOf(pipeline.internalKeySecretArn),
            eventSourceMappings: await valueOf(pipeline.eventSourceMappings),
            lanePaused: await valueOf(pipeline.lanePaused),
        };
        file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pause-aws-")), "outputs.json");
        fs.writeFileSync(file, JSON.stringify(outputs, null, 2));
        lambda = new LambdaClient({ endpoint: services.awsEndpoint });
    });

    it("GIVEN the deployed mappings THEN they are real ones in moto, disabled where the config pauses", async () => {
        expect(Object.keys(outputs.eventSourceMappings!).sort()).to.deep.equal(["github-default", "stripe-billing", "stripe-default"]);
        expect({ stripe: await stateOf("stripe-default"), billing: await stateOf("stripe-billing"), github: await stateOf("github-default") }).to.deep.equal({ stripe: "Disabled", billing: "Enabled", github: "Enabled" });
    });

    it("GIVEN a running lane WHEN `ops pause --aws` THEN its mapping is disabled, no other, and it says the next pulumi up --refresh resumes it", async () => {
        // Act: the command as an operator runs it
        const run = await runScript("ops", ["pause", "--provider", "stripe", "--lane", "billing", "--aws", "--outputs", file, "--json"]);
        // Assess
        expect(run.code, run.stderr).to.equal(0);
        const result = JSON.parse(run.stdout);
        expect(result).to.deep.equal({
            action: "pause",
            where: "aws",
            provider: "stripe",
            lanes: [
                {
                    lane: "stripe-billing",
                    wasPaused: false,
                    paused: true,
                    changed: true,
                    state: "Disabled",
                    since: result.lanes[0].since,
                    configuredPaused: false,
                    nextDeploy:
                        "the next `pulumi up --refresh` will resume it unless you set paused: true for lane stripe-billing in Pulumi.<stack>.yaml (a `pulumi up` without --refresh does not read the mapping and leaves it as it is now)",
                },
            ],
        });
        expect({ billing: await stateOf("stripe-billing"), stripe: await stateOf("stripe-default"), github: await stateOf("github-default") }).to.deep.equal({ billing: "Disabled", stripe: "Disabled", github: "Enabled" });
    });

    it("GIVEN paused lanes WHEN `ops status --aws` THEN each lane says whether its worker is paused", async () => {
        const run = await runScript("ops", ["status", "--aws", "--outputs", file, "--json"]);
        expect(run.code, run.stderr).to.equal(0);
        const rows = (JSON.parse(run.stdout) as { lanes: { lane: string; paused?: boolean; queue: { visible: number } }[] }).lanes;
        expect(rows.map((r) => [r.lane, r.paused])).to.deep.equal([
            ["catch-all", undefined],
            ["stripe-default", true],
            ["stripe-billing", true],
            ["github-default", false],
        ]);
    });

    it("GIVEN a provider's lanes WHEN resumed through the exported function THEN both mappings are enabled; the one configured paused says the next pulumi up --refresh pauses it again", async () => {
        const target = targetFromOutputs(outputs, localClients(services.awsEndpoint), lambda);
        const result = await resumeLanes(target, "stripe");
        expect(result.lanes.map((l) => ({ lane: l.lane, wasPaused: l.wasPaused, paused: l.paused, changed: l.changed, state: l.state, nextDeploy: l.nextDeploy }))).to.deep.equal([
            {
                lane: "stripe-default",
                wasPaused: true,
                paused: false,
                changed: true,
                state: "Enabled",
                nextDeploy:
                    "the next `pulumi up --refresh` will pause it again unless you remove paused: true for lane stripe-default from Pulumi.<stack>.yaml (a `pulumi up` without --refresh does not read the mapping and leaves it as it is now)",
            },
            { lane: "stripe-billing", wasPaused: true, paused: false, changed: true, state: "Enabled", nextDeploy: "the next `pulumi up` keeps it running" },
        ]);
        expect({ stripe: await stateOf("stripe-default"), billing: await stateOf("stripe-billing") }).to.deep.equal({ stripe: "Enabled", billing: "Enabled" });
        // A lane already in the state asked for: unchanged, nothing sent.
        const again = await pauseLanes(target, "github");
        expect(again.lanes.map((l) => [l.lane, l.changed, l.paused])).to.deep.equal([["github-default", true, true]]);
        const twice = await pauseLanes(target, "github");
        expect(twice.lanes.map((l) => [l.lane, l.changed, l.paused, l.nextDeploy])).to.deep.equal([
            [
                "github-default",
                false,
                true,
                "the next `pulumi up --refresh` will resume it unless you set paused: true for lane github-default in Pulumi.<stack>.yaml (a `pulumi up` without --refresh does not read the mapping and leaves it as it is now)",
            ],
        ]);
    });

    it("GIVEN an unknown lane or provider, or outputs without mappings THEN the error names what exists", async () => {
        const target = targetFromOutputs(outputs, localClients(services.awsEndpoint), lambda);
        let error = await pauseLanes(target, "stripe", "nope").catch((e: Error) => e.message);
        expect(error).to.equal('provider stripe has no lane "nope" (lanes: stripe-default, stripe-billing)');
        error = await pauseLanes(target, "paypal").catch((e: Error) => e.message);
        expect(error).to.equal('unknown provider "paypal" (configured: stripe, github)');
        const old = targetFromOutputs({ ...outputs, eventSourceMappings: undefined, lanePaused: undefined }, localClients(services.awsEndpoint), lambda);
        error = await pauseLanes(old, "stripe").catch((e: Error) => e.message);
        expect(error).to.equal("stack outputs lack eventSourceMappings: deploy this version of the program (`pulumi up`), then write the outputs again");
    });
});
