/**
 * Failures against moto: a lane that cannot take its messages fails exactly
 * those records (the rest of the batch is routed once), and a handler that
 * always throws is redelivered by real SQS until the lane's redrive policy
 * moves the message to the DLQ.
 */
import { expect } from "chai";
import { CreateQueueCommand, DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { createRouter } from "../../handlers/router/router";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { parseLaneMessage } from "../../model/lane-message";
import { createRuntime, drain, enqueue, inboundRecords, readArchive, receiveAtLeast, recordingHandler, routeCatchAll, RuntimeFixture, runWorker, signedWebhook, take } from "../support/runtime";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runtime: a lane that fails its send fails exactly its records (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;

    before(async () => {
        // Visibility 1 s: a failed catch-all record is redelivered at once, as the event source would after its timeout.
        rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe", routes: { "invoice.*": "billing" }, lanes: { billing: {} } }] }, { suite: "fail", visibilityTimeoutSeconds: 1 });
    });

    it("GIVEN a batch for two lanes, one of whose queue is gone WHEN routed THEN exactly its records are batch item failures and the other lane gets its events once, also after the failed ones are redelivered", async () => {
        // Prepare: 4 events per lane, interleaved; the billing queue deleted
        const now = Date.now();
        const webhooks = Array.from({ length: 8 }, (_, i) =>
            signedWebhook(rt.provider("stripe"), JSON.stringify({ id: `evt_${i}`, type: i % 2 ? "invoice.paid" : "charge.succeeded" }), rt.secrets.stripe[0], { receivedAt: now }),
        );
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));
        const billing = rt.resources.lanes["stripe-billing"].queue;
        await rt.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: billing.url }));
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });

        // Act: first delivery
        const first = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);

        // Assess: the failures are exactly the billing records
        const billingMessageIds = first.messages.filter((m) => JSON.parse(m.Body!).type === "invoice.paid").map((m) => m.MessageId!);
        expect(billingMessageIds).to.have.length(4);
        expect([...first.result.failures].sort()).to.deep.equal([...billingMessageIds].sort());
        expect(first.result.report).to.deep.include({ received: 8, accepted: 8, routed: { "stripe-default": 4 }, failed: 4, quarantined: {} });
        const defaultLane = rt.resources.lanes["stripe-default"].queue.url;
        expect((await take(rt.clients.sqs, defaultLane)).map((m) => parseLaneMessage(m.Body!).eventId).sort()).to.deep.equal(["evt_0", "evt_2", "evt_4", "evt_6"]);

        // Act: the queue is back (same name, same URL); the failed records come back after their visibility timeout
        await rt.clients.sqs.send(new CreateQueueCommand({ QueueName: billing.name }));
        const redelivered = await receiveAtLeast(rt.clients.sqs, rt.resources.catchAll.queue.url, 4, 10_000);
        const second = await route(inboundRecords(redelivered));

        // Assess: only the 4 failed records came back; now routed; the default lane got nothing more
        expect(redelivered.map((m) => m.MessageId).sort()).to.deep.equal([...billingMessageIds].sort());
        expect(second.failures).to.deep.equal([]);
        expect(second.report.routed).to.deep.equal({ "stripe-billing": 4 });
        expect((await take(rt.clients.sqs, billing.url)).map((m) => parseLaneMessage(m.Body!).eventId).sort()).to.deep.equal(["evt_1", "evt_3", "evt_5", "evt_7"]);
        expect(await drain(rt.clients.sqs, defaultLane)).to.have.length(0);
        // the archive kept the failed requests on both attempts (one line each), the routed ones once
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "raw/");
        const count = (id: string) => lines.filter((l) => l.eventId === id).length;
        expect(["evt_0", "evt_1", "evt_2", "evt_3"].map(count)).to.deep.equal([1, 2, 1, 2]);
    });
});

describe("runtime: a handler that always throws ends in the lane DLQ after maxReceiveCount deliveries (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    const maxReceiveCount = 2;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "acme", plugin: "hmac", signature: { header: "X-Sig", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type", maxReceiveCount }] }, { suite: "dlq", visibilityTimeoutSeconds: 1 });
    });

    it("GIVEN a routed event and a handler that always throws WHEN SQS redelivers it THEN the handler runs maxReceiveCount times, each a batch item failure, and the message lands in the DLQ unchanged", async () => {
        // Prepare
        const webhook = signedWebhook(rt.provider("acme"), `{"id":"evt_poison","type":"order.created"}`, rt.secrets.acme[0]);
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook.message]);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        expect((await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result.failures).to.deep.equal([]);
        const lane = rt.resources.lanes["acme-default"];
        const recorder = recordingHandler({ fail: () => true });
        const worker = makeWorkerHandler(() => rt.resources.workers["acme-default"], recorder.handler);

        // Act: the event source's loop: receive, invoke, leave failures to reappear after the visibility timeout
        const bodies: string[] = [];
        const responses: unknown[] = [];
        for (let round = 0; round < 6; round++) {
            const { response, messages } = await runWorker(worker, rt.clients.sqs, lane, "acme-worker");
            if (messages.length) {
                bodies.push(messages[0].Body!);
                responses.push({ count: messages.length, failures: response.batchItemFailures.map((f) => f.itemIdentifier === messages[0].MessageId) });
            }
            if (round + 1 > maxReceiveCount) break;
            await sleep(1_100);
        }
        const dlq = await receiveAtLeast(rt.clients.sqs, lane.dlq.url, 1, 5_000);

        // Assess
        expect(recorder.attempts).to.deep.equal([1, 2]);
        expect(recorder.events).to.have.length(0);
        expect(responses).to.deep.equal([
            { count: 1, failures: [true] },
            { count: 1, failures: [true] },
        ]);
        expect(dlq.map((m) => m.Body)).to.deep.equal([bodies[0]]);
        expect(parseLaneMessage(dlq[0].Body!).eventId).to.equal("evt_poison");
        expect(await drain(rt.clients.sqs, lane.queue.url)).to.have.length(0);
    });
});
