/**
 * The deploy check: what we test is what we ship. The program runs under the
 * mock runtime while its queues, bucket, secrets and table are created for
 * real in moto; then the `__index.js` each callback function would upload is
 * loaded in this process and called with real SQS events from those queues.
 */
import { expect } from "chai";
import { deleteAll as deleteAllFrom, receiveAll as receiveAllFrom } from "../support/queue-io";
import { Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { bundleOf, loadBundle, sdkClientsLoadedAtStart } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { encodeEnvelope } from "../../model/envelope";
import { toLambdaEvent } from "../../local/sqs-event";
import { getPlugin } from "../../providers";
import type { WebhookPipeline } from "../../components";
import { lambdaContext } from "../support/runtime";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

describe("deploy check: serialized functions run against moto", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let queueUrls: Record<string, string>;
    const secret = "deploy-check-secret";

    const receiveAll = (queueUrl: string, atLeast: number) => receiveAllFrom(sqs, queueUrl, atLeast);
    const deleteAll = (queueUrl: string, messages: Message[]) => deleteAllFrom(sqs, queueUrl, messages);

    before(async () => {
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("dc", {
            providers: [
                { name: "github", plugin: "github", secret },
                { name: "acme", plugin: "hmac", secret, signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type" },
            ],
        });
        queueUrls = await valueOf(pipeline.queueUrls);
        await settled();
    });

    it("GIVEN signed webhooks in the catch-all queue WHEN the router and worker bundles run THEN each event is routed and processed once", async () => {
        // GIVEN two signed webhooks, as API Gateway would enqueue them
        const github = getPlugin("github");
        const acme = getPlugin("hmac", { signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type" });
        const now = Date.now();
        const githubBody = github.sample(now);
        const acmeBody = Buffer.from(JSON.stringify({ id: `evt_${now}`, type: "order.created" }));
        for (const [provider, plugin, body] of [["github", github, githubBody], ["acme", acme, acmeBody]] as const) {
            const headers = plugin.sign(body, secret, now, `https://example.com/webhooks/${provider}`);
            const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
            const message = encodeEnvelope({ provider, requestId: `r-${provider}`, receivedAt: now, sourceIp: "203.0.113.7", headers: lower, body }, plugin.headers);
            await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...message }));
        }

        // WHEN the router's uploaded code handles the catch-all batch
        const routerFn = session.byType("aws:lambda/function:Function").find((f) => f.name === "dc-router-fn")!;
        const router = loadBundle<SqsHandler>(await bundleOf(routerFn));
        const inbound = await receiveAll(queueUrls["catch-all"], 2);
        expect(inbound).to.have.length(2);
        const routed = await router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext("dc-router-fn"));
        await deleteAll(queueUrls["catch-all"], inbound);

        // THEN nothing failed and each lane holds its event
        expect(routed).to.deep.equal({ batchItemFailures: [] });
        for (const [lane, worker] of [["github-default", "dc-github-default-worker-fn"], ["acme-default", "dc-acme-default-worker-fn"]]) {
            const laneMessages = await receiveAll(queueUrls[lane], 1);
            expect(laneMessages, lane).to.have.length(1);
            // WHEN the worker's uploaded code handles the lane batch (twice: a redelivery)
            const fn = session.byType("aws:lambda/function:Function").find((f) => f.name === worker)!;
            const bundle = await bundleOf(fn);
            const handler = loadBundle<SqsHandler>(bundle);
            // S3 is needed only for claim-checked bodies: the worker's cold start loads the DynamoDB client alone.
            expect(sdkClientsLoadedAtStart(bundle), worker).to.deep.equal(["@aws-sdk/client-dynamodb"]);
            const event = toLambdaEvent(laneMessages, `arn:aws:sqs:us-east-1:123456789012:${lane}`);
            expect(await handler(event, lambdaContext(worker))).to.deep.equal({ batchItemFailures: [] });
            expect(await handler(event, lambdaContext(worker))).to.deep.equal({ batchItemFailures: [] });
            await deleteAll(queueUrls[lane], laneMessages);
        }

        // THEN the idempotency table holds exactly one completed record per event
        const table = await valueOf(pipeline.tableName);
        const { Items = [] } = await new DynamoDBClient({}).send(new ScanCommand({ TableName: table }));
        expect(Items.map((i) => i.status?.S)).to.deep.equal(["COMPLETED", "COMPLETED"]);
    });
});
