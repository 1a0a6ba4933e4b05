/**
 * Source-IP allowlists without I/O: the CIDR matcher (IPv4, IPv6, IPv4-mapped IPv6), the config rules,
 * the direct template's second copy of the source IP under both duplicate-name rules, and the router's
 * pure stage (a forwarded-for header decides nothing; a refused address is quarantined as source-ip).
 */
import { expect } from "chai";
import { parseConfig, validateConfig } from "../../model/config";
import { decodeEnvelope, EdgeRequest, encodeEnvelope, EnvelopeAttribute, EnvelopeMessage } from "../../model/envelope";
import { buildPipelineModel } from "../../model/pipeline";
import { providerRuntimeOf, RouterRuntimeConfig } from "../../model/runtime-config";
import { compileAllowlist, parseCidr } from "../../model/source-ip";
import { judgeEnvelope } from "../../model/trust";
import { compileRouter, decideRecordNow, Pending, QuarantineReason } from "../../handlers/router/router";
import { getPlugin } from "../../providers";
import { PluginName } from "../../providers/types";
import { directIntegration, DirectRoute, DuplicateRule, injecting } from "../support/edge";

const secret = "whsec_test-secret-for-allowlists";
const receivedAt = 1_800_000_000_000;
const stripeRoute: DirectRoute = { name: "stripe", headers: ["stripe-signature"], signsUrl: false, checksSourceIp: true };
const rules: DuplicateRule[] = ["first", "last"];

function routerFor(allowedSourceIps?: string[]) {
    const config = parseConfig({ providers: [{ name: "stripe", plugin: "stripe", secret, ...(allowedSourceIps ? { allowedSourceIps } : {}) }] });
    const model = buildPipelineModel(config);
    const runtime: RouterRuntimeConfig = {
        bucket: "b",
        providers: Object.fromEntries(model.providers.map((p) => [p.name, providerRuntimeOf(p, `${p.name}-secret`)])),
        lanes: {},
        inlineBodyBytes: 200_000,
        sealSecretId: "k",
    };
    return compileRouter(runtime);
}

function signedRequest(sourceIp: string, extraHeaders: Record<string, string> = {}): EdgeRequest {
    const body = Buffer.from(JSON.stringify({ id: "evt_1", type: "charge.succeeded" }));
    const headers = getPlugin(PluginName.Stripe).sign(body, secret, receivedAt, "");
    return { requestId: "r1", requestTimeEpoch: receivedAt, sourceIp, domainName: "hooks.example.com", path: "/webhooks/stripe", headers: { ...lower(headers), ...extraHeaders } };
}
const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const bodyText = JSON.stringify({ id: "evt_1", type: "charge.succeeded" });

function decide(allowed: string[] | undefined, message: EnvelopeMessage): Pending {
    const compiled = routerFor(allowed);
    const p: Pending = { record: { messageId: "m1", body: message.MessageBody, attributes: message.MessageAttributes, sentTimestamp: receivedAt + 10 } };
    decideRecordNow(compiled, p, { keys: [], secrets: () => [secret] }, receivedAt + 1000);
    return p;
}

