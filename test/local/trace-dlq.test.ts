/**
 * `ops trace` and `ops dlq` against moto, through both targets the CLI builds:
 * the local pipeline's state (targetFromLocalState) and a deployed stack's
 * outputs (targetFromOutputs, with the SDK's default clients, which the test
 * runner points at moto). The pipeline is driven as on AWS: the router and the
 * Lambda worker adapter on real queues, a table and a bucket in moto.
 */
import { expect } from "chai";
import { randomUUID } from "crypto";
import { createRouter } from "../../handlers/router/router";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { createLaneProcessor, IdempotencyKeyPrefix } from "../../handlers/worker/worker";
import { describeError, LastErrorKeyPrefix, lastErrorKey, readLastError, recordLastError } from "../../handlers/worker/last-error";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { listDlq, showDlqMessage, formatDlqListings } from "../../local/ops/dlq";
import { formatTrace, partitionsOf, traceEvent, traceWindow } from "../../local/ops/trace";
import { OpsTarget, targetFromLocalState, targetFromOutputs } from "../../local/ops/target";
import { queueDepth } from "../../local/queues";
import { LocalStateVersion, type LocalState } from "../../local/state";
import { createRuntime, enqueue, envelopeFor, recordingHandler, routeCatchAll, RouteFn, RuntimeFixture, runWorker, signedWebhook } from "../support/runtime";
import { services } from "../support/services";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ops trace and dlq: the pure parts", () => {
    it("GIVEN --around or none WHEN the window is chosen THEN ± 1 h around it, else the last 6 h, and it says which", () => {
        const now = Date.parse("2026-12-01T12:30:00Z");
        expect(traceWindow(Date.parse("2026-12-01T09:10:00Z"), now)).to.deep.equal({ from: Date.parse("2026-12-01T08:10:00Z"), to: Date.parse("2026-12-01T10:10:00Z"), window: "--around 2026-12-01T09:10:00.000Z ± 1 h" });
        expect(traceWindow(undefined, now)).to.deep.equal({ from: Date.parse("2026-12-01T06:30:00Z"), to: now, window: "the last 6 h (no --around given)" });
        expect(partitionsOf("quarantine", "acme", Date.parse("2026-12-01T08:10:00Z"), Date.parse("2026-12-01T10:10:00Z"))).to.deep.equal([
            "quarantine/provider=acme/dt=2026-12-01/hour=08/",
            "quarantine/provider=acme/dt=2026-12-01/hour=09/",
            "quarantine/provider=acme/dt=2026-12-01/hour=10/",
        ]);
    });

    it("GIVEN errors that quote credentials or run long WHEN described for the last-error record THEN tokens are masked and the message is cut to 500 characters", () => {
        expect(describeError(new TypeError("call failed: Authorization: Bearer abc.def-123 key whsec_Zm9vYmFy and password=hunter2, AKIAABCDEFGHIJKLMNOP"))).to.deep.equal({
            errorClass: "TypeError",
            message: "call failed: Authorization: *** *** key whsec_*** and password=***, AKIA***",
        });
        const long = describeError(new Error("x".repeat(2_000)));
        expect(long.message.length).to.equal(500);
        expect(describeError("a string was thrown")).to.deep.equal({ errorClass: "string", message: "a string was thrown" });
    });

    it("GIVEN the idempotency prefix WHEN last-error keys are made THEN they share it, and an event id too long for a DynamoDB key is hashed", () => {
        expect(LastErrorKeyPrefix).to.equal(`${IdempotencyKeyPrefix}#last-error`);
        expect(lastErrorKey({ provider: "acme", lane: "acme-default", eventId: "evt_1" })).to.equal("webhook-pipeline#last-error#acme#acme-default#evt_1");
        const long = lastErrorKey({ provider: "acme", lane: "acme-default", eventId: "e".repeat(3_000) });
        expect(long).to.match(/^webhook-pipeline#last-error#acme#acme-default#sha256:[0-9a-f]{64}$/);
    });
});

