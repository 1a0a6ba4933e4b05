/**
 * `npm start` with destination lanes: the stack file holds the destination
 * secrets as ciphertext it cannot read, so they come from
 * WEBHOOK_DESTINATION_SECRET_<PROVIDER>[_<LANE>] and
 * WEBHOOK_DESTINATION_AUTH_..., or are generated, printed and kept with the
 * other local secrets. Real HTTP in (the local ingress) and out (a node http
 * server as the destination), moto underneath.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Webhook } from "standardwebhooks";
import { startLocalPipeline, LocalPipeline } from "../../local/pipeline";
import { createLocalLogger, LogLevel } from "../../local/log";
import { destinationSecretEnvName, secretsFile } from "../../local/stack";
import { DeliveryHeader } from "../../model/delivery";
import { getPlugin } from "../../providers";
import { services } from "../support/services";
import { startDestination, TestDestination } from "../support/destination";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("local pipeline (npm start): destination lanes, secrets from the environment or generated", function () {
    this.timeout(90_000);
    let dest: TestDestination;
    let pipeline: LocalPipeline;
    let dir: string;
    const providerSecret = "local-stripe-secret";
    const signingSecret = `whsec_${Buffer.from("local-destination-signing-key").toString("base64")}`;

    before(async () => {
        dest = await startDestination();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-dest-"));
        const stack = path.join(dir, "Pulumi.dest.yaml");
        fs.writeFileSync(
            stack,
            [
                "config:",
                "  webhook-pipeline:providers:",
                "    - name: stripe",
                "      plugin: stripe",
                "      concurrency: 2",
                "      destination:",
                `        url: ${dest.url}`,
                "        headers: { X-Team: payments }",
                "        auth:",
                "          header: Authorization",
                "          secret:",
                "            secure: v1:AAAAAAAAAAAAAAAA:ciphertext-the-local-pipeline-cannot-read",
                "        signingSecret:",
                "          secure: v1:AAAAAAAAAAAAAAAA:more-ciphertext",
                "      routes:",
                '        "charge.*": bulk',
                "      lanes:",
                "        bulk:",
                "          destination:",
                `            url: ${dest.url.replace("/hooks", "/bulk")}`,
                "            signingSecret:",
                "              secure: v1:AAAAAAAAAAAAAAAA:even-more-ciphertext",
                "",
            ].join("\n"),
        );
        pipeline = await startLocalPipeline({
            stack,
            endpoint: services.awsEndpoint,
            port: 0,
            prefix: `ldst${Date.now().toString(36)}`,
            writeState: false,
            retryDelaySeconds: 1,
            logger: createLocalLogger(LogLevel.SILENT),
            env: {
                ...process.env,
                WEBHOOK_PIPELINE_LOCAL_DIR: dir,
                WEBHOOK_SECRET_STRIPE: providerSecret,
                [destinationSecretEnvName("signing", "stripe")]: signingSecret,
                [destinationSecretEnvName("auth", "stripe")]: "Bearer local-token",
            },
        });
    });
    after(async () => {
        await pipeline?.stop();
        await dest?.close();
    });

    async function post(body: object) {
        const bytes = Buffer.from(JSON.stringify(body));
        const headers = getPlugin("stripe").sign(bytes, providerSecret, Date.now(), "");
        const res = await fetch(`${pipeline.url}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: bytes });
        expect(res.status).to.equal(200);
        return bytes;
    }

    async function arrived(eventId: string) {
        for (let i = 0; i < 200; i++) {
            const r = dest.requests.find((x) => x.headers[DeliveryHeader.EventId] === eventId);
            if (r) return r;
            await sleep(100);
        }
        throw new Error(`${eventId} never reached the destination`);
    }

    it("THEN the env names are the documented ones, and the bulk lane's signing secret was generated, kept in secrets.json and listed for printing", () => {
        expect(destinationSecretEnvName("signing", "stripe")).to.equal("WEBHOOK_DESTINATION_SECRET_STRIPE");
        expect(destinationSecretEnvName("auth", "my-shop", "bulk-eu")).to.equal("WEBHOOK_DESTINATION_AUTH_MY_SHOP_BULK_EU");
        expect(pipeline.stack.generatedDestination.map((g) => g.env)).to.deep.equal(["WEBHOOK_DESTINATION_SECRET_STRIPE_BULK"]);
        const generated = pipeline.stack.generatedDestination[0].value;
        expect(generated).to.match(/^whsec_/);
        const kept = JSON.parse(fs.readFileSync(secretsFile({ WEBHOOK_PIPELINE_LOCAL_DIR: dir }), "utf8"));
        expect(kept["destination-signing:stripe-bulk"]).to.deep.equal([generated]);
        expect(Object.keys(kept)).not.to.include("destination-signing:stripe-default");
    });

    it("GIVEN a signed webhook to npm start WHEN its lane delivers THEN the destination gets the exact bytes, the original Content-Type, the auth header from the environment and a signature that verifies with the environment's secret", async () => {
        const body = await post({ id: "evt_local_dest", type: "invoice.paid", data: { amount: 1 } });
        const got = await arrived("evt_local_dest");
        expect(got.path).to.equal("/hooks");
        expect(got.body.equals(body)).to.equal(true);
        expect(got.headers["content-type"]).to.equal("application/json");
        expect(got.headers.authorization).to.equal("Bearer local-token");
        expect(got.headers["x-team"]).to.equal("payments");
        expect(new Webhook(signingSecret).verify(got.body.toString("utf8"), got.headers)).to.deep.include({ id: "evt_local_dest" });
    });

    it("GIVEN an event routed to the bulk lane THEN its own destination gets it, signed with the generated secret; /_status counts the deliveries per lane", async () => {
        await post({ id: "evt_local_bulk", type: "charge.succeeded" });
        const got = await arrived("evt_local_bulk");
        expect(got.path).to.equal("/bulk");
        expect(got.headers.authorization).to.equal(undefined);
        expect(new Webhook(pipeline.stack.generatedDestination[0].value).verify(got.body.toString("utf8"), got.headers)).to.deep.include({ id: "evt_local_bulk" });
        const status = await pipeline.status();
        expect(status.providers.stripe.deliveries).to.deep.equal({
            "stripe-default": { delivered: 1, retryable: 0, permanent: 0, statuses: { "200": 1 } },
            "stripe-bulk": { delivered: 1, retryable: 0, permanent: 0, statuses: { "200": 1 } },
        });
    });
});
