/**
 * `paused` and `retentionDays` in the config contract and the model, and the claim-check expiry derived
 * from the longest lane retention. Pure: no engine, no emulator.
 */
import { expect } from "chai";
import { parseConfig, validateConfig } from "../../model/config";
import { ClaimCheckMarginDays, claimsExpirationDays, claimsExpirationDaysFor, QueueSettings } from "../../model/constants";
import { buildPipelineModel } from "../../model/pipeline";

const problemsOf = (raw: unknown) => {
    const result = validateConfig(raw);
    return result.ok ? [] : result.problems;
};

describe("paused and retentionDays", () => {
    it("GIVEN paused on a provider and false on one named lane WHEN the model is built THEN the lane's value wins, the others inherit", () => {
        // Prepare
        const config = parseConfig({
            providers: [
                { name: "stripe", plugin: "stripe", paused: true, lanes: { billing: { paused: false }, audit: {} }, routes: { "invoice.*": "billing", "charge.*": "audit" } },
                { name: "github", plugin: "github", lanes: { deploys: { paused: true } }, routes: { "push": "deploys" } },
            ],
        });
        // Act
        const model = buildPipelineModel(config);
        // Assess
        expect(Object.fromEntries(model.lanes.map((l) => [l.id, l.paused]))).to.deep.equal({
            "stripe-default": true,
            "stripe-billing": false,
            "stripe-audit": true,
            "github-default": false,
            "github-deploys": true,
        });
    });

    it("GIVEN retentionDays on a provider and a named lane WHEN the model is built THEN each lane queue keeps messages that many days (default 4)", () => {
        const config = parseConfig({ providers: [{ name: "stripe", plugin: "stripe", retentionDays: 10, lanes: { billing: { retentionDays: 14 }, audit: {} }, routes: { "a": "billing", "b": "audit" } }, { name: "github", plugin: "github" }] });
        const model = buildPipelineModel(config);
        expect(Object.fromEntries(model.lanes.map((l) => [l.id, l.retentionSeconds / 86400]))).to.deep.equal({ "stripe-default": 10, "stripe-billing": 14, "stripe-audit": 10, "github-default": 4 });
    });

    it("GIVEN bad values WHEN validated THEN every problem names the path, the provider and the value", () => {
        const problems = problemsOf({
            providers: [
                { name: "stripe", plugin: "stripe", paused: "yes", retentionDays: 15, lanes: { billing: { retentionDays: 0, paused: 1 }, slow: { retentionDays: 2.5 } }, routes: { a: "billing", b: "slow" } },
            ],
        });
        expect(problems).to.deep.equal([
            "providers[0] (stripe).lanes.billing.paused: must be true or false, got 1",
            "providers[0] (stripe).lanes.billing.retentionDays: 0 is below the minimum of 1 (must be between 1 and 14)",
            "providers[0] (stripe).lanes.slow.retentionDays: 2.5 is not a whole number (must be a whole number between 1 and 14)",
            'providers[0] (stripe).paused: must be true or false, got "yes"',
            "providers[0] (stripe).retentionDays: 15 is above the maximum of 14 (must be between 1 and 14)",
        ]);
    });

    it("GIVEN retentionDays on a Kafka lane WHEN validated THEN it is refused (the cluster keeps the topic), unless an SQS lane inherits it", () => {
        const kafka = { mode: "external", brokers: ["127.0.0.1:9092"] };
        expect(problemsOf({ providers: [{ name: "shop", plugin: "shopify", lane: "kafka", retentionDays: 7 }], kafka })).to.deep.equal([
            "providers[0] (shop).retentionDays: only applies to SQS lanes (this lane is a Kafka lane: its topic keeps what the cluster's retention says; remove it), got 7",
        ]);
        expect(problemsOf({ providers: [{ name: "shop", plugin: "shopify", lanes: { stream: { lane: "kafka", retentionDays: 7 } }, routes: { a: "stream" } }], kafka })).to.deep.equal([
            "providers[0] (shop).lanes.stream.retentionDays: only applies to SQS lanes (this lane is a Kafka lane: its topic keeps what the cluster's retention says; remove it), got 7",
        ]);
        // A Kafka provider whose named SQS lane inherits retentionDays: accepted.
        expect(problemsOf({ providers: [{ name: "shop", plugin: "shopify", lane: "kafka", retentionDays: 7, lanes: { queue: { lane: "sqs" } }, routes: { a: "queue" } }], kafka })).to.deep.equal([]);
    });

    it("GIVEN lanes with longer retention WHEN the model is built THEN claim checks live as long as the longest lane queue plus the DLQ plus the margin", () => {
        // Prepare: the default (4 days) and one lane at SQS's maximum
        const base = buildPipelineModel(parseConfig({ providers: [{ name: "stripe", plugin: "stripe" }] }));
        const longest = buildPipelineModel(parseConfig({ providers: [{ name: "stripe", plugin: "stripe", lanes: { hold: { retentionDays: 14 } }, routes: { a: "hold" } }, { name: "github", plugin: "github", retentionDays: 9 }] }));
        // Assess: 4 + 14 + 3 = 21 by default, 14 + 14 + 3 = 31 with a 14-day lane
        expect(base.archive.claimsExpirationDays).to.equal(claimsExpirationDays).and.to.equal(21);
        expect(longest.archive.claimsExpirationDays).to.equal(14 + QueueSettings.dlqRetentionSeconds / 86400 + ClaimCheckMarginDays).and.to.equal(31);
        // A held message (14 days) then a DLQ stay (14 days) never outlives its claim body.
        expect(longest.archive.claimsExpirationDays * 86400).to.be.greaterThan(Math.max(...longest.lanes.map((l) => l.retentionSeconds)) + QueueSettings.dlqRetentionSeconds);
        // A retention below the catch-all's 4 days never shortens the claims (the ingress claims wait in the catch-all).
        expect(claimsExpirationDaysFor(86400)).to.equal(21);
    });
});
