/**
 * Bodies that do not fit a plain lane message, against moto: above
 * `inlineBodyBytes` (claim check in S3), bytes that are not UTF-8 (base64),
 * and UTF-8 text that SQS refuses or that JSON escaping would blow up. The
 * handler receives the exact bytes every time, and the archive reproduces them.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { createRouter, RouterResult } from "../../handlers/router/router";
import { archivedBody, parseArchivePointer } from "../../handlers/router/archive";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { Limits } from "../../model/constants";
import { parseLaneMessage, LaneMessage, WebhookEvent } from "../../model/lane-message";
import { byteDiff, createRuntime, enqueue, getObject, readArchive, recordingHandler, routeCatchAll, RuntimeFixture, runWorker, signedWebhook, SignedWebhook } from "../support/runtime";

const config = {
    providers: [{ name: "acme", plugin: "hmac", signature: { header: "X-Sig", algorithm: "sha256", encoding: "base64" }, eventIdHeader: "X-Id", eventTypeHeader: "X-Type" }],
};

describe("runtime: large, binary and awkward bodies reach the handler byte for byte (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let routed: RouterResult;
    const sent: Record<string, SignedWebhook> = {};
    const laneMessages: Record<string, LaneMessage> = {};
    const delivered: Record<string, WebhookEvent> = {};

    const bodies: Record<string, Buffer> = {
        // 300 KB of JSON text: above inlineBodyBytes (192 KiB), below the SQS limit for the catch-all message
        large: Buffer.from(JSON.stringify({ blob: "x".repeat(300 * 1024), note: "naïve ✓" })),
        // bytes that are not UTF-8 (the ingress function enqueues them base64)
        binary: Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]), randomBytes(2048)]),
        // 300 KB of bytes that are not UTF-8: base64 in the envelope, then a claim check
        largeBinary: Buffer.concat([Buffer.from([0xff]), randomBytes(300 * 1024)]),
        // valid UTF-8 that SQS refuses in a message body (U+FFFF), and one that JSON would escape six-fold (U+0001)
        nonCharacter: Buffer.from(`{"text":"a\uffffb\ufffe"}`, "utf8"),
        controls: Buffer.from("\u0001".repeat(150 * 1024), "utf8"),
        // the exact boundary: inlineBodyBytes still goes inline
        boundary: Buffer.alloc(Limits.laneInlineBodyBytes, "b"),
    };

    before(async () => {
        // Prepare
        rt = await createRuntime(config, { suite: "body" });
        for (const [name, body] of Object.entries(bodies)) sent[name] = signedWebhook(rt.provider("acme"), body, rt.secrets.acme[0], { headers: { "X-Id": `evt-${name}`, "X-Type": "blob" }, sealKey: rt.sealKey });
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, Object.values(sent).map((w) => w.message));

        // Act: route, then run the worker until the lane is empty
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        routed = (await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result;
        const recorder = recordingHandler();
        const worker = makeWorkerHandler(() => rt.resources.workers["acme-default"], recorder.handler);
        for (;;) {
            const { response, messages } = await runWorker(worker, rt.clients.sqs, rt.resources.lanes["acme-default"]);
            if (!messages.length) break;
            expect(response).to.deep.equal({ batchItemFailures: [] });
            for (const m of messages) {
                const lm = parseLaneMessage(m.Body!);
                laneMessages[lm.eventId] = lm;
            }
        }
        for (const e of recorder.events) delivered[e.eventId] = e;
    });

    it("GIVEN six awkward bodies WHEN routed THEN all are accepted, the two above inlineBodyBytes by claim check", () => {
        expect(routed.failures).to.deep.equal([]);
        expect(routed.report).to.deep.include({ received: 6, accepted: 6, quarantined: {}, routed: { "acme-default": 6 }, failed: 0 });
        // one SendMessageBatch: the escaped-control-character body travels as 200 KB of base64, not 900 KB of JSON escapes
        expect(routed.report.calls).to.deep.equal({ archive: 1, send: 1, claims: 2 });
    });

    it("GIVEN the lane messages THEN each body travels the right way: text inline, non-UTF-8 and SQS-refused text as base64, large ones by claim check under claims/<provider>/", () => {
        const transport = (m: LaneMessage) => (m.body !== undefined ? "body" : m.bodyBase64 !== undefined ? "bodyBase64" : `claim:${m.claim!.bucket === rt.resources.bucket && m.claim!.key.startsWith("claims/acme/")}`);
        expect(Object.fromEntries(Object.entries(laneMessages).map(([id, m]) => [id, transport(m)]))).to.deep.equal({
            "evt-large": "claim:true",
            "evt-binary": "bodyBase64",
            "evt-largeBinary": "claim:true",
            "evt-nonCharacter": "bodyBase64",
            "evt-controls": "bodyBase64",
            "evt-boundary": "body",
        });
    });

    it("GIVEN the worker ran THEN the handler received every body byte for byte", () => {
        expect(Object.keys(delivered).sort()).to.deep.equal(Object.keys(bodies).map((n) => `evt-${n}`).sort());
        for (const [name, body] of Object.entries(bodies)) expect(byteDiff(delivered[`evt-${name}`].body, body), name).to.equal("equal");
    });

    it("GIVEN a claim check THEN the S3 object holds the exact body", async () => {
        for (const name of ["large", "largeBinary"]) {
            const claim = laneMessages[`evt-${name}`].claim!;
            expect(byteDiff(await getObject(rt.clients.s3, claim.bucket, claim.key), bodies[name]), name).to.equal("equal");
        }
    });

    it("GIVEN the archive THEN each request's line (found through the lane message's archive pointer) reproduces its bytes and headers", async () => {
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "raw/");
        expect(lines).to.have.length(6);
        for (const [name, body] of Object.entries(bodies)) {
            const { key, line } = parseArchivePointer(laneMessages[`evt-${name}`].archiveKey);
            const record = lines.find((l) => l.key === key && l.line === line)!;
            expect(record.requestId, name).to.equal(sent[name].requestId);
            expect(byteDiff(archivedBody(record), body), name).to.equal("equal");
            expect(record.headers, name).to.deep.equal({ "x-sig": sent[name].headers["x-sig"], "x-id": `evt-${name}`, "x-type": "blob" });
        }
    });
});
