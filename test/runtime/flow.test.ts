/**
 * Every built-in signature scheme (and the generic hmac one, with and without
 * a timestamp) end to end against moto: catch-all queue -> router -> lane
 * queue -> worker (the Lambda SQS adapter) -> a recording handler.
 */
import { expect } from "chai";
import { createRouter, RouterResult } from "../../handlers/router/router";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { EnvelopeAttribute } from "../../model/envelope";
import { parseLaneMessage, WebhookEvent } from "../../model/lane-message";
import {
    byteDiff,
    createRuntime,
    drain,
    enqueue,
    recordingHandler,
    routeCatchAll,
    RuntimeFixture,
    runWorker,
    signedWebhook,
    SignedWebhook,
} from "../support/runtime";

const config = {
    providers: [
        { name: "stripe", plugin: "stripe", routes: { "invoice.*": "billing", "charge.dispute.*": "drop" }, lanes: { billing: {} } },
        { name: "github", plugin: "github" },
        { name: "shopify", plugin: "shopify" },
        { name: "slack", plugin: "slack" },
        { name: "twilio", plugin: "twilio" },
        { name: "razorpay", plugin: "razorpay" },
        { name: "svix", plugin: "standard-webhooks" },
        {
            name: "acme",
            plugin: "hmac",
            signature: { header: "X-Acme-Signature", algorithm: "sha512", encoding: "base64", prefix: "sig=", timestampHeader: "X-Acme-Timestamp" },
            eventIdHeader: "X-Acme-Id",
            eventTypePath: "type",
            orderingKeyPath: "account.id",
        },
        { name: "plain", plugin: "hmac", signature: { header: "X-Sig", algorithm: "sha1", encoding: "hex" }, eventIdPath: "id", eventTypePath: "kind" },
    ],
};

interface Expected {
    readonly webhook: SignedWebhook;
    readonly lane: string | "drop";
    readonly eventId: string;
    readonly eventType: string;
    readonly orderingKey?: string;
}

