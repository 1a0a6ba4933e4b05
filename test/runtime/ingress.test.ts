/**
 * The ingress function (providers that challenge the endpoint, e.g. Slack)
 * against moto: it answers a challenge only when it is signed, enqueues
 * everything else in the envelope the direct integration produces (so the
 * router accepts it), and puts a body too large for SQS into S3 first.
 */
import { expect } from "chai";
import { randomBytes, randomUUID } from "crypto";
import { createIngress, HttpRequestEvent, IngressRuntimeConfig } from "../../handlers/ingress/ingress";
import { createRouter, RouterResult } from "../../handlers/router/router";
import { archivedBody } from "../../handlers/router/archive";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { apiGatewayMessageAttributes, encodeEnvelope, EnvelopeAttribute } from "../../model/envelope";
import type { WebhookEvent } from "../../model/lane-message";
import { getPlugin } from "../../providers";
import { byteDiff, createRuntime, drain, getObject, inboundRecords, listKeys, readArchive, recordingHandler, RuntimeFixture, runWorker, take } from "../support/runtime";

describe("runtime: the ingress function for Slack (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let ingress: ReturnType<typeof createIngress>;
    let ingressConfig: IngressRuntimeConfig;
    const slack = getPlugin("slack");
    const catchAllUrl = () => rt.resources.catchAll.queue.url;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "slack", plugin: "slack" }] }, { suite: "ingr" });
        const model = rt.provider("slack");
        expect(model.ingress).to.equal("function");
        ingressConfig = { provider: rt.resources.router.providers.slack, headers: model.headers, signsUrl: model.signsUrl, catchAllQueueUrl: catchAllUrl(), bucket: rt.resources.bucket, sealSecretId: rt.resources.sealSecretId };
        ingress = createIngress({ sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets), config: ingressConfig });
    });

    /** An HTTP API (payload 2.0) event for a Slack request signed with `secret` at `signedAt`. */
    function slackRequest(body: Buffer | string, options: { secret?: string; signedAt?: number; binary?: boolean; unsigned?: boolean } = {}): HttpRequestEvent {
        const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
        const signed = options.unsigned ? {} : slack.sign(bytes, options.secret ?? rt.secrets.slack[0], options.signedAt ?? Date.now(), "");
        return {
            headers: { "content-type": "application/json", "user-agent": "Slackbot 1.0", ...Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v])) },
            body: options.binary ? bytes.toString("base64") : bytes.toString("utf8"),
            isBase64Encoded: options.binary === true,
            rawPath: "/webhooks/slack",
            requestContext: { requestId: `api-${randomUUID()}`, timeEpoch: Date.now(), domainName: "hooks.example.com", http: { sourceIp: "198.51.100.4" } },
        };
    }

    const challengeBody = JSON.stringify({ token: "Jhj5dZrVaK7ZwHHjRyZWjbDl", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });

    it("GIVEN a signed url_verification WHEN it reaches the ingress function THEN the challenge is answered and nothing is enqueued", async () => {
        const response = await ingress(slackRequest(challengeBody));
        expect(response).to.deep.equal({ statusCode: 200, headers: { "content-type": "text/plain" }, body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
        expect(await drain(rt.clients.sqs, catchAllUrl())).to.have.length(0);
    });

    it("GIVEN url_verification requests that are forged, stale or unsigned WHEN they reach the ingress function THEN each gets 401 with the reason, no challenge echo, and nothing is enqueued", async () => {
        const responses = [
            await ingress(slackRequest(challengeBody, { secret: "not-ours" })),
            await ingress(slackRequest(challengeBody, { signedAt: Date.now() - 10 * 60_000 })),
            await ingress(slackRequest(challengeBody, { unsigned: true })),
        ];
        const json = { "content-type": "application/json" };
        expect(responses).to.deep.equal([
            { statusCode: 401, headers: json, body: JSON.stringify({ error: "bad-signature" }) },
            { statusCode: 401, headers: json, body: JSON.stringify({ error: "stale" }) },
            { statusCode: 401, headers: json, body: JSON.stringify({ error: "missing-signature" }) },
        ]);
        expect(await drain(rt.clients.sqs, catchAllUrl())).to.have.length(0);
    });

    it("GIVEN an empty body (SQS cannot carry one, no provider signs one) WHEN it reaches the ingress function THEN 400, nothing enqueued", async () => {
        const request = { ...slackRequest(""), body: undefined };
        expect(await ingress(request)).to.deep.equal({ statusCode: 400, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: "empty body: nothing to deliver" }) });
        expect(await drain(rt.clients.sqs, catchAllUrl())).to.have.length(0);
    });

    describe("GIVEN ordinary events through the ingress function", () => {
        const normal = Buffer.from(`{"type":"event_callback","team_id":"T1","event_id":"EvNormal","event":{"type":"app_mention","text":"héllo"}}`);
        const large = Buffer.from(JSON.stringify({ type: "event_callback", team_id: "T1", event_id: "EvLarge", event: { type: "message", text: "y".repeat(1100 * 1024) } }));
        const binary = Buffer.concat([Buffer.from(`{"type":"event_callback","event_id":"EvBinary"}`), Buffer.from([0xff, 0x00, 0xfe]), randomBytes(64)]);
        const requests: Record<string, HttpRequestEvent> = {};
        let routed: RouterResult;
        const delivered: Record<string, WebhookEvent> = {};
        const responses: Record<string, unknown> = {};
        let claimKeys: string[];
        let enqueued: Awaited<ReturnType<typeof drain>>;

        before(async () => {
            // Act: three requests through the ingress function, then one router batch and the lane's worker
            requests.normal = slackRequest(normal);
            requests.large = slackRequest(large);
            requests.binary = slackRequest(binary, { binary: true });
            for (const [name, request] of Object.entries(requests)) responses[name] = await ingress(request);
            claimKeys = await listKeys(rt.clients.s3, rt.resources.bucket, "claims/ingress/");
            enqueued = await take(rt.clients.sqs, catchAllUrl());
            const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
            routed = await route(inboundRecords(enqueued));
            const recorder = recordingHandler();
            const worker = makeWorkerHandler(() => rt.resources.workers["slack-default"], recorder.handler);
            expect((await runWorker(worker, rt.clients.sqs, rt.resources.lanes["slack-default"])).response).to.deep.equal({ batchItemFailures: [] });
            for (const e of recorder.events) delivered[e.eventId] = e;
        });

        it("THEN each is acknowledged with 200 and its request id", () => {
            expect(responses).to.deep.equal(Object.fromEntries(Object.entries(requests).map(([name, r]) => [name, { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ accepted: true, requestId: r.requestContext.requestId }) }])));
        });

        it("THEN the normal event is enqueued as the direct integration's mapping would enqueue it, sealed: wp-seal (with the edge time) in place of wp-received-at", () => {
            const message = enqueued.find((m) => m.MessageAttributes?.[EnvelopeAttribute.RequestId]?.StringValue === requests.normal.requestContext.requestId)!;
            const r = requests.normal;
            const expected = encodeEnvelope(
                { provider: "slack", requestId: r.requestContext.requestId, receivedAt: r.requestContext.timeEpoch, sourceIp: "198.51.100.4", headers: r.headers as Record<string, string>, body: normal },
                ingressConfig.headers,
                { sealKey: rt.sealKey },
            );
            expect(message.Body).to.equal(expected.MessageBody);
            expect(Object.fromEntries(Object.entries(message.MessageAttributes!).map(([k, v]) => [k, { DataType: v.DataType, StringValue: v.StringValue }]))).to.deep.equal(expected.MessageAttributes);
            expect(message.MessageAttributes![EnvelopeAttribute.Seal].StringValue).to.match(new RegExp(`^v1\\.${r.requestContext.timeEpoch}\\.`));
            // the attribute names the API Gateway mapping declares for a direct route, the time sealed
            const direct = Object.keys(JSON.parse(apiGatewayMessageAttributes("slack", ingressConfig.headers, false))).map((k) => (k === EnvelopeAttribute.ReceivedAt ? EnvelopeAttribute.Seal : k));
            expect(Object.keys(message.MessageAttributes!).sort()).to.deep.equal(direct.sort());
        });

        it("THEN the large body went to S3 first (claim check) and the catch-all message carries only the pointer", async () => {
            expect(claimKeys).to.have.length(1);
            expect(claimKeys[0]).to.match(/^claims\/ingress\/slack\/[0-9a-f]{64}$/);
            expect(byteDiff(await getObject(rt.clients.s3, rt.resources.bucket, claimKeys[0]), large)).to.equal("equal");
            const message = enqueued.find((m) => m.MessageAttributes?.[EnvelopeAttribute.Encoding]?.StringValue === "s3")!;
            expect(JSON.parse(message.Body!)).to.deep.equal({ bucket: rt.resources.bucket, key: claimKeys[0] });
        });

        it("THEN the router accepts all three (resolving the claim check) and the handler receives the exact bytes", async () => {
            expect(routed.failures).to.deep.equal([]);
            expect(routed.report).to.deep.include({ received: 3, accepted: 3, quarantined: {}, routed: { "slack-default": 3 } });
            // one GetObject for the ingress claim, one PutObject for the lane's claim check (1.1 MB > inlineBodyBytes)
            expect(routed.report.calls.claims).to.equal(2);
            expect(byteDiff(delivered.EvNormal.body, normal)).to.equal("equal");
            expect(byteDiff(delivered.EvLarge.body, large)).to.equal("equal");
            const binaryId = Object.keys(delivered).find((id) => id.startsWith("sha256:"))!; // not JSON: the body hash is the event id
            expect(byteDiff(delivered[binaryId].body, binary)).to.equal("equal");
            expect(await take(rt.clients.sqs, rt.resources.lanes["slack-default"].queue.url)).to.have.length(0);
        });

        it("THEN the archive holds all three with their exact bytes", async () => {
            const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "raw/");
            expect(lines).to.have.length(3);
            for (const [name, body] of [["normal", normal], ["large", large], ["binary", binary]] as const) {
                const line = lines.find((l) => l.requestId === requests[name].requestContext.requestId)!;
                expect(byteDiff(archivedBody(line), body), name).to.equal("equal");
            }
        });
    });
});

