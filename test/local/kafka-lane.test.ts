/**
 * Kafka lanes in the local pipeline: the lane runner for each lane kind, and
 * a stack with a Kafka lane run end to end against the broker the test runner
 * started (skipped when it did not: WEBHOOK_PIPELINE_SKIP_KAFKA=1).
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { checkLaneRunners, LaneRunnerMissingError, startSqsLaneRunner } from "../../local/lane-runners";
import { loadStackModel } from "../../local/stack";
import { getPlugin } from "../../providers";
import { kafkaAvailable } from "../support/services";
import { fixture, LocalProcess, queuesDrained, startLocal, waitForStatus } from "./support";

const stackFile = fixture("Pulumi.local-kafka.yaml");
const { model } = loadStackModel(stackFile);

describe("local pipeline: Kafka lanes", function () {
    this.timeout(60_000);

    it("GIVEN a lane kind without a runner WHEN the lanes are checked THEN one error names every such lane and the kinds that run", () => {
        // Act
        const check = () => checkLaneRunners(model.lanes, { sqs: startSqsLaneRunner, kafka: undefined });

        // Assess
        expect(check).to.throw(LaneRunnerMissingError, "the local pipeline has no runner for lane shopify-default (kafka); run a stack whose lanes are of the kinds it runs (sqs), or deploy it.");
    });

    it("GIVEN a stack with a Kafka lane and an SQS lane WHEN signed webhooks are sent THEN both lanes process them", async function () {
        if (!kafkaAvailable()) this.skip();
        // Prepare
        const secrets = { github: `test_${randomBytes(8).toString("hex")}`, shopify: `test_${randomBytes(8).toString("hex")}` };
        const local: LocalProcess = await startLocal({ stack: stackFile, secrets, readyTimeoutMs: 45_000 });
        try {
            // Act
            for (const [name, count] of [["shopify", 3], ["github", 1]] as const) {
                const provider = model.providers.find((p) => p.name === name)!;
                const plugin = getPlugin(provider.plugin);
                for (let i = 0; i < count; i++) {
                    const body = plugin.sample(Date.now());
                    const url = `${local.url}${provider.path}`;
                    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...plugin.sign(body, secrets[name], Date.now(), url) }, body });
                    expect(res.status).to.equal(200);
                }
            }

            // Assess
            const status = await waitForStatus(local.url, (s) => s.providers.shopify.processed === 3 && s.providers.github.processed === 1 && queuesDrained(s), 45_000);
            const { routed, processed, dlq } = status.providers.shopify;
            expect({ routed, processed, dlq }).to.deep.equal({ routed: 3, processed: 3, dlq: 0 });
            expect(status.providers.shopify.lanes["shopify-default"]).to.include({ kind: "kafka", deadLettered: 0 });
            expect((await local.stop()).code).to.equal(0);
        } finally {
            await local.remove();
        }
    });
});
