/**
 * Bad input against moto: forged, stale, unsigned, malformed, unknown and
 * unreadable requests end in quarantine/ with their reason, are counted, never
 * reach a lane and are not retried; a valid request in the same batch is not
 * held up. Timestamps are judged at the edge's receive time.
 */
import { expect } from "chai";
import { createRouter, RouterResult } from "../../handlers/router/router";
import { archivedBody } from "../../handlers/router/archive";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { encodeEnvelope, EnvelopeAttribute } from "../../model/envelope";
import { parseLaneMessage } from "../../model/lane-message";
import { RejectReason } from "../../providers/types";
import {
    byteDiff,
    createRuntime,
    drain,
    enqueue,
    envelopeFor,
    listKeys,
    readArchive,
    recordsFor,
    routeCatchAll,
    RuntimeFixture,
    signedWebhook,
    SignedWebhook,
} from "../support/runtime";

const config = {
    providers: [
        { name: "stripe", plugin: "stripe" },
        { name: "github", plugin: "github" },
        { name: "slack", plugin: "slack" },
        { name: "svix", plugin: "standard-webhooks" },
        { name: "acme", plugin: "hmac", signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex", timestampHeader: "X-Acme-Timestamp" }, eventIdPath: "id", eventTypePath: "type" },
    ],
};

const minutes = (n: number) => n * 60_000;

describe("runtime: bad input ends in quarantine, counted, never in a lane, never retried (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let result: RouterResult;
    let valid: SignedWebhook;
    let now = Date.now();
    /** The router's clock after routing: unreadable envelopes are partitioned by it, not by an edge time. */
    let routedAt = now;

    /** [request id, provider partition, reason] of every bad request sent. */
    const bad: [string, string, string][] = [];

    before(async () => {
        // Prepare: one valid webhook among every kind of bad one
        rt = await createRuntime(config, { suite: "quar" });
        now = Date.now();
        // Slack is behind the ingress function, which seals what it enqueues.
        const sign = (name: string, body: string, options: Parameters<typeof signedWebhook>[3] = {}, secret = rt.secrets[name][0]) =>
            signedWebhook(rt.provider(name), body, secret, { receivedAt: now, sealKey: rt.provider(name).ingress === "function" ? rt.sealKey : undefined, ...options });
        const add = (w: SignedWebhook, partition: string, reason: string) => {
            bad.push([w.requestId, partition, reason]);
            return w.message;
        };
        valid = sign("stripe", `{"id":"evt_ok","type":"invoice.paid"}`);
        const messages = [
            valid.message,
            // forged: signed with another secret
            add(sign("stripe", `{"id":"evt_forged","type":"invoice.paid"}`, {}, "whsec_not_ours"), "stripe", RejectReason.BadSignature),
            add(sign("github", `{"action":"opened"}`, {}, "not-ours"), "github", RejectReason.BadSignature),
            add(sign("svix", `{"type":"x"}`, {}, `whsec_${Buffer.from("not-ours").toString("base64")}`), "svix", RejectReason.BadSignature),
            // forged: body changed after signing
            add(envelopeFor(rt.provider("acme"), Buffer.from(`{"id":"a1","type":"t","amount":1e9}`), sign("acme", `{"id":"a1","type":"t"}`).headers, { receivedAt: now }), "acme", RejectReason.BadSignature),
            // stale: signed 10 minutes before the edge received it (tolerance 300 s)
            add(sign("stripe", `{"id":"evt_old","type":"invoice.paid"}`, { signedAt: now - minutes(10) }), "stripe", RejectReason.Stale),
            add(sign("slack", `{"type":"event_callback","event_id":"Ev1"}`, { signedAt: now - minutes(10) }), "slack", RejectReason.Stale),
            add(sign("svix", `{"type":"x"}`, { signedAt: now - minutes(10) }), "svix", RejectReason.Stale),
            add(sign("acme", `{"id":"a2","type":"t"}`, { signedAt: now + minutes(10) }), "acme", RejectReason.Stale),
            // missing signature headers (API Gateway maps an absent header to "=")
            add(sign("github", `{"action":"opened"}`, { headers: { "X-Hub-Signature-256": undefined } }), "github", RejectReason.MissingSignature),
            add(sign("slack", `{"type":"event_callback"}`, { headers: { "X-Slack-Request-Timestamp": undefined } }), "slack", RejectReason.MissingSignature),
            add(envelopeFor(rt.provider("svix"), Buffer.from("{}"), {}, { receivedAt: now }), "svix", RejectReason.MissingSignature),
            // malformed signature headers
            add(sign("stripe", `{"id":"evt_m"}`, { headers: { "Stripe-Signature": "v1=zz,t=yesterday" } }), "stripe", RejectReason.MalformedSignature),
            add(sign("github", `{}`, { headers: { "X-Hub-Signature-256": "sha1=abc" } }), "github", RejectReason.MalformedSignature),
            // a provider this pipeline does not know (removed from config while messages were queued)
            add(envelopeFor({ name: "gone", headers: ["x-sig"], signsUrl: false }, Buffer.from(`{"id":1}`), { "x-sig": "abc" }, { receivedAt: now }), "unknown", "unknown-provider"),
        ];
        // malformed envelopes: no provider attribute, an unknown body encoding, a claim-check pointer that is not one
        const noProvider = { ...valid.message, MessageAttributes: { ...valid.message.MessageAttributes } };
        delete (noProvider.MessageAttributes as Record<string, unknown>)[EnvelopeAttribute.Provider];
        const badEncoding = { ...valid.message, MessageAttributes: { ...valid.message.MessageAttributes, [EnvelopeAttribute.Encoding]: { DataType: "String" as const, StringValue: "rot13" } } };
        // (a claim-check pointer comes only from the ingress function, sealed)
        const badPointer = sign("github", `{"bucket":"someone-elses","key":"claims/ingress/github/x"}`);
        const pointerMessage = encodeEnvelope({ provider: "github", requestId: badPointer.requestId, receivedAt: now, sourceIp: "203.0.113.9", headers: badPointer.headers, body: badPointer.body, encoding: "s3" }, rt.provider("github").headers, { sealKey: rt.sealKey });
        bad.push([badPointer.requestId, "unknown", "malformed-envelope"]);
        messages.push(noProvider, badEncoding, pointerMessage);

        // Act
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, messages);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        result = (await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result;
        routedAt = Date.now();
    });

    it("GIVEN forged, stale, unsigned, malformed, unknown-provider and unreadable requests beside a valid one WHEN routed THEN none is a batch item failure and the report counts each by provider and reason", () => {
        expect(result.failures).to.deep.equal([]);
        expect(result.report).to.deep.equal({
            received: 18,
            accepted: 1,
            quarantined: {
                stripe: { "bad-signature": 1, stale: 1, "malformed-signature": 1 },
                github: { "bad-signature": 1, "missing-signature": 1, "malformed-signature": 1, "malformed-envelope": 1 },
                svix: { "bad-signature": 1, stale: 1, "missing-signature": 1 },
                acme: { "bad-signature": 1, stale: 1 },
                slack: { stale: 1, "missing-signature": 1 },
                gone: { "unknown-provider": 1 },
                unknown: { "malformed-envelope": 2 },
            },
            routed: { "stripe-default": 1 },
            dropped: {},
            archived: { stripe: 1 },
            failed: 0,
            // one object per (prefix, provider, hour): raw/stripe and quarantine/ stripe, github, svix, acme, slack, unknown
            // 7, or 8 when routing crossed an hour boundary after the edge times (unknown/ then spans two hours)
            calls: { archive: new Date(now).getUTCHours() === new Date(routedAt).getUTCHours() ? 7 : 8, send: 1, claims: 0 },
        });
    });

    it("GIVEN the batch THEN only the valid webhook reached a lane, and the catch-all holds nothing to retry", async () => {
        const lane = await drain(rt.clients.sqs, rt.resources.lanes["stripe-default"].queue.url);
        expect(lane.map((m) => parseLaneMessage(m.Body!).eventId)).to.deep.equal(["evt_ok"]);
        for (const [id, pair] of Object.entries(rt.resources.lanes)) if (id !== "stripe-default") expect(await drain(rt.clients.sqs, pair.queue.url), id).to.have.length(0);
        expect(await drain(rt.clients.sqs, rt.resources.catchAll.queue.url)).to.have.length(0);
    });

    it("GIVEN the batch THEN quarantine/ holds every bad request under its provider's partition with its reason, detail and exact bytes", async () => {
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "quarantine/");
        expect(lines).to.have.length(17);
        for (const [requestId, partition, reason] of bad) {
            const line = lines.find((l) => l.requestId === requestId);
            expect(line, requestId).to.not.equal(undefined);
            expect(line!.reason, requestId).to.equal(reason);
            expect(line!.detail, requestId).to.be.a("string").and.not.equal("");
            expect(line!.key, requestId).to.match(new RegExp(`^quarantine/provider=${partition}/dt=\\d{4}-\\d{2}-\\d{2}/hour=\\d{2}/`));
        }
        // the two envelopes that could not be read keep the raw message body
        const unreadable = lines.filter((l) => l.provider === "unknown");
        expect(unreadable.map((l) => l.reason)).to.deep.equal(["malformed-envelope", "malformed-envelope"]);
        for (const l of unreadable) expect(byteDiff(archivedBody(l), valid.body)).to.equal("equal");
        // raw/ holds the valid one only
        expect((await readArchive(rt.clients.s3, rt.resources.bucket, "raw/")).map((l) => l.eventId)).to.deep.equal(["evt_ok"]);
    });
});