describe("source-IP allowlists (model)", () => {
    describe("the matcher", () => {
        const allowed = compileAllowlist(["10.0.0.0/8", "203.0.113.7", "2001:db8::/32"]);
        it("GIVEN IPv4 blocks WHEN an address inside or outside is checked THEN inside passes, outside does not", () => {
            expect([allowed("10.1.2.3"), allowed("203.0.113.7"), allowed("11.0.0.1"), allowed("203.0.113.8")]).to.deep.equal([true, true, false, false]);
        });
        it("GIVEN an IPv6 block WHEN IPv6 addresses are checked THEN only the block's pass", () => {
            expect([allowed("2001:db8::1"), allowed("2001:0db8:ffff::9"), allowed("2001:db9::1"), allowed("::1")]).to.deep.equal([true, true, false, false]);
        });
        it("GIVEN an IPv4-mapped IPv6 address (::ffff:1.2.3.4) WHEN checked THEN its IPv4 address decides", () => {
            expect([allowed("::ffff:10.9.8.7"), allowed("::FFFF:10.9.8.7"), allowed("::ffff:11.9.8.7")]).to.deep.equal([true, true, false]);
            expect(compileAllowlist(["127.0.0.0/8"])("::ffff:127.0.0.1")).to.equal(true);
        });
        it("GIVEN an address that is not one (unknown, empty, a host name) WHEN checked THEN it is refused", () => {
            expect([allowed("unknown"), allowed(""), allowed("10.0.0.1, 1.2.3.4"), allowed("localhost")]).to.deep.equal([false, false, false, false]);
        });
        it("GIVEN CIDR text WHEN parsed THEN addresses with a prefix in range parse, anything else does not", () => {
            expect(parseCidr("10.0.0.0/8")).to.deep.equal({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
            expect(parseCidr("2001:db8::/32")).to.deep.equal({ address: "2001:db8::", prefix: 32, family: "ipv6" });
            expect(parseCidr("1.2.3.4")).to.deep.equal({ address: "1.2.3.4", prefix: 32, family: "ipv4" });
            for (const bad of ["10.0.0.0/33", "10.0.0.256/8", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/8x", "example.com/24", "", "10.0.0.0/-1"]) expect(parseCidr(bad), bad).to.equal(undefined);
        });
    });

    describe("config", () => {
        const problemsOf = (allowedSourceIps: unknown) => {
            const result = validateConfig({ providers: [{ name: "stripe", plugin: "stripe", allowedSourceIps }] });
            return result.ok ? [] : result.problems;
        };
        it("GIVEN IPv4 and IPv6 blocks WHEN validated THEN accepted, and the model and runtime config carry them", () => {
            expect(problemsOf(["3.18.12.63/32", "2001:db8::/32"])).to.deep.equal([]);
            const model = buildPipelineModel(parseConfig({ providers: [{ name: "stripe", plugin: "stripe", allowedSourceIps: ["3.18.12.63/32"] }] }));
            expect(providerRuntimeOf(model.providers[0], "s").allowedSourceIps).to.deep.equal(["3.18.12.63/32"]);
        });
        it("GIVEN bad blocks WHEN validated THEN every one is named by its path, with the provider and the refused value", () => {
            expect(problemsOf(["10.0.0.0/8", "10.0.0.300/8", "2001:db8::/200"])).to.deep.equal([
                'providers[0] (stripe).allowedSourceIps[1]: "10.0.0.300/8" is not a CIDR block (an IPv4 or IPv6 address with an optional /prefix, such as 203.0.113.0/24 or 2001:db8::/32)',
                'providers[0] (stripe).allowedSourceIps[2]: "2001:db8::/200" is not a CIDR block (an IPv4 or IPv6 address with an optional /prefix, such as 203.0.113.0/24 or 2001:db8::/32)',
            ]);
        });
        it("GIVEN an empty list or not a list WHEN validated THEN refused with the path", () => {
            expect(problemsOf([])).to.have.length(1);
            expect(problemsOf([])[0]).to.match(/^providers\[0\] \(stripe\)\.allowedSourceIps: must list at least one CIDR block/);
            expect(problemsOf("10.0.0.0/8")[0]).to.match(/^providers\[0\] \(stripe\)\.allowedSourceIps: must be a list of CIDR blocks/);
        });
    });

    describe("the router's pure stage", () => {
        it("GIVEN allowedSourceIps WHEN a signed direct request comes from inside THEN it is routed; from outside THEN quarantined as source-ip, named", () => {
            const inside = decide(["198.51.100.0/24"], directIntegration(stripeRoute, signedRequest("198.51.100.7"), bodyText, "last") as EnvelopeMessage);
            expect({ reject: inside.reject, targets: inside.targets }).to.deep.equal({ reject: undefined, targets: ["stripe-default"] });
            const outside = decide(["198.51.100.0/24"], directIntegration(stripeRoute, signedRequest("192.0.2.9"), bodyText, "last") as EnvelopeMessage);
            expect(outside.reject?.reason).to.equal(QuarantineReason.SourceIp);
            expect(outside.reject?.detail).to.contain("192.0.2.9").and.contain("stripe");
        });
        it("GIVEN no allowedSourceIps WHEN a request comes from any address THEN it is routed as before", () => {
            const route: DirectRoute = { ...stripeRoute, checksSourceIp: false };
            const p = decide(undefined, directIntegration(route, signedRequest("192.0.2.9"), bodyText, "last") as EnvelopeMessage);
            expect(p.reject).to.equal(undefined);
        });
        it("GIVEN allowedSourceIps WHEN an outside request sends X-Forwarded-For naming an inside address THEN the header counts for nothing: source-ip", () => {
            const request = signedRequest("192.0.2.9", { "x-forwarded-for": "198.51.100.7", forwarded: "for=198.51.100.7" });
            const p = decide(["198.51.100.0/24"], directIntegration(stripeRoute, request, bodyText, "last") as EnvelopeMessage);
            expect(p.reject?.reason).to.equal(QuarantineReason.SourceIp);
        });
        for (const rule of rules) {
            it(`GIVEN allowedSourceIps WHEN an outside sender smuggles wp-source-ip naming an inside address through a header value (duplicates: ${rule} wins) THEN it is never routed`, () => {
                const headers = signedRequest("192.0.2.9").headers;
                const request = { ...signedRequest("192.0.2.9"), headers: { "stripe-signature": injecting(headers["stripe-signature"], { [EnvelopeAttribute.SourceIp]: "198.51.100.7" }) } };
                const message = directIntegration(stripeRoute, request, bodyText, rule);
                expect(message, "the injection parses").to.not.equal("refused");
                const p = decide(["198.51.100.0/24"], message as EnvelopeMessage);
                expect(p.targets).to.equal(undefined);
                // first: wp-source-ip is the real one (refused by the list); last: the copies differ (untrusted)
                expect(p.reject?.reason).to.equal(rule === "first" ? QuarantineReason.SourceIp : QuarantineReason.UntrustedEnvelope);
            });
            it(`GIVEN allowedSourceIps WHEN one smuggles both wp-source-ip and wp-source-ip-end (duplicates: ${rule} wins) THEN one of the two is still the real address: untrusted`, () => {
                const headers = signedRequest("192.0.2.9").headers;
                const forged = { [EnvelopeAttribute.SourceIp]: "198.51.100.7", [EnvelopeAttribute.SourceIpEnd]: "198.51.100.7" };
                const request = { ...signedRequest("192.0.2.9"), headers: { "stripe-signature": injecting(headers["stripe-signature"], forged) } };
                const message = directIntegration(stripeRoute, request, bodyText, rule) as EnvelopeMessage;
                const envelope = decodeEnvelope(message.MessageBody, message.MessageAttributes);
                expect([envelope.sourceIp, envelope.sourceIpEnd]).to.include("192.0.2.9");
                expect(decide(["198.51.100.0/24"], message).reject?.reason).to.equal(QuarantineReason.UntrustedEnvelope);
            });
        }
        it("GIVEN allowedSourceIps WHEN an unsealed message lacks wp-source-ip-end THEN it is untrusted (a direct route with a list always writes it)", () => {
            const message = encodeEnvelope({ provider: "stripe", requestId: "r", receivedAt, sourceIp: "198.51.100.7", headers: lower(getPlugin(PluginName.Stripe).sign(Buffer.from(bodyText), secret, receivedAt, "")), body: Buffer.from(bodyText) }, ["stripe-signature"]);
            const envelope = decodeEnvelope(message.MessageBody, message.MessageAttributes);
            expect(judgeEnvelope(envelope, message.MessageBody, { keys: [], now: receivedAt, checksSourceIp: true })).to.deep.include({ trusted: false });
            expect(judgeEnvelope(envelope, message.MessageBody, { keys: [], now: receivedAt, checksSourceIp: false })).to.deep.include({ trusted: true });
        });
        it("GIVEN a sealed message (the ingress function) WHEN its wp-source-ip is outside the list THEN source-ip; inside THEN routed", () => {
            const key = "k".repeat(44);
            const make = (ip: string) =>
                encodeEnvelope({ provider: "stripe", requestId: "r", receivedAt, sourceIp: ip, headers: lower(getPlugin(PluginName.Stripe).sign(Buffer.from(bodyText), secret, receivedAt, "")), body: Buffer.from(bodyText) }, ["stripe-signature"], { sealKey: key });
            const run = (ip: string) => {
                const compiled = routerFor(["198.51.100.0/24"]);
                const m = make(ip);
                const p: Pending = { record: { messageId: "m", body: m.MessageBody, attributes: m.MessageAttributes, sentTimestamp: receivedAt } };
                decideRecordNow(compiled, p, { keys: [key], secrets: () => [secret] }, receivedAt + 1000);
                return p.reject?.reason;
            };
            expect([run("198.51.100.20"), run("::ffff:198.51.100.20"), run("192.0.2.1")]).to.deep.equal([undefined, undefined, QuarantineReason.SourceIp]);
        });
    });
});
