/**
 * Deploy check for worker settings: the worker a lane with `secrets` and
 * `environment` would upload, loaded and called with a real lane message,
 * reads its handler secret through `context.secrets` from moto's Secrets
 * Manager (the secret created by the program, provisioned in moto) and its
 * environment through `context.env`.
 */
import { expect } from "chai";
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { WebhookHandler } from "../../handlers/app/types";
import { bundleOf, loadBundle, sdkClientsLoadedAtStart } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { encodeEnvelope } from "../../model/envelope";
import { toLambdaEvent } from "../../local/sqs-event";
import { getPlugin } from "../../providers";
import type { WebhookPipeline } from "../../components";
import { lambdaContext } from "../support/runtime";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** What the probe handler saw, left on globalThis: the bundle runs in this process. */
interface Probe {
    readonly token: string;
    readonly greeting: string | undefined;
    readonly names: readonly string[];
}

/**
 * Serialized into the worker's zip: it captures nothing (no secret, no test
 * variable) and reports through globalThis.
 */
const probe: WebhookHandler = async (_event, context) => {
    (globalThis as unknown as { __workerSecretProbe: Probe[] }).__workerSecretProbe ??= [];
    (globalThis as unknown as { __workerSecretProbe: Probe[] }).__workerSecretProbe.push({
        token: await context.secrets.get("API_TOKEN"),
        greeting: context.env.GREETING,
        names: context.secrets.names,
    });
};

describe("deploy check: a worker reads its handler secret through its context from moto", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    const secretValue = "tok_DEPLOY_CHECK_handler_secret_9a1";
    let session: MockSession;
    let pipeline: WebhookPipeline;

    async function receive(queueUrl: string): Promise<Message[]> {
        for (let i = 0; i < 10; i++) {
            const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
            if (Messages.length) return Messages;
        }
        return [];
    }

    before(async () => {
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        const { handlers } = await import("../../handlers/app");
        pipeline = new WebhookPipeline("dcs", {
            providers: [{ name: "github", plugin: "github", secret: "signing", handler: "probe", secrets: { API_TOKEN: secretValue }, environment: { GREETING: "hello" } }],
            handlers: { ...handlers, probe },
        });
        await valueOf(pipeline.queueUrls);
        await settled();
        delete (globalThis as unknown as { __workerSecretProbe?: Probe[] }).__workerSecretProbe;
    });

    it("GIVEN a routed webhook WHEN the worker's uploaded code handles it THEN the handler read the secret's value and its environment", async () => {
        // GIVEN a signed webhook routed to the lane by the router's uploaded code
        const queueUrls = await valueOf(pipeline.queueUrls);
        const github = getPlugin("github");
        const now = Date.now();
        const body = github.sample(now);
        const headers = Object.fromEntries(Object.entries(github.sign(body, "signing", now, "https://example.com/webhooks/github")).map(([k, v]) => [k.toLowerCase(), v]));
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "github", requestId: "r-1", receivedAt: now, sourceIp: "203.0.113.7", headers, body }, github.headers) }));
        const router = loadBundle<SqsHandler>(await bundleOf(session.byType("aws:lambda/function:Function").find((f) => f.name === "dcs-router-fn")!));
        const inbound = await receive(queueUrls["catch-all"]);
        expect(await router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext("dcs-router-fn"))).to.deep.equal({ batchItemFailures: [] });
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrls["catch-all"], Entries: inbound.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));

        // WHEN the worker's uploaded code handles the lane message
        const workerFn = session.byType("aws:lambda/function:Function").find((f) => f.name === "dcs-github-default-worker-fn")!;
        const bundle = await bundleOf(workerFn);
        const worker = loadBundle<SqsHandler>(bundle);
        // Powertools Parameters and the Secrets Manager client load on the first read, not at cold start.
        expect(sdkClientsLoadedAtStart(bundle)).to.deep.equal(["@aws-sdk/client-dynamodb"]);
        expect(bundle.indexJs.includes(secretValue)).to.equal(false);
        const lane = await receive(queueUrls["github-default"]);
        expect(lane).to.have.length(1);
        expect(await worker(toLambdaEvent(lane, "arn:aws:sqs:us-east-1:123456789012:github-default"), lambdaContext("dcs-github-default-worker-fn"))).to.deep.equal({ batchItemFailures: [] });

        // THEN the handler read the value the program stored in Secrets Manager, and its environment
        const seen = (globalThis as unknown as { __workerSecretProbe?: Probe[] }).__workerSecretProbe;
        expect(seen).to.deep.equal([{ token: secretValue, greeting: "hello", names: ["API_TOKEN"] }]);
    });
});