describe("runtime: signed timestamps are judged at the edge, not when the router gets to them (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe" }, { name: "slack", plugin: "slack" }] }, { suite: "edge" });
    });

    it("GIVEN webhooks enqueued 40 minutes ago (a catch-all backlog: SentTimestamp, or the ingress function's sealed time) WHEN the router reads them now THEN they are accepted, not stale", async () => {
        // Prepare: Lambda delivers SQS's SentTimestamp with each record (recordsFor: the edge's enqueue time).
        const receivedAt = Date.now() - minutes(40);
        const stripe = signedWebhook(rt.provider("stripe"), `{"id":"evt_backlog","type":"invoice.paid"}`, rt.secrets.stripe[0], { receivedAt });
        const slack = signedWebhook(rt.provider("slack"), `{"type":"event_callback","event_id":"EvBacklog","event":{"type":"message"}}`, rt.secrets.slack[0], { receivedAt, sealKey: rt.sealKey });
        const records = recordsFor([stripe, slack]);

        // Act
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const result = await route(records);

        // Assess
        expect({ failures: result.failures, accepted: result.report.accepted, quarantined: result.report.quarantined }).to.deep.equal({ failures: [], accepted: 2, quarantined: {} });
        // archived in the hour the edge received them
        const hour = new Date(receivedAt).toISOString().slice(11, 13);
        const keys = await listKeys(rt.clients.s3, rt.resources.bucket, "raw/");
        expect(keys).to.have.length(2);
        for (const key of keys) expect(key).to.contain(`/hour=${hour}/`);
    });

    it("GIVEN a webhook whose edge time is in the future (a bad clock) WHEN routed THEN its signature time is judged against the router's clock", async () => {
        const receivedAt = Date.now() + minutes(30);
        // sealed: the edge time in the seal is believed, but never beyond the router's clock
        const stale = signedWebhook(rt.provider("stripe"), `{"id":"evt_future","type":"x"}`, rt.secrets.stripe[0], { receivedAt, sealKey: rt.sealKey });
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, [stale.message]);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const { result } = await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll);
        expect({ failures: result.failures, quarantined: result.report.quarantined }).to.deep.equal({ failures: [], quarantined: { stripe: { stale: 1 } } });
    });
});