describe("runtime: the ingress function for Twilio, which signs the URL with its query string (moto)", function () {
    this.timeout(60_000);
    const twilio = getPlugin("twilio");

    it("GIVEN a request whose URL has a query string WHEN it goes through the ingress function THEN the router verifies it against the full URL; one signed without the query is quarantined", async () => {
        // Prepare: Twilio goes behind the ingress function by default (the direct integration drops the query string).
        const rt = await createRuntime({ providers: [{ name: "twilio", plugin: "twilio" }] }, { suite: "ingt" });
        const model = rt.provider("twilio");
        expect(model.ingress).to.equal("function");
        const ingress = createIngress({
            sqs: rt.clients.sqs,
            s3: rt.clients.s3,
            secrets: cachedSecretReader(rt.clients.secrets),
            config: { provider: rt.resources.router.providers.twilio, headers: model.headers, signsUrl: model.signsUrl, catchAllQueueUrl: rt.resources.catchAll.queue.url, bucket: rt.resources.bucket, sealSecretId: rt.resources.sealSecretId },
        });
        const request = (signedUrl: string, body: Buffer): HttpRequestEvent => ({
            headers: { "content-type": "application/x-www-form-urlencoded", ...Object.fromEntries(Object.entries(twilio.sign(body, rt.secrets.twilio[0], Date.now(), signedUrl)).map(([k, v]) => [k.toLowerCase(), v])) },
            body: body.toString("utf8"),
            isBase64Encoded: false,
            rawPath: "/webhooks/twilio",
            rawQueryString: "tenant=acme&env=prod",
            requestContext: { requestId: `api-${randomUUID()}`, timeEpoch: Date.now(), domainName: "hooks.example.com", http: { sourceIp: "198.51.100.9" } },
        });
        const good = request("https://hooks.example.com/webhooks/twilio?tenant=acme&env=prod", twilio.sample(Date.now()));
        const withoutQuery = request("https://hooks.example.com/webhooks/twilio", twilio.sample(Date.now() + 1));

        // Act
        for (const r of [good, withoutQuery]) expect((await ingress(r)).statusCode).to.equal(200);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const routed = await route(inboundRecords(await take(rt.clients.sqs, rt.resources.catchAll.queue.url)));

        // Assess
        expect(routed.failures).to.deep.equal([]);
        expect(routed.report).to.deep.include({ received: 2, accepted: 1, routed: { "twilio-default": 1 }, quarantined: { twilio: { "bad-signature": 1 } } });
        const quarantined = await readArchive(rt.clients.s3, rt.resources.bucket, "quarantine/");
        expect(quarantined.map((l) => l.requestId)).to.deep.equal([withoutQuery.requestContext.requestId]);
    });
});
