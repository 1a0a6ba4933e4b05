/**
 * Fan-out against moto: a route naming several lanes sends each lane the
 * event once, archives the request once, puts a large body to S3 once, and
 * the workers' idempotency is per lane. A lane whose send fails fails the
 * catch-all record; its redelivery reaches the lanes that took it already,
 * and their workers skip it as a duplicate. A record written under the key
 * of the release before per-lane keys is honoured until it expires.
 */
import { expect } from "chai";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { createRouter } from "../../handlers/router/router";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { createLaneProcessor, IdempotencyKeyPrefix, idempotencyKey, legacyIdempotencyKey } from "../../handlers/worker/worker";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { LaneMessage, parseLaneMessage } from "../../model/lane-message";
import { Limits } from "../../model/constants";
import {
    byteDiff,
    createRuntime,
    deleteMessages,
    drain,
    enqueue,
    inboundRecords,
    listKeys,
    readArchive,
    receiveAtLeast,
    recordingHandler,
    routeCatchAll,
    RouteFn,
    RuntimeFixture,
    runWorker,
    signedWebhook,
    take,
} from "../support/runtime";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const Billing = "stripe-billing";
const Analytics = "stripe-analytics";

describe("runtime: fan-out routes (moto)", function () {
    this.timeout(90_000);
    let rt: RuntimeFixture;
    let route: RouteFn;
    const queueOf = (lane: string) => rt.resources.lanes[lane].queue.url;
    const processorFor = (lane: string, handler = recordingHandler().handler) => createLaneProcessor({ config: rt.resources.workers[lane], handler, s3: rt.clients.s3, dynamo: rt.clients.dynamo });

    before(async () => {
        // Visibility 1 s everywhere: a failed message is redelivered at once, as after the lane's timeout.
        rt = await createRuntime(
            { providers: [{ name: "stripe", plugin: "stripe", routes: { "invoice.*": ["billing", "analytics"] }, lanes: { billing: {}, analytics: { maxReceiveCount: 2 } } }] },
            { suite: "fan", visibilityTimeoutSeconds: 1 },
        );
        route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
    });

    /** Sign and enqueue Stripe events (one request each). */
    async function send(...bodies: string[]) {
        const webhooks = bodies.map((b) => signedWebhook(rt.provider("stripe"), b, rt.secrets.stripe[0]));
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));
        return webhooks;
    }

    it("GIVEN a route to [billing, analytics] WHEN one event is routed and both lanes' workers run THEN each lane gets it once, each handler runs once, the archive holds one line naming both lanes, counts are per lane", async () => {
        // Prepare: an invoice (fanned out) and a charge (default lane) in one batch
        const [invoice, charge] = await send(`{"id":"evt_fan_1","type":"invoice.paid"}`, `{"id":"evt_plain_1","type":"charge.succeeded"}`);
        const billing = recordingHandler();
        const analytics = recordingHandler();

        // Act
        const { result } = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const billingRun = await runWorker(makeWorkerHandler(() => rt.resources.workers[Billing], billing.handler), rt.clients.sqs, rt.resources.lanes[Billing], "billing");
        const analyticsRun = await runWorker(makeWorkerHandler(() => rt.resources.workers[Analytics], analytics.handler), rt.clients.sqs, rt.resources.lanes[Analytics], "analytics");

        // Assess: the report counts per lane, one archive object for the batch
        expect(result.failures).to.deep.equal([]);
        expect(result.report).to.deep.include({ received: 2, accepted: 2, routed: { [Billing]: 1, [Analytics]: 1, "stripe-default": 1 }, archived: { stripe: 2 }, dropped: {}, failed: 0 });
        expect(result.report.calls).to.deep.equal({ archive: 1, send: 3, claims: 0 });
        // each lane's worker got exactly one message, for its own lane, and its handler ran once
        expect([billingRun.messages.length, analyticsRun.messages.length]).to.deep.equal([1, 1]);
        expect([billingRun.response, analyticsRun.response]).to.deep.equal([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
        expect(billing.events.map((e) => [e.lane, e.eventId, e.requestId])).to.deep.equal([[Billing, "evt_fan_1", invoice.requestId]]);
        expect(analytics.events.map((e) => [e.lane, e.eventId, e.requestId])).to.deep.equal([[Analytics, "evt_fan_1", invoice.requestId]]);
        // both lane messages point at the same archive line
        const keys = [billingRun, analyticsRun].map((r) => parseLaneMessage(r.messages[0].Body!).archiveKey);
        expect(keys[0]).to.equal(keys[1]);
        const lines = (await readArchive(rt.clients.s3, rt.resources.bucket, "raw/")).filter((l) => l.requestId === invoice.requestId || l.requestId === charge.requestId);
        expect(lines.map((l) => ({ requestId: l.requestId, target: l.target, targets: l.targets }))).to.have.deep.members([
            { requestId: invoice.requestId, target: Billing, targets: [Billing, Analytics] },
            { requestId: charge.requestId, target: "stripe-default", targets: undefined },
        ]);
        expect(new Set(lines.map((l) => l.key)).size).to.equal(1);
        expect((await take(rt.clients.sqs, queueOf("stripe-default"))).map((m) => parseLaneMessage(m.Body!).eventId)).to.deep.equal(["evt_plain_1"]);
    });

    it("GIVEN a body too large for a lane message on a fan-out route WHEN routed THEN it is put to S3 once, both lanes' messages point at that object, and each worker reads the exact bytes", async () => {
        // Prepare: a body above the inline limit
        const body = Buffer.from(JSON.stringify({ id: "evt_fan_big", type: "invoice.finalized", pad: "x".repeat(Limits.laneInlineBodyBytes + 1024) }));
        const [big] = await send(body.toString("utf8"));
        const claimsBefore = await listKeys(rt.clients.s3, rt.resources.bucket, "claims/stripe/");

        // Act
        const { result } = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const [billingMessages, analyticsMessages] = [await take(rt.clients.sqs, queueOf(Billing)), await take(rt.clients.sqs, queueOf(Analytics))];
        const billing = recordingHandler();
        const analytics = recordingHandler();
        const outcomes = [await processorFor(Billing, billing.handler)(billingMessages[0].Body!), await processorFor(Analytics, analytics.handler)(analyticsMessages[0].Body!)];

        // Assess
        expect(result.failures).to.deep.equal([]);
        expect(result.report.calls.claims).to.equal(1);
        const claimsAfter = await listKeys(rt.clients.s3, rt.resources.bucket, "claims/stripe/");
        expect(claimsAfter.filter((k) => !claimsBefore.includes(k))).to.have.length(1);
        const claims = [billingMessages, analyticsMessages].map((m) => parseLaneMessage(m[0].Body!));
        expect(claims.map((m) => m.lane)).to.deep.equal([Billing, Analytics]);
        expect(claims[0].claim).to.deep.equal(claims[1].claim);
        expect(outcomes).to.deep.equal(["processed", "processed"]);
        expect([byteDiff(billing.events[0].body, big.body), byteDiff(analytics.events[0].body, big.body)]).to.deep.equal(["equal", "equal"]);
    });

    it("GIVEN the analytics lane refuses the send WHEN the record is redelivered and routed again THEN billing gets a second copy, its worker skips it as a duplicate, and each handler runs once", async () => {
        // Prepare: a router whose analytics lane names a queue moto does not have (a real QueueDoesNotExist)
        const config = rt.resources.router;
        const broken = { ...config, lanes: { ...config.lanes, [Analytics]: { ...config.lanes[Analytics], queueUrl: `${config.lanes[Analytics].queueUrl}-gone` } } };
        const brokenRoute = createRouter({ config: broken, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        await send(`{"id":"evt_fan_partial","type":"invoice.paid"}`);
        const billing = recordingHandler();
        const analytics = recordingHandler();
        const billingWorker = processorFor(Billing, billing.handler);
        const analyticsWorker = processorFor(Analytics, analytics.handler);

        // Act 1: the first delivery reaches billing only; billing processes it
        const first = await routeCatchAll(brokenRoute, rt.clients.sqs, rt.resources.catchAll);
        const billingFirst = await take(rt.clients.sqs, queueOf(Billing));
        const firstOutcome = await billingWorker(billingFirst[0].Body!);

        // Assess 1: the record failed (it is not lost), billing took it and counted it
        expect(first.result.failures).to.deep.equal([first.messages[0].MessageId]);
        expect(first.result.report.routed).to.deep.equal({ [Billing]: 1 });
        expect(firstOutcome).to.equal("processed");

        // Act 2: the catch-all redelivers the record (visibility 1 s); the working router sends it to both lanes
        const redelivered = await receiveAtLeast(rt.clients.sqs, rt.resources.catchAll.queue.url, 1, 10_000);
        const second = await route(inboundRecords(redelivered));
        const [billingAgain, analyticsFirst] = [await take(rt.clients.sqs, queueOf(Billing)), await take(rt.clients.sqs, queueOf(Analytics))];
        const outcomes = [await billingWorker(billingAgain[0].Body!), await analyticsWorker(analyticsFirst[0].Body!)];

        // Assess 2: billing's copy is a duplicate there; analytics processes it; each handler ran once
        expect(redelivered.map((m) => m.MessageId)).to.deep.equal([first.messages[0].MessageId]);
        expect(second.failures).to.deep.equal([]);
        expect(second.report.routed).to.deep.equal({ [Billing]: 1, [Analytics]: 1 });
        expect(outcomes).to.deep.equal(["duplicate", "processed"]);
        expect([billing.events.map((e) => e.eventId), analytics.events.map((e) => e.eventId)]).to.deep.equal([["evt_fan_partial"], ["evt_fan_partial"]]);
        await deleteMessages(rt.clients.sqs, rt.resources.catchAll.queue.url, redelivered);
    });

    it("GIVEN the analytics handler always fails WHEN both lanes' workers run until the analytics DLQ has the message THEN billing processed it once, analytics tried maxReceiveCount (2) times, and billing's queue and DLQ are empty", async () => {
        // Prepare
        await send(`{"id":"evt_fan_dlq","type":"invoice.paid"}`);
        await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const billing = recordingHandler();
        const analytics = recordingHandler({ fail: () => true });
        const billingWorker = makeWorkerHandler(() => rt.resources.workers[Billing], billing.handler);
        const analyticsWorker = makeWorkerHandler(() => rt.resources.workers[Analytics], analytics.handler);
        const analyticsDlq = rt.resources.lanes[Analytics].dlq.url;

        // Act: poll both lanes as their event sources would, until the failing message reaches the DLQ
        let dead: Awaited<ReturnType<typeof drain>> = [];
        for (let round = 0; round < 15 && dead.length === 0; round++) {
            await runWorker(billingWorker, rt.clients.sqs, rt.resources.lanes[Billing], "billing");
            await runWorker(analyticsWorker, rt.clients.sqs, rt.resources.lanes[Analytics], "analytics");
            await sleep(1100);
            dead = await drain(rt.clients.sqs, analyticsDlq);
        }

        // Assess
        expect(dead.map((m) => [parseLaneMessage(m.Body!).lane, parseLaneMessage(m.Body!).eventId])).to.deep.equal([[Analytics, "evt_fan_dlq"]]);
        expect(billing.events.map((e) => e.eventId)).to.deep.equal(["evt_fan_dlq"]);
        expect(analytics.attempts).to.deep.equal([1, 2]);
        expect(await drain(rt.clients.sqs, queueOf(Billing))).to.have.length(0);
        expect(await drain(rt.clients.sqs, rt.resources.lanes[Billing].dlq.url)).to.have.length(0);
        await take(rt.clients.sqs, analyticsDlq);
    });

    it("GIVEN an event processed by billing WHEN analytics gets it, and then the provider re-sends it as a new request THEN analytics processes it (not a duplicate across lanes) and the re-send is a duplicate on each lane", async () => {
        // Prepare
        const body = `{"id":"evt_fan_resent","type":"invoice.paid"}`;
        const billing = recordingHandler();
        const analytics = recordingHandler();
        const billingWorker = processorFor(Billing, billing.handler);
        const analyticsWorker = processorFor(Analytics, analytics.handler);
        const [a] = await send(body);
        await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const first = { billing: await take(rt.clients.sqs, queueOf(Billing)), analytics: await take(rt.clients.sqs, queueOf(Analytics)) };

        // Act: billing first, then analytics; then the provider's re-send
        const firstOutcomes = [await billingWorker(first.billing[0].Body!), await analyticsWorker(first.analytics[0].Body!)];
        const [b] = await send(body);
        await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        const again = { billing: await take(rt.clients.sqs, queueOf(Billing)), analytics: await take(rt.clients.sqs, queueOf(Analytics)) };
        const againOutcomes = [await billingWorker(again.billing[0].Body!), await analyticsWorker(again.analytics[0].Body!)];

        // Assess
        expect(firstOutcomes).to.deep.equal(["processed", "processed"]);
        expect(againOutcomes).to.deep.equal(["duplicate", "duplicate"]);
        expect(a.requestId).to.not.equal(b.requestId);
        expect([billing.events.map((e) => e.requestId), analytics.events.map((e) => e.requestId)]).to.deep.equal([[a.requestId], [a.requestId]]);
    });

    it("GIVEN a lane message WHEN its idempotency key is made THEN it is provider#lane#eventId (plus #force:<run> for a forced replay), and the legacy key is provider#eventId", () => {
        const m: Pick<LaneMessage, "provider" | "lane" | "eventId" | "force"> = { provider: "stripe", lane: Billing, eventId: "evt_1" };
        expect([idempotencyKey(m), idempotencyKey({ ...m, force: "r1" }), legacyIdempotencyKey(m), legacyIdempotencyKey({ ...m, force: "r1" })]).to.deep.equal([
            "stripe#stripe-billing#evt_1",
            "stripe#stripe-billing#evt_1#force:r1",
            "stripe#evt_1",
            "stripe#evt_1#force:r1",
        ]);
    });

    describe("upgrading from provider#eventId keys", () => {
        /**
         * The worker of the release before per-lane keys, as it called Powertools: the same table, prefix,
         * key path and data ({ key, token }), the key `provider#eventId`. It writes what a deployed stack's
         * table holds at the upgrade.
         */
        function previousReleaseWorker(options: { ttlSeconds?: number; run?: () => Promise<void> } = {}) {
            const persistenceStore = new DynamoDBPersistenceLayer({ tableName: rt.resources.table, awsSdkV3Client: rt.clients.dynamo });
            return async (message: Pick<LaneMessage, "provider" | "eventId">) => {
                const config = new IdempotencyConfig({ eventKeyJmesPath: "key", expiresAfterSeconds: options.ttlSeconds ?? 3600, throwOnNoIdempotencyKey: true });
                config.registerLambdaContext({ getRemainingTimeInMillis: () => 60_000 } as Context);
                const run = makeIdempotent(
                    async (input: { key: string; token: string }) => {
                        await options.run?.();
                        return { token: input.token };
                    },
                    { persistenceStore, config, keyPrefix: IdempotencyKeyPrefix },
                );
                return run({ key: `${message.provider}#${message.eventId}`, token: "old-release" });
            };
        }

        /** Route one event to both lanes; returns each lane's message text. */
        async function routed(eventId: string): Promise<Record<string, string>> {
            await send(JSON.stringify({ id: eventId, type: "invoice.paid" }));
            await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
            return { [Billing]: (await take(rt.clients.sqs, queueOf(Billing)))[0].Body!, [Analytics]: (await take(rt.clients.sqs, queueOf(Analytics)))[0].Body! };
        }

        it("GIVEN an event the previous release processed (a COMPLETED record under provider#eventId) WHEN the provider redelivers it after the upgrade THEN every lane treats it as a duplicate and no handler runs", async () => {
            // Prepare
            await previousReleaseWorker()({ provider: "stripe", eventId: "evt_up_done" });
            const messages = await routed("evt_up_done");
            const handler = recordingHandler();

            // Act
            const outcomes = [await processorFor(Billing, handler.handler)(messages[Billing]), await processorFor(Analytics, handler.handler)(messages[Analytics])];
            const again = await processorFor(Billing, handler.handler)(messages[Billing]);

            // Assess: the legacy record was found through Powertools' own key hashing; the lanes' own records now say done
            expect(outcomes).to.deep.equal(["duplicate", "duplicate"]);
            expect(again).to.equal("duplicate");
            expect(handler.events).to.deep.equal([]);
        });

        it("GIVEN a legacy record that has expired (past the idempotency TTL, not yet removed by DynamoDB) WHEN the event comes THEN it is processed", async () => {
            // Prepare: a 1 s TTL, then 2.1 s: the record is still in the table, past its expiry
            await previousReleaseWorker({ ttlSeconds: 1 })({ provider: "stripe", eventId: "evt_up_expired" });
            await sleep(2100);
            const messages = await routed("evt_up_expired");
            const handler = recordingHandler();

            // Act
            const outcome = await processorFor(Billing, handler.handler)(messages[Billing]);

            // Assess
            expect(outcome).to.equal("processed");
            expect(handler.events.map((e) => e.eventId)).to.deep.equal(["evt_up_expired"]);
        });

        it("GIVEN the previous release's worker is processing the event now (a live INPROGRESS legacy record) WHEN the upgraded worker gets a copy THEN it fails as already in progress (retried, not run), and once the old one finished it is a duplicate", async () => {
            // Prepare: the old worker holds the event until released
            let release!: () => void;
            const held = new Promise<void>((resolve) => (release = resolve));
            const oldRun = previousReleaseWorker({ run: () => held })({ provider: "stripe", eventId: "evt_up_running" });
            await sleep(300); // its INPROGRESS record is written
            const messages = await routed("evt_up_running");
            const handler = recordingHandler();
            const worker = processorFor(Billing, handler.handler);

            // Act
            const during = await worker(messages[Billing]).then(String, (err: Error) => err.name);
            release();
            await oldRun;
            const after = await worker(messages[Billing]);

            // Assess
            expect([during, after]).to.deep.equal(["IdempotencyAlreadyInProgressError", "duplicate"]);
            expect(handler.events).to.deep.equal([]);
        });
    });
});