describe("ops trace and dlq against moto (local state and stack outputs)", function () {
    this.timeout(90_000);
    let rt: RuntimeFixture;
    let route: RouteFn;
    const maxReceiveCount = 2;
    const run = randomUUID().slice(0, 8);
    const ids = { ok: `evt_ok_${run}`, poison: `evt_poison_${run}`, waiting: `evt_wait_${run}`, invoice: `evt_inv_${run}` };
    const forgedRequest = `req-forged-${run}`;
    const bodies: Record<string, string> = {};
    let startedAt: number;

    const localTarget = (): OpsTarget => {
        const state: LocalState = {
            v: LocalStateVersion,
            pid: process.pid,
            startedAt: new Date().toISOString(),
            stack: "test",
            stackFile: "test",
            url: "http://127.0.0.1:1",
            endpoint: services.awsEndpoint,
            region: "us-east-1",
            prefix: "rt",
            bucket: rt.resources.bucket,
            table: rt.resources.table,
            sealSecretId: rt.resources.sealSecretId,
            catchAll: rt.resources.catchAll,
            providers: rt.model.providers.map((p) => ({ name: p.name, plugin: p.plugin, url: "http://127.0.0.1:1" })),
            lanes: rt.model.lanes.map((l) => ({ id: l.id, provider: l.provider, kind: "sqs", ordering: false, concurrency: 1, batchSize: 10, maxReceiveCount, queue: rt.resources.lanes[l.id].queue, dlq: rt.resources.lanes[l.id].dlq })),
        };
        return targetFromLocalState(state);
    };
    // As `--aws --outputs outputs.json` builds it: the SDK's default clients (AWS_ENDPOINT_URL is moto here).
    const awsTarget = (): OpsTarget =>
        targetFromOutputs({
            queueUrls: { "catch-all": rt.resources.catchAll.queue.url, ...Object.fromEntries(Object.entries(rt.resources.lanes).map(([id, l]) => [id, l.queue.url])) },
            dlqUrls: { "catch-all": rt.resources.catchAll.dlq.url, ...Object.fromEntries(Object.entries(rt.resources.lanes).map(([id, l]) => [id, l.dlq.url])) },
            bucketName: rt.resources.bucket,
            webhookUrls: { acme: "https://api.example.com/webhooks/acme" },
            internalKeySecretArn: rt.resources.sealSecretId,
            idempotencyTable: rt.resources.table,
        });

    const webhook = (eventId: string, type = "order.created") => {
        const body = JSON.stringify({ id: eventId, type });
        bodies[eventId] = body;
        return signedWebhook(rt.provider("acme"), body, rt.secrets.acme[0]);
    };

    before(async () => {
        // Prepare: processed, quarantined and dead-lettered events, then one left waiting in its lane.
        rt = await createRuntime(
            { providers: [{ name: "acme", plugin: "hmac", signature: { header: "X-Sig", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type", maxReceiveCount, routes: { "invoice.*": "billing" }, lanes: { billing: {} } }] },
            { suite: "trace", visibilityTimeoutSeconds: 1 },
        );
        route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        startedAt = Date.now();
        const forged = envelopeFor(rt.provider("acme"), Buffer.from(JSON.stringify({ id: `evt_forged_${run}`, type: "order.created" })), { "x-sig": "0".repeat(64) }, { requestId: forgedRequest });
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook(ids.ok).message, webhook(ids.poison).message, webhook(ids.invoice, "invoice.paid").message, forged.message]);
        expect((await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result.failures).to.deep.equal([]);
        const recorder = recordingHandler({ fail: (e) => e.eventId === ids.poison });
        const worker = makeWorkerHandler(() => rt.resources.workers["acme-default"], recorder.handler);
        const billing = makeWorkerHandler(() => rt.resources.workers["acme-billing"], recorder.handler);
        await runWorker(billing, rt.clients.sqs, rt.resources.lanes["acme-billing"], "billing-worker");
        for (let round = 0; round <= maxReceiveCount; round++) {
            await runWorker(worker, rt.clients.sqs, rt.resources.lanes["acme-default"], "acme-worker");
            await sleep(1_100);
        }
        expect(recorder.events.map((e) => e.eventId).sort()).to.deep.equal([ids.invoice, ids.ok].sort());
        expect((await queueDepth(rt.clients.sqs, rt.resources.lanes["acme-default"].dlq.url)).visible).to.equal(1);
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [webhook(ids.waiting).message]);
        expect((await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result.failures).to.deep.equal([]);
    });

    for (const [name, target] of [
        ["local state", () => localTarget()],
        ["stack outputs (--aws)", () => awsTarget()],
    ] as const) {
        describe(`through ${name}`, () => {
            it("GIVEN an archived and processed event WHEN traced THEN its archive key, receive time, lane and processing time are told", async () => {
                // Act
                const t = target();
                const result = await traceEvent(t, { provider: "acme", eventId: ids.ok });

                // Assess
                expect(result.archived).to.have.length(1);
                const [copy] = result.archived;
                expect({ eventId: copy.eventId, eventType: copy.eventType, lanes: copy.lanes, key: copy.key.startsWith("raw/provider=acme/dt="), pointer: copy.pointer.startsWith(`${copy.key}#`) }).to.deep.equal({
                    eventId: ids.ok,
                    eventType: "order.created",
                    lanes: ["acme-default"],
                    key: true,
                    pointer: true,
                });
                expect(Date.parse(copy.receivedAt)).to.be.within(startedAt - 1_000, Date.now());
                const lane = result.lanes.find((l) => l.lane === "acme-default")!;
                expect({ routed: lane.routed, state: lane.state, status: lane.idempotency?.status, dlq: lane.dlq?.found }).to.deep.equal({ routed: true, state: "processed", status: "COMPLETED", dlq: undefined });
                expect(Date.parse(lane.idempotency!.processedAt!)).to.be.within(Date.parse(copy.receivedAt), Date.now());
                expect(result.lanes.find((l) => l.lane === "acme-billing")!.state).to.equal("unknown");
                expect(result.searched.window).to.equal("the last 6 h (no --around given)");
                expect(result.searched.partitions.every((p) => /^(raw|quarantine)\/provider=acme\//.test(p))).to.equal(true);
                expect(result.verdict).to.equal(`received once (first ${copy.receivedAt}); acme-default: processed`);
                expect(formatTrace(result)).to.include("lane acme-default (routed here): processed");
            });

            it("GIVEN a forged request WHEN traced by its request id THEN it is quarantined with its reason and nothing was processed", async () => {
                const result = await traceEvent(target(), { provider: "acme", requestId: forgedRequest, around: Date.now() });

                expect(result.archived).to.deep.equal([]);
                expect(result.quarantined.map((q) => ({ requestId: q.requestId, reason: q.reason, matchedBy: q.matchedBy, key: q.key.startsWith("quarantine/provider=acme/") }))).to.deep.equal([
                    { requestId: forgedRequest, reason: "bad-signature", matchedBy: "request-id", key: true },
                ]);
                expect(result.searched.window).to.match(/^--around .* ± 1 h$/);
                expect(result.verdict).to.equal("quarantined: bad-signature");
            });

            it("GIVEN an event whose handler failed maxReceiveCount times WHEN traced THEN it is in the lane DLQ with the last error", async () => {
                const result = await traceEvent(target(), { provider: "acme", eventId: ids.poison });

                const lane = result.lanes.find((l) => l.lane === "acme-default")!;
                expect({ state: lane.state, idempotency: lane.idempotency, error: lane.lastError && { errorClass: lane.lastError.errorClass, message: lane.lastError.message, attempt: lane.lastError.attempt } }).to.deep.equal({
                    state: "in-dlq",
                    idempotency: undefined,
                    error: { errorClass: "Error", message: `handler refused ${ids.poison}`, attempt: maxReceiveCount },
                });
                expect(lane.dlq!.found!.messageId).to.be.a("string");
                expect(result.verdict).to.match(/acme-default: in-dlq$/);
            });

            it("GIVEN the DLQ WHEN listed and one message shown THEN event, type, attempts, times and the last error are told, with the body, and the DLQ still holds it", async () => {
                // Act
                const t = target();
                const listings = await listDlq(t, "acme");
                const shown = await showDlqMessage(t, "acme", "default", ids.poison);
                const byMessageId = await showDlqMessage(t, "acme", "acme-default", shown.id);

                // Assess
                expect(listings.map((l) => ({ lane: l.lane, count: l.messages.length, complete: l.complete }))).to.deep.equal([
                    { lane: "acme-default", count: 1, complete: true },
                    { lane: "acme-billing", count: 0, complete: true },
                ]);
                const [m] = listings[0].messages;
                expect({ eventId: m.eventId, eventType: m.eventType, attempts: m.attempts, error: m.lastError && `${m.lastError.errorClass}: ${m.lastError.message}` }).to.deep.equal({
                    eventId: ids.poison,
                    eventType: "order.created",
                    attempts: maxReceiveCount,
                    error: `Error: handler refused ${ids.poison}`,
                });
                expect(Date.parse(m.firstSeen!)).to.be.at.most(Date.parse(m.lastSeen!));
                expect(formatDlqListings(listings)).to.include(`handler refused ${ids.poison}`);
                expect({ id: shown.id, body: shown.body }).to.deep.equal({ id: m.id, body: { text: bodies[ids.poison] } });
                expect(byMessageId.eventId).to.equal(ids.poison);
                const depth = await queueDepth(rt.clients.sqs, rt.resources.lanes["acme-default"].dlq.url);
                expect(depth.visible + depth.inFlight).to.equal(1);
                expect(depth.visible, "released at once after the listing").to.equal(1);
                await showDlqMessage(t, "acme", "default", "evt_nope").then(
                    () => expect.fail("no such message"),
                    (err: Error) => expect(err.message).to.equal('no message "evt_nope" (message id or event id) in the DLQ of acme-default: it holds 1 (listed 1)'),
                );
            });
        });
    }

    it("GIVEN an event routed but not yet processed WHEN traced THEN the lane's counts are told without a receive; with --peek it is found waiting", async () => {
        // Act
        const plain = await traceEvent(localTarget(), { provider: "acme", eventId: ids.waiting });
        const peeked = await traceEvent(awsTarget(), { provider: "acme", eventId: ids.waiting, peek: true });

        // Assess
        const before = plain.lanes.find((l) => l.lane === "acme-default")!;
        expect({ state: before.state, queued: before.queue!.visible, peeked: before.queue!.peeked }).to.deep.equal({ state: "unknown", queued: 1, peeked: false });
        expect(before.summary).to.include("--peek looks, at the cost of a receive each");
        const after = peeked.lanes.find((l) => l.lane === "acme-default")!;
        expect({ state: after.state, found: after.queue!.found }).to.deep.equal({ state: "waiting", found: "waiting" });
        expect((await queueDepth(rt.clients.sqs, rt.resources.lanes["acme-default"].queue.url)).visible, "still there after the peek").to.equal(1);
    });

    it("GIVEN stack outputs without idempotencyTable WHEN traced THEN the error says how to get it", async () => {
        const t = targetFromOutputs({ queueUrls: { "catch-all": "http://x/q" }, dlqUrls: { "catch-all": "http://x/d" }, bucketName: "b", webhookUrls: { acme: "u" } });
        await traceEvent(t, { provider: "acme", eventId: "e" }).then(
            () => expect.fail("should throw"),
            (err: Error) => expect(err.message).to.equal("stack outputs lack idempotencyTable: write them again with `pulumi stack output --json > outputs.json` (this program exports it)"),
        );
    });

    it("GIVEN a lane processor (SQS or Kafka worker) whose handler fails WHEN the attempt fails THEN the last error is recorded with its attempt; a table that cannot take it changes nothing", async () => {
        // Prepare
        const failure = new Error("database refused the connection");
        const config = { ...rt.resources.workers["acme-default"], lane: "acme-kafka" };
        const process_ = createLaneProcessor({ config, handler: async () => Promise.reject(failure), s3: rt.clients.s3, dynamo: rt.clients.dynamo });
        const message = JSON.stringify({ v: 1, provider: "acme", lane: "acme-kafka", requestId: "r", eventId: `evt_k_${run}`, eventType: "t", receivedAt: Date.now(), archiveKey: "raw/x#0", body: "{}" });

        // Act
        const thrown = await process_(message, { attempt: 3 }).catch((e: unknown) => e);
        const recorded = await readLastError(rt.clients.dynamo, rt.resources.table, { provider: "acme", lane: "acme-kafka", eventId: `evt_k_${run}` });
        const unrecordable = await recordLastError(rt.clients.dynamo, { provider: "acme", lane: "x", eventId: "e" }, failure, 1, { table: "no-such-table" });

        // Assess
        expect(thrown).to.equal(failure);
        expect(recorded && { errorClass: recorded.errorClass, message: recorded.message, attempt: recorded.attempt }).to.deep.equal({ errorClass: "Error", message: "database refused the connection", attempt: 3 });
        expect(unrecordable).to.equal(false);
    });
});