describe("runtime: signed webhooks of every scheme flow catch-all -> router -> lane -> worker (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let expected: Expected[];
    let routed: RouterResult;
    /** Request id -> SQS SentTimestamp of its catch-all message. */
    const sentAt: Record<string, number> = {};
    const delivered: WebhookEvent[] = [];
    const laneMessages: Record<string, string[]> = {};

    before(async () => {
        // Prepare: one pipeline, one webhook per scheme (bodies with non-ASCII text and odd whitespace: bytes must survive)
        rt = await createRuntime(config, { suite: "flow" });
        const now = Date.now();
        // Providers behind the ingress function (Slack, Twilio) arrive sealed by it.
        const sign = (name: string, body: string, headers?: Record<string, string>) =>
            signedWebhook(rt.provider(name), body, rt.secrets[name][0], { receivedAt: now, headers, sealKey: rt.provider(name).ingress === "function" ? rt.sealKey : undefined });
        const stripeInvoice = sign("stripe", `{"id":"evt_inv_1","type":"invoice.paid","data":{"object":{"customer":"cus_Zoë"}}}\n`);
        const stripeCharge = sign("stripe", `{\n  "id": "evt_ch_1",\n  "type": "charge.succeeded",\n  "data": {"object": {"id": "ch_1"}}\n}`);
        const stripeDispute = sign("stripe", `{"id":"evt_dp_1","type":"charge.dispute.created","data":{"object":{"id":"dp_1"}}}`);
        const github = sign("github", `{"action":"opened","repository":{"full_name":"octo/café"}}`, { "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event": "issues" });
        const shopify = sign("shopify", `{"id":820982911946154508,"email":"jon@example.com","note":"✓ ok"}`, { "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "X-Shopify-Topic": "orders/create" });
        const slack = sign("slack", `{"type":"event_callback","team_id":"T1","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"héllo"}}`);
        const twilio = sign("twilio", "MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=delivered&To=%2B15558675310&Body=Ol%C3%A1");
        const razorpay = sign("razorpay", `{"entity":"event","account_id":"acc_1","event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_29QQoUBi66xm2f"}}}}`, { "X-Razorpay-Event-Id": "KEv4rsAa7A1kPx" });
        const svix = sign("svix", `{"type":"invoice.paid","data":{"id":"inv_1","amount":4200}}`);
        const acme = sign("acme", `{"type":"order.created","account":{"id":"acct_42"},"total":19.99}`, { "X-Acme-Id": "acme-evt-1" });
        const plain = sign("plain", `{"id":"p-1","kind":"thing.happened"}`);
        expected = [
            { webhook: stripeInvoice, lane: "stripe-billing", eventId: "evt_inv_1", eventType: "invoice.paid", orderingKey: "cus_Zoë" },
            { webhook: stripeCharge, lane: "stripe-default", eventId: "evt_ch_1", eventType: "charge.succeeded", orderingKey: "ch_1" },
            { webhook: stripeDispute, lane: "drop", eventId: "evt_dp_1", eventType: "charge.dispute.created", orderingKey: "dp_1" },
            { webhook: github, lane: "github-default", eventId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", eventType: "issues.opened", orderingKey: "octo/café" },
            { webhook: shopify, lane: "shopify-default", eventId: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", eventType: "orders/create", orderingKey: "example.myshopify.com" },
            { webhook: slack, lane: "slack-default", eventId: "Ev08MFMKH6", eventType: "app_mention", orderingKey: "T1" },
            { webhook: twilio, lane: "twilio-default", eventId: "SM1f0e8ae6ade43cb3c0ce4525424e404f:delivered", eventType: "delivered", orderingKey: "SM1f0e8ae6ade43cb3c0ce4525424e404f" },
            { webhook: razorpay, lane: "razorpay-default", eventId: "KEv4rsAa7A1kPx", eventType: "payment.captured", orderingKey: "pay_29QQoUBi66xm2f" },
            { webhook: svix, lane: "svix-default", eventId: svix.headers["webhook-id"], eventType: "invoice.paid", orderingKey: "inv_1" },
            { webhook: acme, lane: "acme-default", eventId: "acme-evt-1", eventType: "order.created", orderingKey: "acct_42" },
            { webhook: plain, lane: "plain-default", eventId: "p-1", eventType: "thing.happened" },
        ];
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, expected.map((e) => e.webhook.message));

        // Act: one router invocation on the catch-all batch, then each lane's worker
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const batch = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        routed = batch.result;
        for (const m of batch.messages) sentAt[m.MessageAttributes![EnvelopeAttribute.RequestId].StringValue!] = Number(m.Attributes!.SentTimestamp);
        const recorder = recordingHandler();
        for (const [laneId, pair] of Object.entries(rt.resources.lanes)) {
            const worker = makeWorkerHandler(() => rt.resources.workers[laneId], recorder.handler);
            const { response, messages } = await runWorker(worker, rt.clients.sqs, pair, `${laneId}-worker`);
            expect(response, laneId).to.deep.equal({ batchItemFailures: [] });
            laneMessages[laneId] = messages.map((m) => m.Body!);
        }
        delivered.push(...recorder.events);
    });

    it("GIVEN one signed webhook per scheme WHEN the router handles the batch THEN every one is accepted and archived, none fails, and the report says where each went", () => {
        // Assess: the whole report
        expect(routed.failures).to.deep.equal([]);
        expect(routed.report).to.deep.equal({
            received: 11,
            accepted: 11,
            quarantined: {},
            routed: { "stripe-billing": 1, "stripe-default": 1, "github-default": 1, "shopify-default": 1, "slack-default": 1, "twilio-default": 1, "razorpay-default": 1, "svix-default": 1, "acme-default": 1, "plain-default": 1 },
            dropped: { stripe: 1 },
            archived: { stripe: 3, github: 1, shopify: 1, slack: 1, twilio: 1, razorpay: 1, svix: 1, acme: 1, plain: 1 },
            failed: 0,
            calls: { archive: 9, send: 10, claims: 0 },
        });
    });

    it("GIVEN the routed batch THEN each lane queue held exactly its own events, once", () => {
        const byLane: Record<string, string[]> = {};
        for (const [lane, bodies] of Object.entries(laneMessages)) byLane[lane] = bodies.map((b) => parseLaneMessage(b).eventId);
        const want: Record<string, string[]> = Object.fromEntries(Object.keys(rt.resources.lanes).map((l) => [l, []]));
        for (const e of expected) if (e.lane !== "drop") want[e.lane].push(e.eventId);
        expect(byLane).to.deep.equal(want);
    });

    it("GIVEN the lane messages WHEN each worker runs THEN the handler got every routed event once, with exact ids, types, ordering keys and body bytes", () => {
        const routable = expected.filter((e) => e.lane !== "drop");
        expect(delivered.map((d) => d.eventId).sort()).to.deep.equal(routable.map((e) => e.eventId).sort());
        for (const e of routable) {
            const got = delivered.find((d) => d.eventId === e.eventId)!;
            expect({ provider: got.provider, lane: got.lane, eventType: got.eventType, orderingKey: got.orderingKey, requestId: got.requestId, receivedAt: got.receivedAt, replay: got.replay }, e.eventId).to.deep.equal({
                provider: e.webhook.provider,
                lane: e.lane,
                eventType: e.eventType,
                orderingKey: e.orderingKey,
                requestId: e.webhook.requestId,
                // the time no sender can set: the ingress function's sealed edge time, else SQS's SentTimestamp
                receivedAt: e.webhook.message.MessageAttributes[EnvelopeAttribute.Seal] ? e.webhook.receivedAt : sentAt[e.webhook.requestId],
                replay: false,
            });
            expect(byteDiff(got.body, e.webhook.body), e.eventId).to.equal("equal");
            expect(got.archiveKey, e.eventId).to.match(new RegExp(`^raw/provider=${e.webhook.provider}/dt=\\d{4}-\\d{2}-\\d{2}/hour=\\d{2}/.+\\.ndjson\\.gz#\\d+$`));
        }
    });

    it("GIVEN the flow ran THEN the catch-all queue and every lane queue are empty (nothing left behind, nothing redelivered)", async () => {
        expect(await drain(rt.clients.sqs, rt.resources.catchAll.queue.url)).to.have.length(0);
        for (const [lane, pair] of Object.entries(rt.resources.lanes)) expect(await drain(rt.clients.sqs, pair.queue.url), lane).to.have.length(0);
    });
});
