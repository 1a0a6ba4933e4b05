/**
 * Every plugin against the providers' published examples, plus the cases the
 * examples do not cover: rotation, tolerance, tampering, missing and
 * malformed headers, odd bodies.
 */
import { expect } from "chai";
import { builtinPlugins, getPlugin } from "../../providers";
import { twilioSignedString } from "../../providers/twilio";
import { ProviderPlugin, RejectReason, WebhookRequest } from "../../providers/types";
// The providers' published examples (each entry names the page it came from), kept in the
// repository: a clone has nothing outside it. Importing it makes tsc copy it next to this test.
import signatureVectors from "./fixtures/signature-vectors.json";

const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const request = (headers: Record<string, string>, body: Buffer | string, url = "https://hooks.example.com/webhooks/x"): WebhookRequest => ({ headers: lower(headers), body: Buffer.isBuffer(body) ? body : Buffer.from(body), url });

const acme = getPlugin("hmac", {
    signature: { header: "X-Acme-Signature", algorithm: "sha512", encoding: "base64", prefix: "sig=", timestampHeader: "X-Acme-Timestamp" },
    eventIdPath: "id",
    eventTypeHeader: "X-Acme-Event",
    orderingKeyPath: "account.id",
});
const plain = getPlugin("hmac", { signature: { header: "X-Sig", algorithm: "sha1", encoding: "hex" } });
const all: [string, ProviderPlugin][] = [...Object.entries(builtinPlugins), ["hmac (sha512/base64 + timestamp)", acme], ["hmac (sha1/hex)", plain]];

describe("provider plugins: published examples", () => {
    const vectors: Record<string, any> = signatureVectors;

    it("GitHub: the documented X-Hub-Signature-256 verifies", () => {
        const v = vectors.github;
        expect(getPlugin("github").verify(request(v.headers, v.body), [v.secret], { now: Date.now() })).to.deep.equal({ ok: true });
    });

    it("Slack: the documented signature verifies at its own time and is stale now", () => {
        const v = vectors.slack;
        const at = Number(v.headers["X-Slack-Request-Timestamp"]) * 1000;
        expect(getPlugin("slack").verify(request(v.headers, v.body), [v.secret], { now: at })).to.deep.equal({ ok: true });
        const now = getPlugin("slack").verify(request(v.headers, v.body), [v.secret], { now: Date.now() });
        expect(now.ok === false && now.reason).to.equal(RejectReason.Stale);
    });

    it("Standard Webhooks: the specification's example verifies at its own time", () => {
        const v = vectors["standard-webhooks"];
        const at = Number(v.headers["webhook-timestamp"]) * 1000;
        expect(getPlugin("standard-webhooks").verify(request(v.headers, v.body), [v.secret], { now: at })).to.deep.equal({ ok: true });
    });

    it("Twilio: the documented URL + sorted parameters signature verifies", () => {
        const v = vectors.twilio;
        const body = new URLSearchParams(v.form).toString();
        expect(getPlugin("twilio").verify(request(v.headers, body, v.url), [v.secret], { now: Date.now() })).to.deep.equal({ ok: true });
        expect(twilioSignedString(v.url, Buffer.from(body))).to.equal("https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212");
    });

    it("Stripe: a v1 among several matches, and an unknown scheme entry is ignored", () => {
        const now = 1_700_000_000_000;
        const body = '{"id":"evt_1","type":"charge.succeeded"}';
        const good = getPlugin("stripe").sign(Buffer.from(body), "whsec_test", now, "")["Stripe-Signature"];
        const v1 = good.split(",")[1];
        const header = `t=${now / 1000},v1=${"0".repeat(64)},${v1},v0=abc`;
        expect(getPlugin("stripe").verify(request({ "Stripe-Signature": header }, body), ["whsec_test"], { now })).to.deep.equal({ ok: true });
    });
});

