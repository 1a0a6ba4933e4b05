/**
 * Delivery to a destination, end to end against real servers: signed
 * webhooks through the router (moto SQS, S3, Secrets Manager, DynamoDB) to
 * the lane, then the Lambda worker adapter (makeWorkerHandler) or the local
 * worker pool delivers to a node http server on loopback. Forwarded requests
 * are verified with the official `standardwebhooks` package, as a receiver
 * would.
 */
import { expect } from "chai";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { DeadLetterAttribute } from "../../handlers/worker/sqs-record";
import { DeliveryHeader } from "../../model/delivery";
import { createRuntime, enqueue, recordingHandler, routeCatchAll, RouteFn, runWorker, RuntimeFixture, signedWebhook, take } from "../support/runtime";
import { startDestination, TestDestination } from "../support/destination";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const whsec = (seed: string) => `whsec_${Buffer.from(`destination-key-${seed}-0123456789`).toString("base64")}`;
const never = recordingHandler({ fail: () => true }).handler;

interface Setup {
    rt: RuntimeFixture;
    route: RouteFn;
    dest: TestDestination;
    lane: string;
}

/** A Stripe provider whose default lane delivers to a fresh test destination. */
async function setup(suite: string, destination: Record<string, unknown> = {}, provider: Record<string, unknown> = {}, options: { visibilityTimeoutSeconds?: number } = {}): Promise<Setup> {
    const dest = await startDestination();
    const rt = await createRuntime(
        { providers: [{ name: "stripe", plugin: "stripe", maxReceiveCount: 5, destination: { url: dest.url, ...destination }, ...provider }] },
        { suite, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1 },
    );
    const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
    return { rt, route, dest, lane: "stripe-default" };
}

/** Sign, enqueue and route Stripe events (with a Content-Type, as Stripe sends). */
async function send(s: Setup, bodies: readonly string[], contentType = "application/json; charset=utf-8"): Promise<void> {
    const webhooks = bodies.map((b) => signedWebhook(s.rt.provider("stripe"), b, s.rt.secrets.stripe[0], { headers: { "content-type": contentType } }));
    await enqueue(s.rt.clients.sqs, s.rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));
    for (let routed = 0; routed < bodies.length; ) {
        const { result, messages } = await routeCatchAll(s.route, s.rt.clients.sqs, s.rt.resources.catchAll);
        expect(result.failures).to.deep.equal([]);
        routed += messages.length;
    }
}

/** Run the Lambda worker adapter on the lane until `done()` or `timeoutMs`; returns the invocations' failure counts. */
async function work(s: Setup, done: () => boolean, timeoutMs = 20_000): Promise<number[]> {
    const worker = makeWorkerHandler(() => s.rt.resources.workers[s.lane], never);
    const failures: number[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) {
        const { response, messages } = await runWorker(worker, s.rt.clients.sqs, s.rt.resources.lanes[s.lane]);
        if (messages.length) failures.push(response.batchItemFailures.length);
        else await sleep(100);
    }
    return failures;
}

const stripeEvent = (id: string, extra = "") => `{"id":"${id}","type":"invoice.paid","data":{"amount":4200,"note":"caf\u00e9 \u2603"}${extra}}`;

