/**
 * The router-efficiency benchmark counts AWS calls with a middleware on the
 * routers' SDK clients. These tests run it at a tiny size against moto with
 * a traffic whose calls are known exactly, so the benchmark cannot count
 * wrong without a test failing; and they check the cost model's arithmetic.
 */
import { expect } from "chai";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { modelCost } from "../../bench/cost-model";
import { RouterEfficiencyDetails, runPrefix, runRouter } from "../../bench/router-efficiency";
import { BenchPipeline, createBenchPipeline, makeTraffic } from "../../bench/traffic";
import { services } from "../support/services";

const oneProvider = { providers: [{ name: "github", plugin: "github" }] };

async function laneDepth(pipeline: BenchPipeline, laneId: string): Promise<number> {
    const sqs = new SQSClient({ endpoint: pipeline.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: pipeline.resources.lanes[laneId].queue.url, AttributeNames: ["ApproximateNumberOfMessages"] }));
    sqs.destroy();
    return Number(Attributes?.ApproximateNumberOfMessages);
}

describe("bench: router efficiency counts every AWS call", function () {
    this.timeout(60_000);

    it("GIVEN 100 webhooks of one provider in one batch WHEN our router routes them THEN it makes exactly 1 archive PUT, 10 SendMessageBatch and 1 secret read", async () => {
        // Prepare
        const pipeline = await createBenchPipeline(services.awsEndpoint, oneProvider, runPrefix("t"));
        const traffic = makeTraffic(pipeline, { count: 100, seed: 3, runTag: "t" });

        // Act
        const run = await runRouter(pipeline, "ours", traffic.records, 100);

        // Assess
        expect(run.counts.calls).to.deep.equal({ "SecretsManager.GetSecretValue": 1, "S3.PutObject": 1, "SQS.SendMessageBatch": Math.ceil(100 / 10) });
        expect({ total: run.totalCalls, per1000: run.callsPer1000, attempts: run.counts.attempts, invocations: run.invocations }).to.deep.equal({ total: 12, per1000: 120, attempts: 12, invocations: 1 });
        expect({ accepted: run.accepted, routed: run.routed, failed: run.failed }).to.deep.equal({ accepted: 100, routed: 100, failed: 0 });
        expect(run.reported).to.deep.equal({ archive: 1, send: 10, claims: 0 });
        expect(run.counts.sqsBilled).to.deep.equal({ standard: 10, fifo: 0 });
        expect(await laneDepth(pipeline, "github-default")).to.equal(100);
    });

    it("GIVEN the same 100 webhooks WHEN the seed-style baseline routes them in batches of 10 THEN it makes one PUT and one SendMessage per webhook and 1 secret read", async () => {
        // Prepare
        const pipeline = await createBenchPipeline(services.awsEndpoint, oneProvider, runPrefix("t"));
        const traffic = makeTraffic(pipeline, { count: 100, seed: 3, runTag: "t" });

        // Act
        const run = await runRouter(pipeline, "seed", traffic.records);

        // Assess
        expect(run.counts.calls).to.deep.equal({ "SecretsManager.GetSecretValue": 1, "S3.PutObject": 100, "SQS.SendMessage": 100 });
        expect({ total: run.totalCalls, invocations: run.invocations, accepted: run.accepted, routed: run.routed, failed: run.failed }).to.deep.equal({ total: 201, invocations: 10, accepted: 100, routed: 100, failed: 0 });
        expect(await laneDepth(pipeline, "github-default")).to.equal(100);
    });

    it("GIVEN every webhook 2 KB WHEN the traffic is generated THEN each body is exactly 2048 bytes and verifies in the router", async () => {
        // Prepare
        const pipeline = await createBenchPipeline(services.awsEndpoint, oneProvider, runPrefix("t"));

        // Act
        const traffic = makeTraffic(pipeline, { count: 20, seed: 5, runTag: "b" });
        const run = await runRouter(pipeline, "ours", traffic.records);

        // Assess
        expect(traffic.records.map((r) => Buffer.byteLength(r.body))).to.deep.equal(new Array(20).fill(2048));
        expect({ accepted: run.accepted, failed: run.failed }).to.deep.equal({ accepted: 20, failed: 0 });
    });
});

describe("bench: cost model arithmetic", () => {
    it("GIVEN one PUT and one send per webhook WHEN the cost is modelled THEN each line is the list price times the count", () => {
        // Prepare
        const medians = (calls: Record<string, number>, batch: number) => ({
            callsPer1000: 0,
            calls,
            sqsBilledPer1000: { standard: calls["SQS.SendMessage"] ?? calls["SQS.SendMessageBatch"] ?? 0, fifo: 0 },
            s3PutBytesPer1000: 0,
            usPerWebhook: 0,
            processCpuUsPerWebhook: 0,
            invocationsPer1000: 1000 / batch,
            sequentialSendRoundsPerInvocation: 1,
            routedShare: 1,
        });
        const router: Pick<RouterEfficiencyDetails, "medians" | "workerIdempotency" | "ingressFunctionShare"> = {
            medians: { seed: medians({ "S3.PutObject": 1000, "SQS.SendMessage": 1000 }, 10), ours: medians({ "S3.PutObject": 10, "SQS.SendMessageBatch": 100 }, 100) },
            workerIdempotency: { perProcessed: 2, perDuplicate: 1, samples: 1, calls: {} },
            ingressFunctionShare: 0,
        };

        // Act
        const cost = modelCost(router);
        const line = (item: string) => cost.lines.find((l) => l.item.startsWith(item))!;

        // Assess
        expect({ seed: line("S3 archive PutObject").seed, ours: line("S3 archive PutObject").ours }).to.deep.equal({ seed: 5, ours: 0.05 });
        expect({ seed: line("API Gateway").seed, ours: line("API Gateway").ours }).to.deep.equal({ seed: 3.5, ours: 1 });
        expect(line("Lane sends").seed).to.be.closeTo(0.4, 1e-9);
        expect(line("Lane sends").ours).to.be.closeTo(0.04, 1e-9);
        expect(line("Worker idempotency writes").ours).to.be.closeTo(1.25, 1e-9);
        expect(cost.lambda.seed.invocations).to.equal(100_000);
        expect(cost.lambda.ours.invocations).to.equal(10_000);
    });
});
