/**
 * Twilio signs the URL it calls. Behind a custom domain the ingress function rebuilds that URL from the
 * event's `requestContext.domainName`, which API Gateway sets to the host the request used: the custom
 * name on the custom domain, the execute-api name on the generated URL. So both URLs work during a move,
 * each verified against the host it was sent to, and a signature made for the other host does not verify.
 */
import { expect } from "chai";
import { randomUUID } from "crypto";
import { createIngress, HttpRequestEvent } from "../../handlers/ingress/ingress";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { getPlugin } from "../../providers";
import { createRuntime, inboundRecords, readArchive, take } from "../support/runtime";

const custom = "hooks.example.com";
const generated = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

describe("runtime: Twilio behind a custom domain (moto)", function () {
    this.timeout(60_000);
    const twilio = getPlugin("twilio");

    it("GIVEN requests on the custom host and the generated host WHEN each is signed over the URL it was sent to THEN both are routed; signed over the other host THEN quarantined as bad-signature", async () => {
        const rt = await createRuntime({ providers: [{ name: "twilio", plugin: "twilio" }] }, { suite: "cdom" });
        const model = rt.provider("twilio");
        const ingress = createIngress({
            sqs: rt.clients.sqs,
            s3: rt.clients.s3,
            secrets: cachedSecretReader(rt.clients.secrets),
            config: { provider: rt.resources.router.providers.twilio, headers: model.headers, signsUrl: model.signsUrl, catchAllQueueUrl: rt.resources.catchAll.queue.url, bucket: rt.resources.bucket, sealSecretId: rt.resources.sealSecretId },
        });
        let n = 0;
        const request = (host: string, signedHost: string): HttpRequestEvent => {
            const body = twilio.sample(Date.now() + n++);
            const signedUrl = `https://${signedHost}/webhooks/twilio`;
            return {
                headers: { "content-type": "application/x-www-form-urlencoded", ...Object.fromEntries(Object.entries(twilio.sign(body, rt.secrets.twilio[0], Date.now(), signedUrl)).map(([k, v]) => [k.toLowerCase(), v])) },
                body: body.toString("utf8"),
                isBase64Encoded: false,
                rawPath: "/webhooks/twilio",
                requestContext: { requestId: `api-${randomUUID()}`, timeEpoch: Date.now(), domainName: host, http: { sourceIp: "198.51.100.9" } },
            };
        };
        const onCustom = request(custom, custom);
        const onGenerated = request(generated, generated);
        const customSignedForGenerated = request(custom, generated);
        const generatedSignedForCustom = request(generated, custom);

        for (const r of [onCustom, onGenerated, customSignedForGenerated, generatedSignedForCustom]) expect((await ingress(r)).statusCode).to.equal(200);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const routed = await route(inboundRecords(await take(rt.clients.sqs, rt.resources.catchAll.queue.url)));

        expect(routed.report).to.deep.include({ received: 4, accepted: 2, routed: { "twilio-default": 2 }, quarantined: { twilio: { "bad-signature": 2 } } });
        const quarantined = (await readArchive(rt.clients.s3, rt.resources.bucket, "quarantine/")).map((l) => l.requestId).sort();
        expect(quarantined).to.deep.equal([customSignedForGenerated.requestContext.requestId, generatedSignedForCustom.requestContext.requestId].sort());
    });
});
