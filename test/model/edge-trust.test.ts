/**
 * Edge trust, without I/O: what the direct integration's template becomes when
 * a sender shapes header values (plain substitution, as HTTP API does it, then
 * parsed as SQS would with either rule for duplicated names), and what the
 * router may believe of the result (model/trust.ts). No header value may yield
 * a trusted replay, force, encoding, URL or received-at time.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { apiGatewayMessageAttributes, decodeEnvelope, EdgeRequest, encodeEnvelope, EnvelopeAttribute, EnvelopeMessage, substituteEdgeTemplate } from "../../model/envelope";
import { Limits } from "../../model/constants";
import { attestRedrive, checkSeal } from "../../model/seal";
import { judgeEnvelope, TrustVerdict } from "../../model/trust";
import { directIntegration, DirectRoute, DuplicateRule, injecting, parseJson } from "../support/edge";

const key = randomBytes(32).toString("base64");
const stripe: DirectRoute = { name: "stripe", headers: ["stripe-signature"], signsUrl: false };
const twilio: DirectRoute = { name: "twilio", headers: ["x-twilio-signature"], signsUrl: true };
const receivedAt = 1_800_000_000_000;
const sentTimestamp = receivedAt + 40;
const request = (headers: Record<string, string>): EdgeRequest => ({ requestId: "api-req-1", requestTimeEpoch: receivedAt, sourceIp: "198.51.100.7", domainName: "hooks.example.com", path: "/webhooks/x", headers });
const judge = (message: EnvelopeMessage, ingress: "direct" | "function" = "direct"): TrustVerdict =>
    judgeEnvelope(decodeEnvelope(message.MessageBody, message.MessageAttributes), message.MessageBody, { sentTimestamp, ingress, keys: [key], now: receivedAt + 1000 });
const rules: DuplicateRule[] = ["first", "last"];

describe("edge trust (model)", () => {
    it("GIVEN the direct template WHEN filled in with ordinary headers THEN it parses to the envelope, unsealed, judged by SentTimestamp (the template's received-at is not believed)", () => {
        const message = directIntegration(stripe, request({ "stripe-signature": "t=1,v1=ab" }), "{}", "last");
        expect(message).to.not.equal("refused");
        const envelope = decodeEnvelope((message as EnvelopeMessage).MessageBody, (message as EnvelopeMessage).MessageAttributes);
        expect({ headers: envelope.headers, markers: envelope.markers, seal: envelope.seal }).to.deep.equal({ headers: { "stripe-signature": "t=1,v1=ab" }, markers: [], seal: undefined });
        expect(judge(message as EnvelopeMessage)).to.deep.equal({ trusted: true, receivedAt: sentTimestamp, sealed: false });
    });

    describe("GIVEN header values that smuggle in attributes", () => {
        const old = String(receivedAt - 3600_000);
        const injections: Record<string, Record<string, string>> = {
            "a replay marker": { [EnvelopeAttribute.Replay]: "raw/provider=stripe/dt=2027-01-01/hour=00/x.ndjson.gz#0" },
            "replay and force": { [EnvelopeAttribute.Replay]: "raw/provider=stripe/x#0", [EnvelopeAttribute.ReplayForce]: "run-1" },
            "a body encoding": { [EnvelopeAttribute.Encoding]: "base64" },
            "a claim-check encoding": { [EnvelopeAttribute.Encoding]: "s3" },
            "a forged seal": { [EnvelopeAttribute.Seal]: `v1.${receivedAt}.${"A".repeat(43)}` },
            "a forged redrive attestation": { [EnvelopeAttribute.Redrive]: `v1.${receivedAt}.${"A".repeat(43)}` },
            "a seal copied onto another request": { [EnvelopeAttribute.Seal]: sealOf("another body") },
        };
        for (const [what, extra] of Object.entries(injections)) {
            for (const rule of rules) {
                it(`WHEN one adds ${what} (duplicates: ${rule} wins) THEN the router cannot trust it: untrusted, named, timed by SentTimestamp`, () => {
                    const message = directIntegration(stripe, request({ "stripe-signature": injecting("t=1,v1=ab", extra) }), "{}", rule);
                    expect(message, "a well-formed injection parses").to.not.equal("refused");
                    const verdict = judge(message as EnvelopeMessage);
                    expect(verdict.trusted, JSON.stringify(verdict)).to.equal(false);
                    expect(verdict.receivedAt).to.equal(sentTimestamp);
                    expect((verdict as { problem: string }).problem).to.match(/wp-(seal|redrive|replay|encoding)/);
                });
            }
        }

        for (const rule of rules) {
            it(`WHEN one adds a recent wp-received-at to a stale request (duplicates: ${rule} wins) THEN the time judged is SentTimestamp, not the forged one`, () => {
                const message = directIntegration(stripe, request({ "stripe-signature": injecting("t=1,v1=ab", { [EnvelopeAttribute.ReceivedAt]: String(receivedAt + 10 * 3600_000) }) }), "{}", rule) as EnvelopeMessage;
                expect(judge(message)).to.deep.equal({ trusted: true, receivedAt: sentTimestamp, sealed: false });
            });

            it(`WHEN one adds an old wp-received-at (duplicates: ${rule} wins) THEN the time judged is still SentTimestamp`, () => {
                const message = directIntegration(stripe, request({ "stripe-signature": injecting("t=1,v1=ab", { [EnvelopeAttribute.ReceivedAt]: old }) }), "{}", rule) as EnvelopeMessage;
                expect(judge(message)).to.deep.equal({ trusted: true, receivedAt: sentTimestamp, sealed: false });
            });

            it(`WHEN one adds another wp-url on a route that signs the URL (duplicates: ${rule} wins) THEN either the real URL survives or wp-url and wp-url-end disagree and it is untrusted`, () => {
                const message = directIntegration(twilio, request({ "x-twilio-signature": injecting("sig", { [EnvelopeAttribute.Url]: "https://other.example.com/twilio" }) }), "a=1", rule) as EnvelopeMessage;
                const verdict = judge(message);
                const url = decodeEnvelope(message.MessageBody, message.MessageAttributes).url;
                if (rule === "first") {
                    expect({ verdict, url }).to.deep.equal({ verdict: { trusted: true, receivedAt: sentTimestamp, sealed: false }, url: "https://hooks.example.com/webhooks/x" });
                } else {
                    expect(verdict).to.deep.include({ trusted: false });
                    expect((verdict as { problem: string }).problem).to.contain("wp-url and wp-url-end differ");
                }
            });

            it(`WHEN one adds both wp-url and wp-url-end (duplicates: ${rule} wins) THEN one of the two is still the real URL, so they disagree`, () => {
                const forged = "https://other.example.com/twilio";
                const message = directIntegration(twilio, request({ "x-twilio-signature": injecting("sig", { [EnvelopeAttribute.Url]: forged, [EnvelopeAttribute.UrlEnd]: forged }) }), "a=1", rule) as EnvelopeMessage;
                expect(judge(message)).to.deep.include({ trusted: false });
            });

            it(`WHEN one adds a wp-provider naming a provider behind its ingress function (duplicates: ${rule} wins) THEN an unsealed request for it is untrusted, whichever name survives`, () => {
                const message = directIntegration(stripe, request({ "stripe-signature": injecting("t=1", { [EnvelopeAttribute.Provider]: "slack" }) }), "{}", rule) as EnvelopeMessage;
                const provider = decodeEnvelope(message.MessageBody, message.MessageAttributes).provider;
                expect(provider).to.equal(rule === "first" ? "stripe" : "slack");
                expect(judge(message, provider === "slack" ? "function" : "direct").trusted).to.equal(provider === "stripe");
            });
        }
    });

    describe('GIVEN header values with " or \\ that add nothing', () => {
        const values = ['say "hi"', "ends with \\", 'a \\" b', "\\u0022", "tab\\tand\\n", '"', "\\"];
        for (const value of values) {
            for (const rule of rules) {
                it(`WHEN ${JSON.stringify(value)} is substituted (duplicates: ${rule} wins) THEN SQS refuses the message, or it parses with no marker and nothing trusted beyond SentTimestamp`, () => {
                    const message = directIntegration(stripe, request({ "stripe-signature": value }), "{}", rule);
                    if (message === "refused") return;
                    const envelope = decodeEnvelope(message.MessageBody, message.MessageAttributes);
                    expect({ markers: envelope.markers, seal: envelope.seal, replayOf: envelope.replayOf }).to.deep.equal({ markers: [], seal: undefined, replayOf: undefined });
                    expect(judge(message)).to.deep.equal({ trusted: true, receivedAt: sentTimestamp, sealed: false });
                });
            }
        }

        it('WHEN a bare " is substituted THEN the JSON breaks and SQS cannot take the message (the sender gets an error, nothing is acknowledged)', () => {
            expect(directIntegration(stripe, request({ "stripe-signature": 'a"b' }), "{}", "last")).to.equal("refused");
            expect(directIntegration(stripe, request({ "stripe-signature": "a\\" }), "{}", "first")).to.equal("refused");
        });
    });

    it("GIVEN a header the sender left out WHEN substituted THEN it becomes the bare prefix (=) and decodes as absent", () => {
        const text = substituteEdgeTemplate(apiGatewayMessageAttributes("stripe", ["stripe-signature"], false), request({}));
        const envelope = decodeEnvelope("{}", parseJson(text, "last") as EnvelopeMessage["MessageAttributes"]);
        expect(envelope.headers).to.deep.equal({});
    });

    describe("GIVEN the pipeline's own writers", () => {
        const base = { provider: "stripe", requestId: "r-9", receivedAt, sourceIp: "10.0.0.1", headers: { "stripe-signature": "t=1,v1=ab" }, body: Buffer.from('{"id":"evt_9"}') };

        it("WHEN a replay is sealed THEN its markers and time are trusted; any change to a marker, the body or the request id is not", () => {
            const replay = encodeEnvelope({ ...base, replayOf: "raw/provider=stripe/x#3", replayForce: "run-7" }, ["stripe-signature"], { sealKey: key });
            expect(judge(replay)).to.deep.equal({ trusted: true, receivedAt, sealed: true });
            const changed = (name: string, value: string): EnvelopeMessage => ({ ...replay, MessageAttributes: { ...replay.MessageAttributes, [name]: { DataType: "String", StringValue: value } } });
            expect(judge(changed(EnvelopeAttribute.ReplayForce, "run-8")).trusted).to.equal(false);
            expect(judge(changed(EnvelopeAttribute.Replay, "raw/provider=stripe/y#0")).trusted).to.equal(false);
            expect(judge(changed(EnvelopeAttribute.RequestId, "r-10")).trusted).to.equal(false);
            expect(judge(changed(EnvelopeAttribute.Encoding, "base64")).trusted).to.equal(false);
            expect(judge({ ...replay, MessageBody: '{"id":"evt_10"}' }).trusted).to.equal(false);
            const unforced = { ...replay, MessageAttributes: { ...replay.MessageAttributes } };
            delete unforced.MessageAttributes[EnvelopeAttribute.ReplayForce];
            expect(judge(unforced).trusted).to.equal(false);
        });

        it("WHEN sealed with another key THEN it is not trusted; with the old key still listed (rotation) it is", () => {
            const other = randomBytes(32).toString("base64");
            const message = encodeEnvelope({ ...base, replayOf: "raw/x#0" }, ["stripe-signature"], { sealKey: other });
            expect(judge(message).trusted).to.equal(false);
            expect(judgeEnvelope(decodeEnvelope(message.MessageBody, message.MessageAttributes), message.MessageBody, { sentTimestamp, keys: [key, other], now: receivedAt }).trusted).to.equal(true);
        });

        it("WHEN a catch-all redrive attests an unsealed request's original SentTimestamp THEN that time is judged, not the redrive's new SentTimestamp; a changed body is not trusted", () => {
            const direct = encodeEnvelope(base, ["stripe-signature"]);
            const attributes = { ...direct.MessageAttributes };
            delete attributes[EnvelopeAttribute.ReceivedAt];
            attributes[EnvelopeAttribute.Redrive] = { DataType: "String", StringValue: attestRedrive(key, { provider: "stripe", requestId: "r-9", receivedAt: receivedAt - 3600_000 }, direct.MessageBody) };
            const redriven = { MessageBody: direct.MessageBody, MessageAttributes: attributes };
            expect(Object.keys(attributes)).to.have.length(Object.keys(direct.MessageAttributes).length);
            expect(judge(redriven)).to.deep.equal({ trusted: true, receivedAt: receivedAt - 3600_000, sealed: false });
            expect(judge({ ...redriven, MessageBody: '{"id":"evt_x"}' }).trusted).to.equal(false);
        });

        it("WHEN sealed with six declared headers and every marker THEN the message keeps within SQS's 10 attributes", () => {
            const headers = { "x-a": "1", "x-b": "2", "x-c": "3", "x-d": "4", "x-e": "5", "x-f": "6" };
            const message = encodeEnvelope({ ...base, headers, url: "https://h/webhooks/x", replayOf: "raw/x#0", replayForce: "run-1", encoding: "base64" }, Object.keys(headers), { sealKey: key });
            expect(Object.keys(message.MessageAttributes).length).to.be.at.most(Limits.sqsMaxAttributes);
            expect(judge(message)).to.deep.equal({ trusted: true, receivedAt, sealed: true });
        });

        it("WHEN a seal's MAC is checked THEN only the key and fields that made it open it", () => {
            const body = "{}";
            const seal = sealOf(body);
            expect(checkSeal([key], seal, { provider: "stripe", requestId: "api-req-1", encoding: "utf8" }, body)).to.deep.equal({ ok: true, receivedAt });
            expect(checkSeal([], seal, { provider: "stripe", requestId: "api-req-1", encoding: "utf8" }, body)).to.deep.include({ ok: false });
            expect(checkSeal([key], "v1.1.short", { provider: "stripe", requestId: "api-req-1", encoding: "utf8" }, body)).to.deep.include({ ok: false });
        });
    });
});

/** A valid seal for a plain stripe request with `body` (request id api-req-1). */
function sealOf(body: string): string {
    return encodeEnvelope({ provider: "stripe", requestId: "api-req-1", receivedAt, sourceIp: "x", headers: {}, body: Buffer.from(body) }, [], { sealKey: key }).MessageAttributes[EnvelopeAttribute.Seal].StringValue;
}