describe("destination: delivery to an HTTP service (node http server, moto)", function () {
    this.timeout(120_000);
    const opened: TestDestination[] = [];
    afterEach(async () => {
        for (const d of opened.splice(0)) await d.close();
    });
    const track = (s: Setup) => (opened.push(s.dest), s);

    it("GIVEN a signed event WHEN delivered THEN the exact bytes, content type, identifying, configured and auth headers arrive, and the signature verifies with standardwebhooks", async () => {
        // Prepare
        const secret = whsec("one");
        const s = track(await setup("dexact", { headers: { "X-Team": "payments" }, auth: { header: "Authorization", secret: "Bearer t0ken" }, signingSecret: secret }));
        const body = stripeEvent("evt_exact", ',\n  "spaces" :  [ 1 ,2 ] ');

        // Act
        await send(s, [body], "application/json; charset=utf-8");
        const failures = await work(s, () => s.dest.requests.length >= 1);

        // Assess
        expect(failures).to.deep.equal([0]);
        expect(s.dest.requests).to.have.length(1);
        const got = s.dest.requests[0];
        expect(got.method).to.equal("POST");
        expect(got.path).to.equal("/hooks");
        expect(got.body.equals(Buffer.from(body, "utf8"))).to.equal(true, "body bytes differ");
        expect(got.headers["content-type"]).to.equal("application/json; charset=utf-8");
        expect(got.headers["x-team"]).to.equal("payments");
        expect(got.headers.authorization).to.equal("Bearer t0ken");
        expect(got.headers[DeliveryHeader.EventId]).to.equal("evt_exact");
        expect(got.headers[DeliveryHeader.EventType]).to.equal("invoice.paid");
        expect(got.headers[DeliveryHeader.Provider]).to.equal("stripe");
        expect(got.headers[DeliveryHeader.Lane]).to.equal("stripe-default");
        expect(got.headers[DeliveryHeader.Attempt]).to.equal("1");
        expect(Date.parse(got.headers[DeliveryHeader.ReceivedAt])).to.be.closeTo(Date.now(), 60_000);
        expect(got.headers[DeliveryHeader.RequestId]).to.match(/^req-/);
        const verified = new Webhook(secret).verify(got.body.toString("utf8"), got.headers);
        expect(verified).to.deep.include({ id: "evt_exact", type: "invoice.paid" });
        expect(() => new Webhook(whsec("other")).verify(got.body.toString("utf8"), got.headers)).to.throw();
    });

    it("GIVEN two signing secrets (a rotation) WHEN delivered THEN two v1 signatures are sent and each secret alone verifies", async () => {
        // Prepare
        const [oldSecret, newSecret] = [whsec("old"), whsec("new")];
        const s = track(await setup("drotate", { signingSecret: [oldSecret, newSecret] }));

        // Act
        await send(s, [stripeEvent("evt_rotate")]);
        await work(s, () => s.dest.requests.length >= 1);

        // Assess
        const got = s.dest.requests[0];
        const entries = got.headers["webhook-signature"].split(" ");
        expect(entries).to.have.length(2);
        expect(entries.every((e) => e.startsWith("v1,"))).to.equal(true);
        for (const secret of [oldSecret, newSecret]) expect(new Webhook(secret).verify(got.body.toString("utf8"), got.headers)).to.deep.include({ id: "evt_rotate" });
    });

    it("GIVEN a destination that answers 500 then 200 WHEN the message is retried THEN it is processed once in two attempts with the same webhook-id, and a redelivery is not delivered again", async () => {
        // Prepare
        const s = track(await setup("d500", { signingSecret: whsec("500") }));
        s.dest.respond((_, i) => ({ status: i === 0 ? 500 : 200, body: i === 0 ? "boom" : "ok" }));

        // Act
        await send(s, [stripeEvent("evt_500")]);
        const failures = await work(s, () => s.dest.requests.some((r) => r.status === 200));
        // The same lane message again (an SQS redelivery after a lost delete): idempotency answers, the destination is not called.
        await send(s, [stripeEvent("evt_500")]);
        const again = await work(s, () => false, 2_500);

        // Assess
        expect(failures).to.deep.equal([1, 0]);
        expect(again).to.deep.equal([0]);
        expect(s.dest.requests.map((r) => [r.status, r.headers[DeliveryHeader.Attempt]])).to.deep.equal([
            [500, "1"],
            [200, "2"],
        ]);
        expect(new Set(s.dest.requests.map((r) => r.headers["webhook-id"])).size).to.equal(1);
    });

    it("GIVEN a destination that answers 429 with Retry-After: 3 WHEN the message is retried THEN the next attempt waits at least 3 s (the queue's own visibility is 1 s)", async () => {
        // Prepare
        const s = track(await setup("d429"));
        s.dest.respond((_, i) => (i === 0 ? { status: 429, headers: { "retry-after": "3" } } : { status: 200 }));

        // Act
        await send(s, [stripeEvent("evt_429")]);
        await work(s, () => s.dest.requests.some((r) => r.status === 200));

        // Assess
        expect(s.dest.requests.map((r) => r.status)).to.deep.equal([429, 200]);
        const waited = s.dest.requests[1].at - s.dest.requests[0].at;
        console.log(`      429 Retry-After 3: the second attempt came ${(waited / 1000).toFixed(2)} s after the first`);
        expect(waited).to.be.at.least(2_900);
    });

    it("GIVEN a destination that answers 400 WHEN delivered THEN after one attempt the message is in the lane's DLQ with the status and the answer's excerpt, and nothing is left in the lane", async () => {
        // Prepare
        const s = track(await setup("d400"));
        s.dest.respond(() => ({ status: 400, body: `{"error":"amount must be positive"}` }));

        // Act
        await send(s, [stripeEvent("evt_400")]);
        const failures = await work(s, () => s.dest.requests.length >= 1);
        await sleep(1_500); // longer than the lane's visibility: a retry would show now

        // Assess
        expect(failures).to.deep.equal([0]);
        expect(await take(s.rt.clients.sqs, s.rt.resources.lanes[s.lane].queue.url)).to.deep.equal([]);
        expect(s.dest.requests).to.have.length(1);
        const dlq = await take(s.rt.clients.sqs, s.rt.resources.lanes[s.lane].dlq.url);
        expect(dlq).to.have.length(1);
        expect(JSON.parse(dlq[0].Body!)).to.include({ eventId: "evt_400", provider: "stripe" });
        expect(dlq[0].MessageAttributes?.[DeadLetterAttribute.Status]?.StringValue).to.equal("400");
        expect(dlq[0].MessageAttributes?.[DeadLetterAttribute.Reason]?.StringValue).to.equal(`destination answered 400: {"error":"amount must be positive"}`);
    });

    it("GIVEN a destination that does not answer within the destination timeout WHEN delivered THEN the attempt is retried and the second one delivers", async () => {
        // Prepare
        const s = track(await setup("dtimeout", { timeoutSeconds: 1 }));
        s.dest.respond((_, i) => ({ status: 200, delayMs: i === 0 ? 3_000 : 0 }));

        // Act
        await send(s, [stripeEvent("evt_slow")]);
        const failures = await work(s, () => s.dest.requests.length >= 2 && s.dest.requests[1].status === 200);

        // Assess
        expect(failures[0]).to.equal(1);
        expect(s.dest.requests.map((r) => r.headers[DeliveryHeader.Attempt])).to.deep.equal(["1", "2"]);
        expect(s.dest.requests[0].headers[DeliveryHeader.EventId]).to.equal("evt_slow");
    });

    it("GIVEN a 4xx answer other than 408 and 429, or a redirect THEN it is permanent; 408, 429 and 5xx are retried", async () => {
        // Prepare
        const s = track(await setup("dtable", {}, { maxReceiveCount: 5 }));
        const answers: Record<string, number> = { evt_301: 301, evt_404: 404, evt_410: 410, evt_408: 408, evt_503: 503 };
        s.dest.respond((r) => {
            const id = r.headers[DeliveryHeader.EventId];
            // First attempt: the scripted status; later attempts succeed.
            const first = s.dest.requests.filter((x) => x.headers[DeliveryHeader.EventId] === id).length === 1;
            const headers: Record<string, string> = answers[id] === 301 ? { location: "https://elsewhere.example.com/" } : {};
            return first ? { status: answers[id], headers } : { status: 200 };
        });

        // Act
        await send(s, Object.keys(answers).map((id) => stripeEvent(id)));
        await work(s, () => ["evt_408", "evt_503"].every((id) => s.dest.requests.some((r) => r.headers[DeliveryHeader.EventId] === id && r.status === 200)));

        // Assess
        const attempts = (id: string) => s.dest.requests.filter((r) => r.headers[DeliveryHeader.EventId] === id).length;
        expect(Object.fromEntries(Object.keys(answers).map((id) => [id, attempts(id)]))).to.deep.equal({ evt_301: 1, evt_404: 1, evt_410: 1, evt_408: 2, evt_503: 2 });
        const dlq = await take(s.rt.clients.sqs, s.rt.resources.lanes[s.lane].dlq.url);
        expect(dlq.map((m) => JSON.parse(m.Body!).eventId).sort()).to.deep.equal(["evt_301", "evt_404", "evt_410"]);
        const redirect = dlq.find((m) => JSON.parse(m.Body!).eventId === "evt_301")!;
        expect(redirect.MessageAttributes?.[DeadLetterAttribute.Reason]?.StringValue).to.contain("redirect to https://elsewhere.example.com/ not followed");
    });

    it("GIVEN a handler lane with retry { exponential, initialSeconds 2 } WHEN its handler fails THEN the worker sets the message's visibility to the schedule's delay (observed in moto: not back at 1.2 s, back by 3 s)", async () => {
        // Prepare: no destination; the queue's own visibility is 1 s
        const rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe", retry: { backoff: "exponential", initialSeconds: 2, maxSeconds: 4 } }] }, { suite: "dsched", visibilityTimeoutSeconds: 1 });
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const webhook = signedWebhook(rt.provider("stripe"), stripeEvent("evt_sched"), rt.secrets.stripe[0]);
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook.message]);
        await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const failing = recordingHandler({ fail: () => true });
        const worker = makeWorkerHandler(() => rt.resources.workers["stripe-default"], failing.handler);
        const lane = rt.resources.lanes["stripe-default"];

        // Act
        const first = await runWorker(worker, rt.clients.sqs, lane);
        const failedAt = Date.now();
        await sleep(1_200);
        const early = await rt.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: lane.queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        let back = 0;
        while (Date.now() - failedAt < 4_000) {
            const { Messages = [] } = await rt.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: lane.queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"] }));
            if (Messages.length) {
                back = Date.now() - failedAt;
                expect(Messages[0].Attributes?.ApproximateReceiveCount).to.equal("2");
                break;
            }
            await sleep(100);
        }

        // Assess
        expect(first.response.batchItemFailures).to.have.length(1);
        expect(early.Messages ?? []).to.deep.equal([]);
        console.log(`      retry schedule: attempt 1 failed, the message was back after ${(back / 1000).toFixed(2)} s (nominal 2 s, jitter down to 1.6 s, rounded up to whole seconds)`);
        expect(back).to.be.within(1_500, 3_500);
    });
});
