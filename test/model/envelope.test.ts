/**
 * The catch-all envelope: one format for the API Gateway mapping, the ingress
 * function, the local ingress, replay and the router.
 */
import { expect } from "chai";
import { decodeEnvelope, encodeEnvelope, EnvelopeAttribute, isEnvelopeError } from "../../model/envelope";
import { Limits } from "../../model/constants";
import { validateConfig } from "../../model/config";

const request = (extra: Record<string, unknown> = {}) => ({
    provider: "acme",
    requestId: "r-1",
    receivedAt: 1_700_000_000_000,
    sourceIp: "203.0.113.7",
    headers: { "x-a": "1", "x-b": "2", "x-c": "3", "x-d": "4", "x-e": "5", "x-f": "6" },
    body: Buffer.from('{"id":"evt_1"}'),
    ...extra,
});

describe("envelope", () => {
    it("GIVEN six declared headers and no markers WHEN encoded THEN each header is its own attribute and ten attributes are used", () => {
        const message = encodeEnvelope(request(), ["X-A", "X-B", "X-C", "X-D", "X-E", "X-F"]);
        expect(Object.keys(message.MessageAttributes)).to.have.length(Limits.sqsMaxAttributes);
        expect(message.MessageAttributes["h.x-a"]).to.deep.equal({ DataType: "String", StringValue: "=1" });
    });

    it("GIVEN six declared headers on a forced replay WHEN encoded THEN headers travel as one attribute, within SQS's 10, and decode the same", () => {
        // Prepare
        const marks = { replayOf: "raw/provider=acme/x.ndjson.gz#0", replayForce: "run-1", url: "https://example.com/webhooks/acme" };
        const replay = request(marks);
        // Act
        const message = encodeEnvelope(replay, ["x-a", "x-b", "x-c", "x-d", "x-e", "x-f"]);
        const decoded = decodeEnvelope(message.MessageBody, message.MessageAttributes);
        // Assess
        expect(Object.keys(message.MessageAttributes).length).to.be.at.most(Limits.sqsMaxAttributes);
        expect(message.MessageAttributes).to.have.property(EnvelopeAttribute.Headers);
        expect(decoded.headers).to.deep.equal(replay.headers);
        expect({ replayOf: decoded.replayOf, replayForce: decoded.replayForce, url: decoded.url }).to.deep.equal(marks);
        expect(decoded.body.equals(replay.body)).to.equal(true);
    });

    it("GIVEN a packed headers attribute that is not a JSON object WHEN decoded THEN an EnvelopeError names the attribute", () => {
        const attributes = { [EnvelopeAttribute.Provider]: { DataType: "String" as const, StringValue: "acme" }, [EnvelopeAttribute.Headers]: { DataType: "String" as const, StringValue: "[1]" } };
        let error: unknown;
        try {
            decodeEnvelope("{}", attributes);
        } catch (err) {
            error = err;
        }
        expect(isEnvelopeError(error), String(error)).to.equal(true);
        expect((error as Error).message).to.equal("message attribute wp-headers is not a JSON object");
    });

    it("GIVEN a header the sender left out WHEN encoded and decoded THEN it is absent, not empty", () => {
        const message = encodeEnvelope(request({ headers: {} }), ["x-a"]);
        expect(message.MessageAttributes["h.x-a"].StringValue).to.equal("=");
        expect(decodeEnvelope(message.MessageBody, message.MessageAttributes).headers).to.deep.equal({});
    });

    it("GIVEN a provider named ingress WHEN validated THEN the name is reserved", () => {
        const result = validateConfig({ providers: [{ name: "ingress", plugin: "github", secret: "s" }] });
        expect(result.ok ? [] : result.problems).to.deep.equal([`providers[0] (ingress).name: "ingress" is reserved (claims/ingress/ holds the ingress functions' claim checks; pick another name)`]);
    });
});
