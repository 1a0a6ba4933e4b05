/**
 * Idempotency against moto's DynamoDB: a provider event is handed to the
 * handler once, whether SQS redelivers the lane message, the catch-all record
 * is routed twice, or the provider re-sends the event later as a new request.
 */
import { expect } from "chai";
import { createRouter } from "../../handlers/router/router";
import { createLaneProcessor, IdempotencyKeyPrefix } from "../../handlers/worker/worker";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { parseLaneMessage } from "../../model/lane-message";
import { toLambdaEvent } from "../../local/sqs-event";
import { createRuntime, enqueue, inboundRecords, lambdaContext, readArchive, recordingHandler, routeCatchAll, RouteFn, RuntimeFixture, signedWebhook, take } from "../support/runtime";

describe("runtime: a redelivered event reaches the handler once (moto, DynamoDB idempotency)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let route: RouteFn;
    const laneUrl = () => rt.resources.lanes["stripe-default"].queue.url;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe" }] }, { suite: "idem" });
        route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
    });

    /** Sign, enqueue and route one Stripe event; returns the lane message(s) it produced. */
    async function deliver(body: string, receivedAt = Date.now()) {
        const webhook = signedWebhook(rt.provider("stripe"), body, rt.secrets.stripe[0], { receivedAt });
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook.message]);
        const { result } = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        expect(result.failures).to.deep.equal([]);
        return { webhook, lane: await take(rt.clients.sqs, laneUrl()) };
    }

    it("GIVEN one lane message WHEN the worker adapter gets it twice (an SQS redelivery) THEN the handler runs once and both invocations succeed", async () => {
        // Prepare
        const { lane } = await deliver(`{"id":"evt_twice","type":"invoice.paid"}`);
        const recorder = recordingHandler();
        const worker = makeWorkerHandler(() => rt.resources.workers["stripe-default"], recorder.handler);
        const event = toLambdaEvent(lane, rt.resources.lanes["stripe-default"].queue.arn);

        // Act
        const first = await worker(event, lambdaContext("w"));
        const second = await worker(event, lambdaContext("w"));

        // Assess
        expect([first, second]).to.deep.equal([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
        expect(recorder.events.map((e) => e.eventId)).to.deep.equal(["evt_twice"]);
    });

    it("GIVEN the provider re-sends an event later as a new request (new request id, new signature) WHEN both are routed and processed THEN both are archived and routed, the second is a duplicate", async () => {
        // Prepare: the same Stripe event id, sent twice 2 minutes apart (a provider retry)
        const body = `{"id":"evt_resent","type":"invoice.paid"}`;
        const a = await deliver(body, Date.now() - 120_000);
        const b = await deliver(body);
        const recorder = recordingHandler();
        const processLane = createLaneProcessor({ config: rt.resources.workers["stripe-default"], handler: recorder.handler, s3: rt.clients.s3, dynamo: rt.clients.dynamo });

        // Act
        const outcomes = [await processLane(a.lane[0].Body!), await processLane(b.lane[0].Body!)];

        // Assess
        expect(a.webhook.requestId).to.not.equal(b.webhook.requestId);
        expect([a.lane.length, b.lane.length]).to.deep.equal([1, 1]);
        expect(outcomes).to.deep.equal(["processed", "duplicate"]);
        expect(recorder.events.map((e) => [e.eventId, e.requestId])).to.deep.equal([["evt_resent", a.webhook.requestId]]);
        const archived = (await readArchive(rt.clients.s3, rt.resources.bucket, "raw/")).filter((l) => l.eventId === "evt_resent");
        expect(archived.map((l) => l.requestId).sort()).to.deep.equal([a.webhook.requestId, b.webhook.requestId].sort());
    });

    it("GIVEN the same catch-all record routed twice (a catch-all redelivery) WHEN both lane messages are processed THEN the handler runs once", async () => {
        // Prepare: route the same record twice
        const webhook = signedWebhook(rt.provider("stripe"), `{"id":"evt_rerouted","type":"x"}`, rt.secrets.stripe[0]);
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook.message]);
        const records = (await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).messages;
        const again = await route(inboundRecords(records));
        expect(again.failures).to.deep.equal([]);
        const lane = await take(rt.clients.sqs, laneUrl());
        const recorder = recordingHandler();
        const processLane = createLaneProcessor({ config: rt.resources.workers["stripe-default"], handler: recorder.handler, s3: rt.clients.s3, dynamo: rt.clients.dynamo });

        // Act
        const outcomes = [];
        for (const m of lane) outcomes.push(await processLane(m.Body!));

        // Assess
        expect(lane.map((m) => parseLaneMessage(m.Body!).eventId)).to.deep.equal(["evt_rerouted", "evt_rerouted"]);
        expect(outcomes).to.deep.equal(["processed", "duplicate"]);
        expect(recorder.events).to.have.length(1);
    });

    it("GIVEN a handler that fails the first time WHEN the message is redelivered THEN the second attempt runs the handler (a failure is not remembered as done)", async () => {
        const { lane } = await deliver(`{"id":"evt_flaky","type":"x"}`);
        let calls = 0;
        const recorder = recordingHandler({ fail: () => ++calls === 1 });
        const processLane = createLaneProcessor({ config: rt.resources.workers["stripe-default"], handler: recorder.handler, s3: rt.clients.s3, dynamo: rt.clients.dynamo });

        const first = await processLane(lane[0].Body!, { attempt: 1 }).then(String, (err: Error) => `threw: ${err.message}`);
        const second = await processLane(lane[0].Body!, { attempt: 2 });
        const third = await processLane(lane[0].Body!, { attempt: 3 });

        expect([first, second, third]).to.deep.equal(["threw: handler refused evt_flaky", "processed", "duplicate"]);
        expect(recorder.attempts).to.deep.equal([1, 2]);
    });

    it("GIVEN two worker functions of one lane with different names (a redeploy that replaced the function) WHEN both see the same event THEN the second is a duplicate", async () => {
        // Prepare: Powertools reads AWS_LAMBDA_FUNCTION_NAME when the persistence layer is created
        const { lane } = await deliver(`{"id":"evt_moved","type":"x"}`);
        const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
        const recorder = recordingHandler();
        const processorNamed = (name: string) => {
            process.env.AWS_LAMBDA_FUNCTION_NAME = name;
            try {
                return createLaneProcessor({ config: rt.resources.workers["stripe-default"], handler: recorder.handler, s3: rt.clients.s3, dynamo: rt.clients.dynamo });
            } finally {
                if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
                else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
            }
        };
        const oldFunction = processorNamed("rt-stripe-default-worker-fn-1a2b3c");
        const newFunction = processorNamed("rt-stripe-default-worker-fn-9z8y7x");

        // Act
        const outcomes = [await oldFunction(lane[0].Body!), await newFunction(lane[0].Body!)];

        // Assess: one record, keyed by the fixed prefix
        expect(outcomes).to.deep.equal(["processed", "duplicate"]);
        const { Items = [] } = await rt.clients.dynamo.send(new ScanCommand({ TableName: rt.resources.table }));
        const ids = Items.map((i) => i.id.S!).filter((id) => id.startsWith(`${IdempotencyKeyPrefix}#`));
        expect(ids.length).to.equal(Items.length);
    });
});
