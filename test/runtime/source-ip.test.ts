/**
 * Source-IP allowlists against moto: messages the direct integration would enqueue (its template filled in
 * by plain substitution, parsed with either rule for duplicated names) sent to the catch-all queue and
 * routed. An address outside the provider's allowedSourceIps is quarantined as source-ip and never reaches
 * a lane; X-Forwarded-For counts for nothing; a wp-source-ip smuggled in through a header value never
 * passes the list; a provider without a list accepts any address.
 */
import { expect } from "chai";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { EdgeRequest, EnvelopeAttribute, EnvelopeMessage } from "../../model/envelope";
import { parseLaneMessage } from "../../model/lane-message";
import { getPlugin } from "../../providers";
import { directIntegration, DuplicateRule, injecting } from "../support/edge";
import { createRuntime, readArchive, routeCatchAll, RuntimeFixture, take } from "../support/runtime";

describe("runtime: source-IP allowlists (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    const stripe = getPlugin("stripe");
    let n = 0;

    before(async () => {
        rt = await createRuntime(
            {
                providers: [
                    { name: "stripe", plugin: "stripe", allowedSourceIps: ["198.51.100.0/24", "2001:db8::/32"] },
                    { name: "open", plugin: "stripe" },
                ],
            },
            { suite: "srcip" },
        );
    });

    const route = () => createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });

    function direct(provider: string, id: string, sourceIp: string, rule: DuplicateRule, shape: (signature: string) => Record<string, string> = (s) => ({ "stripe-signature": s })): EnvelopeMessage {
        const body = `{"id":"${id}","type":"invoice.paid"}`;
        const signature = stripe.sign(Buffer.from(body), rt.secrets[provider][0], Date.now(), "")["Stripe-Signature"];
        const request: EdgeRequest = { requestId: `api-${++n}`, requestTimeEpoch: Date.now(), sourceIp, domainName: "hooks.example.com", path: `/webhooks/${provider}`, headers: shape(signature) };
        const message = directIntegration({ name: provider, headers: ["stripe-signature"], signsUrl: false, checksSourceIp: rt.provider(provider).allowedSourceIps !== undefined }, request, body, rule);
        expect(message, "the template parses").to.not.equal("refused");
        return message as EnvelopeMessage;
    }

    async function run(...messages: EnvelopeMessage[]) {
        for (const m of messages) await rt.clients.sqs.send(new SendMessageCommand({ QueueUrl: rt.resources.catchAll.queue.url, ...m }));
        await routeCatchAll(route(), rt.clients.sqs, rt.resources.catchAll);
    }
    const laneIds = async (lane: string) => (await take(rt.clients.sqs, rt.resources.lanes[lane].queue.url)).map((m) => parseLaneMessage(m.Body!).eventId);
    const quarantined = async (provider: string, reason: string) =>
        (await readArchive(rt.clients.s3, rt.resources.bucket, `quarantine/provider=${provider}/`)).filter((l) => l.reason === reason).map((l) => JSON.parse(String(l.body)).id as string);

    it("WHEN requests come from inside (IPv4, IPv6, IPv4-mapped) and outside the list THEN inside ones are routed, outside ones quarantined as source-ip with the address named", async () => {
        await run(
            direct("stripe", "evt_in_v4", "198.51.100.7", "last"),
            direct("stripe", "evt_in_v6", "2001:db8:1::5", "last"),
            direct("stripe", "evt_in_mapped", "::ffff:198.51.100.9", "last"),
            direct("stripe", "evt_out_v4", "192.0.2.1", "last"),
            direct("stripe", "evt_out_v6", "2001:db9::5", "last"),
            direct("stripe", "evt_out_mapped", "::ffff:192.0.2.1", "last"),
        );
        expect((await laneIds("stripe-default")).sort()).to.deep.equal(["evt_in_mapped", "evt_in_v4", "evt_in_v6"]);
        expect((await quarantined("stripe", "source-ip")).sort()).to.deep.equal(["evt_out_mapped", "evt_out_v4", "evt_out_v6"]);
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "quarantine/provider=stripe/");
        expect(lines.find((l) => String(l.body).includes("evt_out_v4"))!.detail).to.contain("192.0.2.1");
    });

    it("WHEN an outside request names an inside address in X-Forwarded-For THEN it is still quarantined as source-ip", async () => {
        await run(direct("stripe", "evt_xff", "192.0.2.1", "last", (s) => ({ "stripe-signature": s, "x-forwarded-for": "198.51.100.7" })));
        expect(await laneIds("stripe-default")).to.deep.equal([]);
        expect(await quarantined("stripe", "source-ip")).to.include("evt_xff");
    });

    for (const rule of ["first", "last"] as const) {
        it(`WHEN an outside sender smuggles wp-source-ip (and wp-source-ip-end) naming an inside address through a header value (SQS keeps the ${rule}) THEN nothing reaches the lane`, async () => {
            const one = direct("stripe", `evt_smuggle1_${rule}`, "192.0.2.1", rule, (s) => ({ "stripe-signature": injecting(s, { [EnvelopeAttribute.SourceIp]: "198.51.100.7" }) }));
            const both = direct("stripe", `evt_smuggle2_${rule}`, "192.0.2.1", rule, (s) => ({ "stripe-signature": injecting(s, { [EnvelopeAttribute.SourceIp]: "198.51.100.7", [EnvelopeAttribute.SourceIpEnd]: "198.51.100.7" }) }));
            await run(one, both);
            expect(await laneIds("stripe-default")).to.deep.equal([]);
            const caught = [...(await quarantined("stripe", "source-ip")), ...(await quarantined("stripe", "untrusted-envelope"))];
            expect(caught).to.include.members([`evt_smuggle1_${rule}`, `evt_smuggle2_${rule}`]);
        });
    }

    it("WHEN a provider has no list THEN a request from any address is routed as before", async () => {
        await run(direct("open", "evt_open", "192.0.2.1", "last"));
        expect(await laneIds("open-default")).to.deep.equal(["evt_open"]);
    });
});