describe("provider plugins: every scheme", () => {
    const now = 1_763_800_000_000;
    const url = "https://hooks.example.com/webhooks/p?x=1";

    for (const [name, plugin] of all) {
        describe(name, () => {
            const body = plugin.sample(now);
            const headers = lower(plugin.sign(body, "secret-one", now, url));

            it("accepts its own signature, and a rotated secret list", () => {
                expect(plugin.verify({ headers, body, url }, ["secret-one"], { now })).to.deep.equal({ ok: true });
                expect(plugin.verify({ headers, body, url }, ["secret-new", "secret-one"], { now })).to.deep.equal({ ok: true });
            });

            it("rejects a tampered body and a wrong secret as bad-signature", () => {
                const tampered = Buffer.concat([body, Buffer.from(" ")]);
                const a = plugin.verify({ headers, body: tampered, url }, ["secret-one"], { now });
                const b = plugin.verify({ headers, body, url }, ["secret-two"], { now });
                expect([a.ok === false && a.reason, b.ok === false && b.reason]).to.deep.equal([RejectReason.BadSignature, RejectReason.BadSignature]);
            });

            it("rejects a missing signature header and an empty secret list", () => {
                const without = { ...headers };
                for (const h of plugin.headers) if (/sig|hmac/.test(h)) delete without[h];
                const a = plugin.verify({ headers: without, body, url }, ["secret-one"], { now });
                const b = plugin.verify({ headers, body, url }, [], { now });
                expect([a.ok === false && a.reason, b.ok === false && b.reason]).to.deep.equal([RejectReason.MissingSignature, RejectReason.NoSecret]);
            });

            it("rejects a malformed signature header without throwing", () => {
                const garbled = { ...headers };
                for (const h of plugin.headers) if (/sig|hmac/.test(h)) garbled[h] = "%%%not a signature%%%";
                const result = plugin.verify({ headers: garbled, body, url }, ["secret-one"], { now });
                expect(result.ok === false && result.reason).to.equal(RejectReason.MalformedSignature);
            });

            if (plugin.signsTimestamp) {
                it("rejects a request outside the tolerance, either side, and honours a wider tolerance", () => {
                    const late = plugin.verify({ headers, body, url }, ["secret-one"], { now: now + 301_000 });
                    const early = plugin.verify({ headers, body, url }, ["secret-one"], { now: now - 301_000 });
                    expect([late.ok === false && late.reason, early.ok === false && early.reason]).to.deep.equal([RejectReason.Stale, RejectReason.Stale]);
                    expect(plugin.verify({ headers, body, url }, ["secret-one"], { now: now + 301_000, toleranceSeconds: 600 })).to.deep.equal({ ok: true });
                });
            }

            it("declares every header it signs with, at most 6", () => {
                for (const h of Object.keys(headers)) expect(plugin.headers, h).to.include(h);
                expect(plugin.headers.length).to.be.at.most(6);
            });

            it("reads facts from its sample, and never throws on odd bodies", () => {
                const facts = plugin.facts({ headers, body, url });
                expect(facts.eventId).to.be.a("string").and.not.equal("");
                // A generic hmac provider without an event type source reports "unknown".
                if (plugin !== plain) expect(facts.eventType).to.not.equal("unknown");
                for (const odd of [Buffer.alloc(0), Buffer.from("not json {"), Buffer.from([0xff, 0xfe, 0x00, 0x80])]) {
                    const f = plugin.facts({ headers: {}, body: odd, url });
                    expect(f.eventId).to.match(/^sha256:[0-9a-f]{64}$/);
                    expect(f.eventType).to.equal("unknown");
                }
            });

            it("never puts a secret into a rejection's detail", () => {
                const result = plugin.verify({ headers, body: Buffer.from("x"), url }, ["secret-one"], { now });
                expect(JSON.stringify(result)).to.not.include("secret-one");
            });
        });
    }
});

describe("provider plugins: facts and handshakes", () => {
    it("Stripe facts: id, type, customer as ordering key", () => {
        const body = Buffer.from(JSON.stringify({ id: "evt_9", type: "invoice.paid", data: { object: { id: "in_1", customer: "cus_7" } } }));
        expect(getPlugin("stripe").facts(request({}, body))).to.deep.equal({ eventId: "evt_9", eventType: "invoice.paid", orderingKey: "cus_7" });
    });

    it("GitHub facts: delivery id, event.action, repository", () => {
        const body = Buffer.from(JSON.stringify({ action: "opened", repository: { full_name: "o/r" } }));
        expect(getPlugin("github").facts(request({ "X-GitHub-Delivery": "d-1", "X-GitHub-Event": "pull_request" }, body))).to.deep.equal({ eventId: "d-1", eventType: "pull_request.opened", orderingKey: "o/r" });
    });

    it("hmac facts come from the configured headers and paths", () => {
        const body = Buffer.from(JSON.stringify({ id: "e1", account: { id: "a1" } }));
        expect(acme.facts(request({ "X-Acme-Event": "order.paid" }, body))).to.deep.equal({ eventId: "e1", eventType: "order.paid", orderingKey: "a1" });
        expect(acme.headers).to.deep.equal(["x-acme-signature", "x-acme-timestamp", "x-acme-event"]);
    });

    it("Slack answers url_verification with the challenge, and nothing for events", () => {
        const challenge = Buffer.from(JSON.stringify({ type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", token: "x" }));
        expect(getPlugin("slack").handshake!(request({}, challenge))).to.deep.equal({ statusCode: 200, headers: { "content-type": "text/plain" }, body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
        expect(getPlugin("slack").handshake!(request({}, getPlugin("slack").sample(0)))).to.equal(undefined);
    });

    it("Slack facts read form-encoded slash commands", () => {
        const body = Buffer.from("team_id=T1&command=%2Fdeploy&trigger_id=13345224609.738474920.8088930838d88f008e0");
        expect(getPlugin("slack").facts(request({}, body))).to.deep.equal({ eventId: "13345224609.738474920.8088930838d88f008e0", eventType: "/deploy", orderingKey: "T1" });
    });

    it("getPlugin names what is wrong", () => {
        expect(() => getPlugin("paypal" as never)).to.throw(/unknown plugin "paypal"/);
        expect(() => getPlugin("hmac")).to.throw(/needs signature options/);
    });
});
