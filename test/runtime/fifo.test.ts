/**
 * Ordered (FIFO) lanes against moto: group id = the plugin's ordering key,
 * deduplication id = a hash of the lane and the provider's event id; the
 * order of each key survives routing, the worker, a re-routed batch and a
 * send that fails part-way.
 */
import { expect } from "chai";
import { createHash } from "crypto";
import { createRouter } from "../../handlers/router/router";
import { OutboundMessage, sendToSqsLane } from "../../handlers/router/lanes";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { Limits } from "../../model/constants";
import { parseLaneMessage } from "../../model/lane-message";
import { createRuntime, drain, enqueue, inboundRecords, recordingHandler, routeCatchAll, RouteFn, RuntimeFixture, runWorker, signedWebhook, take } from "../support/runtime";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("runtime: FIFO lanes keep each ordering key's order (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let route: RouteFn;
    const laneId = "stripe-default";
    // customers A and B interleaved
    const events = [
        ["evt_a1", "cus_A"],
        ["evt_b1", "cus_B"],
        ["evt_a2", "cus_A"],
        ["evt_a3", "cus_A"],
        ["evt_b2", "cus_B"],
        ["evt_a4", "cus_A"],
    ] as const;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe", ordering: true }] }, { suite: "fifo" });
        route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
    });

    it("GIVEN interleaved events of two customers WHEN routed (twice: a catch-all redelivery) THEN the FIFO lane holds each event once, grouped by customer, deduplicated by event id, in order", async () => {
        // Prepare
        const webhooks = events.map(([id, customer]) => signedWebhook(rt.provider("stripe"), JSON.stringify({ id, type: "invoice.updated", data: { object: { customer } } }), rt.secrets.stripe[0]));
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));

        // Act: route, then route the same records again
        const { result, messages } = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const again = await route(inboundRecords(messages));
        const lane = await take(rt.clients.sqs, rt.resources.lanes[laneId].queue.url);

        // Assess
        expect([result.failures, again.failures]).to.deep.equal([[], []]);
        expect(lane.map((m) => [parseLaneMessage(m.Body!).eventId, m.Attributes!.MessageGroupId, m.Attributes!.MessageDeduplicationId])).to.deep.equal(
            events.map(([id, customer]) => [id, customer, sha256(`${laneId}\n${id}`)]),
        );
    });

    it("GIVEN the FIFO lane WHEN the worker (FIFO batch processor) runs THEN the handler sees each customer's events in order", async () => {
        // Prepare
        const webhooks = events.map(([id, customer]) => signedWebhook(rt.provider("stripe"), JSON.stringify({ id: `${id}_w`, type: "invoice.updated", data: { object: { customer } } }), rt.secrets.stripe[0]));
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));
        expect((await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result.failures).to.deep.equal([]);
        const recorder = recordingHandler();
        const worker = makeWorkerHandler(() => rt.resources.workers[laneId], recorder.handler);

        // Act
        for (let i = 0; i < 5; i++) if (!(await runWorker(worker, rt.clients.sqs, rt.resources.lanes[laneId])).messages.length) break;

        // Assess
        const order = (customer: string) => recorder.events.filter((e) => e.orderingKey === customer).map((e) => e.eventId);
        expect({ A: order("cus_A"), B: order("cus_B") }).to.deep.equal({ A: ["evt_a1_w", "evt_a2_w", "evt_a3_w", "evt_a4_w"], B: ["evt_b1_w", "evt_b2_w"] });
    });

    it("GIVEN a send whose first call fails WHEN later messages of the same group follow THEN they are withheld (failed with it), other groups are sent", async () => {
        // Prepare: A's first message alone in a call SQS refuses (over 1 MiB), then A's second and B's first in the next call
        const lane = rt.resources.router.lanes[laneId];
        const message = (recordId: string, eventId: string, orderingKey: string, bytes = 100): OutboundMessage => ({ recordId, lane, body: JSON.stringify({ eventId, pad: "x".repeat(bytes) }), eventId, orderingKey, provider: "stripe" });
        const outbound = [message("r-a1", "e-a1", "cus_A", Limits.sqsMaxMessageBytes + 1), message("r-a2", "e-a2", "cus_A"), message("r-b1", "e-b1", "cus_B")];

        // Act
        const outcome = await sendToSqsLane(rt.clients.sqs, lane, outbound);

        // Assess: two calls made; A's messages both failed; B's sent; only B's is in the lane
        expect(outcome.calls).to.equal(2);
        expect([...outcome.failed.keys()].sort()).to.deep.equal(["r-a1", "r-a2"]);
        expect(outcome.failed.get("r-a2")).to.match(/^withheld/);
        const inLane = await drain(rt.clients.sqs, rt.resources.lanes[laneId].queue.url);
        expect(inLane.map((m) => JSON.parse(m.Body!).eventId)).to.deep.equal(["e-b1"]);
    });
});
