/**
 * Edge trust against moto: messages the direct integration would enqueue for
 * requests whose header values smuggle in attributes (the template filled in
 * by plain substitution as HTTP API does, parsed with either rule for
 * duplicated names), sent to the catch-all queue and routed. None is accepted
 * as a replay or forced; a forged received-at changes nothing (tolerance runs
 * from SQS's SentTimestamp). The pipeline's own paths still work: a sealed
 * replay skips the tolerance, and `ops redrive --catch-all` brings an old
 * request back without turning it stale, on the receive/send/delete loop even
 * where a move task exists.
 */
import { expect } from "chai";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { EdgeRequest, encodeEnvelope, EnvelopeAttribute, EnvelopeMessage } from "../../model/envelope";
import { parseLaneMessage } from "../../model/lane-message";
import { catchAllLane, OpsTarget } from "../../local/ops/target";
import { redrive } from "../../local/ops/redrive";
import { getPlugin } from "../../providers";
import { RejectReason } from "../../providers/types";
import { directIntegration, DuplicateRule, injecting } from "../support/edge";
import { createRuntime, drain, readArchive, routeCatchAll, RuntimeFixture, take } from "../support/runtime";

const minutes = (n: number) => n * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runtime: nothing a sender puts into the direct integration's attributes decides trust (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    const stripe = getPlugin("stripe");
    let n = 0;

    before(async () => {
        rt = await createRuntime(
            {
                providers: [
                    { name: "stripe", plugin: "stripe" },
                    { name: "slack", plugin: "slack" },
                    { name: "fast", plugin: "stripe", toleranceSeconds: 2 },
                ],
            },
            { suite: "trust" },
        );
    });

    const route = () => createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
    const edge = (headers: Record<string, string>): EdgeRequest => ({ requestId: `api-${++n}-${Date.now()}`, requestTimeEpoch: Date.now(), sourceIp: "198.51.100.7", domainName: "hooks.example.com", path: "/webhooks/stripe", headers });

    /** A Stripe webhook signed at `signedAt`, its Stripe-Signature header value, and the body. */
    function captured(id: string, signedAt: number, secret = rt.secrets.stripe[0]) {
        const body = Buffer.from(`{"id":"${id}","type":"invoice.paid"}`);
        return { body: body.toString("utf8"), signature: stripe.sign(body, secret, signedAt, "")["Stripe-Signature"] };
    }

    /** What the direct integration enqueues for a stripe request whose signature header carries `extra` attributes. */
    function smuggled(id: string, signedAt: number, extra: Record<string, string>, rule: DuplicateRule, provider = "stripe"): EnvelopeMessage {
        const { body, signature } = captured(id, signedAt, rt.secrets[provider][0]);
        const message = directIntegration({ name: provider, headers: ["stripe-signature"], signsUrl: false }, edge({ "stripe-signature": injecting(signature, extra) }), body, rule);
        expect(message, "the injection parses").to.not.equal("refused");
        return message as EnvelopeMessage;
    }

    async function send(...messages: EnvelopeMessage[]) {
        for (const m of messages) await rt.clients.sqs.send(new SendMessageCommand({ QueueUrl: rt.resources.catchAll.queue.url, ...m }));
    }

    async function laneEvents() {
        return (await take(rt.clients.sqs, rt.resources.lanes["stripe-default"].queue.url)).map((m) => parseLaneMessage(m.Body!));
    }

    for (const rule of ["last", "first"] as const) {
        describe(`GIVEN SQS keeps the ${rule} of a duplicated attribute name`, () => {
            it("WHEN a captured, validly signed webhook an hour old comes back with wp-replay (and wp-replay-force) smuggled in THEN it is quarantined as untrusted-envelope, never replayed or forced", async () => {
                // Prepare
                const old = Date.now() - minutes(60);
                const replay = smuggled(`evt_replay_${rule}`, old, { [EnvelopeAttribute.Replay]: "raw/provider=stripe/dt=2020-01-01/hour=00/x.ndjson.gz#0" }, rule);
                const forced = smuggled(`evt_forced_${rule}`, old, { [EnvelopeAttribute.Replay]: "raw/provider=stripe/x#0", [EnvelopeAttribute.ReplayForce]: "attacker-run" }, rule);
                // a fresh, valid one: force would bypass idempotency
                const fresh = smuggled(`evt_fresh_forced_${rule}`, Date.now(), { [EnvelopeAttribute.Replay]: "raw/provider=stripe/x#0", [EnvelopeAttribute.ReplayForce]: "attacker-run" }, rule);
                await send(replay, forced, fresh);

                // Act
                const { result } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);

                // Assess
                expect({ failures: result.failures, accepted: result.report.accepted, quarantined: result.report.quarantined, routed: result.report.routed }).to.deep.equal({
                    failures: [],
                    accepted: 0,
                    quarantined: { stripe: { "untrusted-envelope": 3 } },
                    routed: {},
                });
                expect(await laneEvents()).to.deep.equal([]);
                const lines = (await readArchive(rt.clients.s3, rt.resources.bucket, "quarantine/provider=stripe/")).filter((l) => l.reason === "untrusted-envelope" && /_(replay|forced)_/.test(String(l.body)) && String(l.body).includes(rule));
                expect(lines).to.have.length(3);
                for (const l of lines) expect(l.detail).to.contain("wp-replay");
            });

            it("WHEN a captured webhook an hour old comes with a recent wp-received-at smuggled in THEN the tolerance runs from SentTimestamp and it is quarantined as stale", async () => {
                const stale = smuggled(`evt_time_${rule}`, Date.now() - minutes(60), { [EnvelopeAttribute.ReceivedAt]: String(Date.now() - minutes(60) + 1000) }, rule);
                await send(stale);
                const { result } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
                expect({ accepted: result.report.accepted, quarantined: result.report.quarantined }).to.deep.equal({ accepted: 0, quarantined: { stripe: { [RejectReason.Stale]: 1 } } });
            });

            it("WHEN a fresh webhook repeats wp-request-id, wp-source-ip and wp-received-at THEN it is routed as a fresh request (no replay, no force) at its SentTimestamp", async () => {
                const message = smuggled(`evt_dup_${rule}`, Date.now(), { [EnvelopeAttribute.RequestId]: "chosen-by-sender", [EnvelopeAttribute.SourceIp]: "10.9.9.9", [EnvelopeAttribute.ReceivedAt]: "1" }, rule);
                await send(message);
                const { result, messages } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
                expect({ accepted: result.report.accepted, quarantined: result.report.quarantined }).to.deep.equal({ accepted: 1, quarantined: {} });
                const [event] = await laneEvents();
                expect({ eventId: event.eventId, replay: event.replay, force: event.force, receivedAt: event.receivedAt }).to.deep.equal({
                    eventId: `evt_dup_${rule}`,
                    replay: undefined,
                    force: undefined,
                    receivedAt: Number(messages[0].Attributes!.SentTimestamp),
                });
            });

            it("WHEN a direct-route request names a provider behind its ingress function (wp-provider smuggled in) THEN it is not accepted for that provider unsealed", async () => {
                const body = Buffer.from(`{"type":"event_callback","event_id":"EvSmuggled${rule}","event":{"type":"message"}}`);
                const slackHeaders = getPlugin("slack").sign(body, rt.secrets.slack[0], Date.now(), "");
                const headers = Object.fromEntries(Object.entries(slackHeaders).map(([k, v]) => [k.toLowerCase(), v]));
                const message = directIntegration(
                    { name: "stripe", headers: ["x-slack-signature", "x-slack-request-timestamp"], signsUrl: false },
                    edge({ ...headers, "x-slack-request-timestamp": injecting(headers["x-slack-request-timestamp"], { [EnvelopeAttribute.Provider]: "slack" }) }),
                    body.toString("utf8"),
                    rule,
                ) as EnvelopeMessage;
                await send(message);
                const { result } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
                expect(result.report.accepted).to.equal(0);
                // first wins: it stays a stripe request and fails Stripe's check; last wins: an unsealed slack request
                expect(result.report.quarantined).to.deep.equal(rule === "first" ? { stripe: { [RejectReason.MissingSignature]: 1 } } : { slack: { "untrusted-envelope": 1 } });
            });
        });
    }

    it("GIVEN a replay sealed with the pipeline-internal key (as ops replay sends it) WHEN an hour-old webhook comes back THEN it is accepted as a replay, force run id and all", async () => {
        const { body, signature } = captured("evt_sealed_replay", Date.now() - minutes(60));
        const message = encodeEnvelope(
            { provider: "stripe", requestId: "orig-1", receivedAt: Date.now() - minutes(60), sourceIp: "x", headers: { "stripe-signature": signature }, body: Buffer.from(body), replayOf: "raw/provider=stripe/x#0", replayForce: "run-9" },
            ["stripe-signature"],
            { sealKey: rt.sealKey },
        );
        await send(message);
        const { result } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
        expect({ accepted: result.report.accepted, quarantined: result.report.quarantined }).to.deep.equal({ accepted: 1, quarantined: {} });
        const [event] = await laneEvents();
        expect({ eventId: event.eventId, replay: event.replay, force: event.force }).to.deep.equal({ eventId: "evt_sealed_replay", replay: true, force: "run-9" });
    });

    describe("GIVEN requests the router failed, waiting in the catch-all DLQ longer than their tolerance (2 s)", () => {
        const target = (): OpsTarget => ({
            where: "local",
            sqs: rt.clients.sqs,
            s3: rt.clients.s3,
            secrets: rt.clients.secrets,
            sealSecretId: rt.resources.sealSecretId,
            bucket: rt.resources.bucket,
            providers: rt.model.providers.map((p) => p.name),
            catchAll: { queueUrl: rt.resources.catchAll.queue.url, dlqUrl: rt.resources.catchAll.dlq.url },
            lanes: [],
            // as on AWS: the catch-all must still take the attesting loop (moto has no move task, so a move task would fail here)
            moveTask: true,
        });

        it("WHEN redriven with ops redrive --catch-all THEN each is verified against its original enqueue time and routed; a copy sent back without the attestation is stale", async () => {
            // Prepare: a direct-path request and an ingress-function (sealed) one, as the edge queued them, in the DLQ
            const signedAt = Date.now();
            const direct = captured("evt_dlq_direct", signedAt, rt.secrets.fast[0]);
            const directMessage = directIntegration({ name: "fast", headers: ["stripe-signature"], signsUrl: false }, edge({ "stripe-signature": direct.signature }), direct.body, "last") as EnvelopeMessage;
            const slackBody = Buffer.from(`{"type":"event_callback","event_id":"EvDlq","event":{"type":"message"}}`);
            const slackHeaders = Object.fromEntries(Object.entries(getPlugin("slack").sign(slackBody, rt.secrets.slack[0], signedAt, "")).map(([k, v]) => [k.toLowerCase(), v]));
            const sealed = encodeEnvelope({ provider: "slack", requestId: "api-slack-dlq", receivedAt: signedAt, sourceIp: "x", headers: slackHeaders, body: slackBody }, rt.provider("slack").headers, { sealKey: rt.sealKey });
            for (const m of [directMessage, sealed]) await rt.clients.sqs.send(new SendMessageCommand({ QueueUrl: rt.resources.catchAll.dlq.url, ...m }));
            await sleep(3_000);

            // Act
            const [result] = await redrive(target(), [catchAllLane(target())]);
            const { result: routed } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);

            // Assess
            expect(result).to.deep.equal({ lane: "catch-all", method: "receive-send-delete", found: 2, moved: 2, failed: 0, errors: [] });
            expect({ accepted: routed.report.accepted, quarantined: routed.report.quarantined, routed: routed.report.routed }).to.deep.equal({ accepted: 2, quarantined: {}, routed: { "fast-default": 1, "slack-default": 1 } });
            expect(await drain(rt.clients.sqs, rt.resources.catchAll.dlq.url)).to.have.length(0);

            // Control: the same direct-path message enqueued now, as a plain copy would be, is stale.
            await send(directMessage);
            const { result: copy } = await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
            expect(copy.report.quarantined).to.deep.equal({ fast: { [RejectReason.Stale]: 1 } });
        });
    });
});
