/**
 * Deploy check for the handler secrets' error: a lane whose handler reads a
 * secret that cannot be read (an ARN of a secret that does not exist in moto)
 * gets a SecretUnavailableError (handlers/shared/errors.ts) from the worker's
 * uploaded code, the code Pulumi serialized: it must arrive as an Error with
 * its name, message and stack, and the record must be reported failed
 * (retried). (As a class extending Error it did not: Pulumi's serialized
 * constructor made objects that were not Errors, with no name.)
 */
import { expect } from "chai";
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { WebhookHandler } from "../../handlers/app/types";
import { bundleOf, loadBundle } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { encodeEnvelope } from "../../model/envelope";
import { toLambdaEvent } from "../../local/sqs-event";
import { getPlugin } from "../../providers";
import type { WebhookPipeline } from "../../components";
import { lambdaContext } from "../support/runtime";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** What the probe saw of the error, left on globalThis: the bundle runs in this process. */
interface Seen {
    readonly name: string;
    readonly constructorName: string | undefined;
    readonly isError: boolean;
    readonly prototypeChain: string[];
    readonly message: string;
    readonly stackHead: string;
    readonly toString: string;
}

/** Serialized into the worker's zip: captures nothing, reports through globalThis, and rethrows. */
const probe: WebhookHandler = async (_event, context) => {
    try {
        await context.secrets.get("GONE");
    } catch (err) {
        const e = err as Error;
        const chain: string[] = [];
        for (let p = Object.getPrototypeOf(e); p; p = Object.getPrototypeOf(p)) chain.push(p.constructor?.name);
        (globalThis as unknown as { __secretErrorProbe: Seen[] }).__secretErrorProbe ??= [];
        (globalThis as unknown as { __secretErrorProbe: Seen[] }).__secretErrorProbe.push({
            name: e.name,
            constructorName: e.constructor?.name,
            isError: e instanceof Error,
            prototypeChain: chain,
            message: e.message,
            stackHead: String(e.stack).split("\n")[0],
            toString: String(e),
        });
        throw err;
    }
};

describe("deploy check: a handler secret that cannot be read throws SecretUnavailableError in the serialized worker", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    const missingArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dce-gone-AbCdEf";
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
        pipeline = new WebhookPipeline("dce", {
            providers: [{ name: "github", plugin: "github", secret: "signing", handler: "probe", secrets: { GONE: missingArn } }],
            handlers: { ...handlers, probe },
        });
        await valueOf(pipeline.queueUrls);
        await settled();
        delete (globalThis as unknown as { __secretErrorProbe?: Seen[] }).__secretErrorProbe;
    });

    it("GIVEN a routed webhook WHEN the worker's uploaded code reads a secret that does not exist THEN the handler gets a SecretUnavailableError (name, message, Error prototype) and the record is failed for a retry", async () => {
        // GIVEN a signed webhook routed to the lane by the router's uploaded code
        const queueUrls = await valueOf(pipeline.queueUrls);
        const github = getPlugin("github");
        const now = Date.now();
        const body = github.sample(now);
        const headers = Object.fromEntries(Object.entries(github.sign(body, "signing", now, "https://example.com/webhooks/github")).map(([k, v]) => [k.toLowerCase(), v]));
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "github", requestId: "r-1", receivedAt: now, sourceIp: "203.0.113.7", headers, body }, github.headers) }));
        const router = loadBundle<SqsHandler>(await bundleOf(session.byType("aws:lambda/function:Function").find((f) => f.name === "dce-router-fn")!));
        const inbound = await receive(queueUrls["catch-all"]);
        expect(await router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext("dce-router-fn"))).to.deep.equal({ batchItemFailures: [] });
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrls["catch-all"], Entries: inbound.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));

        // WHEN the worker's uploaded code handles the lane message
        const worker = loadBundle<SqsHandler>(await bundleOf(session.byType("aws:lambda/function:Function").find((f) => f.name === "dce-github-default-worker-fn")!));
        const lane = await receive(queueUrls["github-default"]);
        expect(lane).to.have.length(1);
        const response = await worker(toLambdaEvent(lane, "arn:aws:sqs:us-east-1:123456789012:github-default"), lambdaContext("dce-github-default-worker-fn"));

        // THEN the error is the named class, whole, and the message is failed (it will be retried, then dead-lettered)
        expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: lane[0].MessageId }] });
        const seen = (globalThis as unknown as { __secretErrorProbe?: Seen[] }).__secretErrorProbe ?? [];
        expect(seen).to.have.length(1);
        const [e] = seen;
        expect({ name: e.name, isError: e.isError, prototypeChain: e.prototypeChain }).to.deep.equal({ name: "SecretUnavailableError", isError: true, prototypeChain: ["Error", "Object"] });
        expect(e.message).to.match(/^reading handler secret "GONE" \(arn:aws:secretsmanager:us-east-1:123456789012:secret:dce-gone-AbCdEf\) failed: ResourceNotFoundException: /);
        expect(e.stackHead).to.equal(`SecretUnavailableError: ${e.message}`);
        expect(e.toString).to.equal(`SecretUnavailableError: ${e.message}`);
    });
});
