/**
 * The deploy check for a destination lane: the program runs under the mock
 * runtime with its queues, secrets and table created in moto; the worker's
 * uploaded `__index.js` is loaded and delivers to a real https server on
 * loopback (a self-signed test certificate, see test/support/destination.ts).
 * Also asserted: the worker alone may read the lane's destination secrets and
 * send to its DLQ, and no secret value is in any uploaded code.
 */
import { expect } from "chai";
import { deleteAll as deleteAllFrom, receiveAll as receiveAllFrom } from "../support/queue-io";
import { Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { Webhook } from "standardwebhooks";
import { bundleOf, loadBundle } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { encodeEnvelope } from "../../model/envelope";
import { DeliveryHeader } from "../../model/delivery";
import { DeadLetterAttribute } from "../../handlers/worker/sqs-record";
import { toLambdaEvent } from "../../local/sqs-event";
import { getPlugin } from "../../providers";
import type { WebhookPipeline } from "../../components";
import { lambdaContext } from "../support/runtime";
import { loopbackTls, startDestination, TestDestination } from "../support/destination";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

describe("deploy check: a destination lane's serialized worker delivers to an https server (moto, mock runtime)", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let queueUrls: Record<string, string>;
    let dlqUrls: Record<string, string>;
    let dest: TestDestination;
    const providerSecret = "dd-provider-secret";
    const signingSecret = `whsec_${Buffer.from("deploy-check-destination-key").toString("base64")}`;
    const authValue = "Bearer deploy-check-token";

    const receiveAll = (queueUrl: string, atLeast: number) => receiveAllFrom(sqs, queueUrl, atLeast);
    const deleteAll = (queueUrl: string, messages: Message[]) => deleteAllFrom(sqs, queueUrl, messages);

    const fnNamed = (name: string) => session.byType("aws:lambda/function:Function").find((f) => f.name === name)!;
    const policyOf = (name: string) => {
        const doc = JSON.parse(session.byType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === name)!.inputs.policy);
        return Object.fromEntries(doc.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    };

    before(async () => {
        dest = await startDestination((r) => (r.headers[DeliveryHeader.EventId] === "evt_dd_refused" ? { status: 400, body: "no such customer" } : { status: 200 }), "/hooks/stripe", loopbackTls());
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("dd", {
            providers: [
                {
                    name: "stripe",
                    plugin: "stripe",
                    secret: providerSecret,
                    destination: { url: dest.url, headers: { "X-Team": "payments" }, auth: { header: "Authorization", secret: authValue }, signingSecret, rateLimitPerSecond: 10 },
                    retry: { backoff: "exponential", initialSeconds: 5, maxSeconds: 60 },
                },
                { name: "github", plugin: "github", secret: providerSecret },
            ],
        });
        queueUrls = await valueOf(pipeline.queueUrls);
        dlqUrls = await valueOf(pipeline.dlqUrls);
        await settled();
    });
    after(async () => dest?.close());

    it("THEN only the destination lane's worker may read its two destination secrets and send to its own DLQ; no uploaded code holds a secret value", async () => {
        const worker = policyOf("dd-stripe-default-worker-policy");
        expect(Object.keys(worker).sort()).to.deep.equal(["ConsumeLane", "DeadLetterRefused", "Idempotency", "OwnLogs", "ReadClaimChecks", "ReadDestinationSecrets"]);
        expect(worker.DeadLetterRefused.Action).to.deep.equal(["sqs:SendMessage"]);
        expect(worker.DeadLetterRefused.Resource).to.match(/dd-stripe-default-dlq/);
        expect(worker.ReadDestinationSecrets.Action).to.deep.equal(["secretsmanager:GetSecretValue"]);
        expect(worker.ReadDestinationSecrets.Resource).to.have.length(2);
        expect(worker.ReadDestinationSecrets.Resource.map((arn: string) => /dd-stripe-default-dest-(signing|auth)/.exec(arn)?.[1]).sort()).to.deep.equal(["auth", "signing"]);
        expect(Object.keys(policyOf("dd-github-default-worker-policy")).sort()).to.deep.equal(["ConsumeLane", "Idempotency", "OwnLogs", "ReadClaimChecks"]);
        const router = policyOf("dd-router-policy");
        for (const arn of worker.ReadDestinationSecrets.Resource) expect(router.ReadSigningSecrets.Resource).not.to.include(arn);
        for (const fn of session.byType("aws:lambda/function:Function")) {
            const code = (await bundleOf(fn)).toString();
            for (const value of [providerSecret, signingSecret, authValue]) expect(code, fn.name).not.to.contain(value);
        }
    });

    it("GIVEN two signed Stripe webhooks WHEN the router's and the worker's uploaded code run THEN one is delivered over https (signed, with its auth header) and the refused one is in the lane's DLQ", async () => {
        // GIVEN
        const stripe = getPlugin("stripe");
        const now = Date.now();
        const bodies = ["evt_dd_ok", "evt_dd_refused"].map((id) => Buffer.from(JSON.stringify({ id, type: "invoice.paid", data: { amount: 100 } })));
        const model = pipeline.model.providers.find((p) => p.name === "stripe")!;
        for (const body of bodies) {
            const headers = { ...stripe.sign(body, providerSecret, now, ""), "content-type": "application/json" };
            const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
            await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "stripe", requestId: `r-${now}`, receivedAt: now, sourceIp: "203.0.113.7", headers: lower, body }, model.headers) }));
        }
        const router = loadBundle<SqsHandler>(await bundleOf(fnNamed("dd-router-fn")));
        const inbound = await receiveAll(queueUrls["catch-all"], 2);
        expect(await router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext("dd-router-fn"))).to.deep.equal({ batchItemFailures: [] });
        await deleteAll(queueUrls["catch-all"], inbound);

        // WHEN the worker's uploaded code handles the lane batch. The certificate is self-signed: trusted for this call only.
        const worker = loadBundle<SqsHandler>(await bundleOf(fnNamed("dd-stripe-default-worker-fn")));
        const laneMessages = await receiveAll(queueUrls["stripe-default"], 2);
        expect(laneMessages).to.have.length(2);
        const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
        let response: SQSBatchResponse;
        try {
            response = await worker(toLambdaEvent(laneMessages, "arn:aws:sqs:us-east-1:123456789012:dd-stripe-default"), lambdaContext("dd-stripe-default-worker-fn"));
        } finally {
            if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
            else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
        }
        await deleteAll(queueUrls["stripe-default"], laneMessages);

        // THEN
        expect(response).to.deep.equal({ batchItemFailures: [] });
        const ok = dest.requests.find((r) => r.headers[DeliveryHeader.EventId] === "evt_dd_ok")!;
        expect(ok.body.equals(bodies[0])).to.equal(true);
        expect(ok.headers["content-type"]).to.equal("application/json");
        expect(ok.headers.authorization).to.equal(authValue);
        expect(ok.headers["x-team"]).to.equal("payments");
        expect(new Webhook(signingSecret).verify(ok.body.toString("utf8"), ok.headers)).to.deep.include({ id: "evt_dd_ok" });
        expect(dest.requests).to.have.length(2);
        const dlq = await receiveAll(dlqUrls["stripe-default"], 1);
        expect(dlq.map((m) => JSON.parse(m.Body!).eventId)).to.deep.equal(["evt_dd_refused"]);
        expect(dlq[0].MessageAttributes?.[DeadLetterAttribute.Reason]?.StringValue).to.equal("destination answered 400: no such customer");
    });

    it("GIVEN a destination URL that is plain http to loopback THEN the program refuses it (only npm start can reach it), naming the lane and the fix", async () => {
        const { WebhookPipeline } = await import("../../components");
        expect(() => new WebhookPipeline("dd-local", { providers: [{ name: "acme", plugin: "github", secret: "s", destination: { url: "http://127.0.0.1:9999/in" } }] })).to.throw(
            /lane acme-default: destination\.url "http:\/\/127\.0\.0\.1:9999\/in" is plain http to a loopback address, which only npm start can reach \(deploy with an https URL\)/,
        );
    });
});
