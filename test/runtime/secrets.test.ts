/**
 * Signing secrets against moto's Secrets Manager: rotation (any listed
 * secret verifies), the per-container cache (no GetSecretValue per webhook),
 * a re-read when a request matches no cached secret (so a rotation or a newly
 * set secret is picked up quickly, at a bounded rate), providers without a
 * secret (quarantined as no-secret) and an unreachable Secrets Manager
 * (retried, never quarantined).
 */
import { expect } from "chai";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader, SecretCache } from "../../handlers/shared/secrets";
import { localClients } from "../../local/resources";
import type { RouterRuntimeConfig } from "../../model/runtime-config";
import { services } from "../support/services";
import { CallCounts, countCalls, createRuntime, recordsFor, RuntimeFixture, signedWebhook } from "../support/runtime";

describe("runtime: signing secrets, rotation and the secret cache (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let secrets: SecretsManagerClient;
    let calls: CallCounts;
    let clock: number;
    let config: RouterRuntimeConfig;

    const github = (secret: string, id: string) => signedWebhook(rt.provider("github"), `{"action":"created","n":"${id}"}`, secret, { headers: { "X-GitHub-Delivery": id } });
    const stripe = (secret: string, id: string) => signedWebhook(rt.provider("stripe"), `{"id":"${id}","type":"invoice.paid"}`, secret);
    /** A router whose secret reader runs on the test's clock and whose Secrets Manager calls are counted. */
    const newRouter = () => createRouter({ config, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(secrets, SecretCache.ttlMs, () => clock) });
    const reads = () => calls.GetSecretValueCommand ?? 0;

    before(async () => {
        rt = await createRuntime(
            {
                providers: [
                    { name: "github", plugin: "github" },
                    { name: "stripe", plugin: "stripe" },
                    { name: "empty", plugin: "github" },
                    { name: "unset", plugin: "github" },
                ],
            },
            { suite: "secr", secrets: { github: ["gh-old", "gh-new"], stripe: ["whsec_stripe"], empty: [], unset: ["replaced-below"] } },
        );
        // `unset`: a secret created without any value, as the component does when config has none
        const unset = `${rt.resources.bucket}-unset-secret`;
        const { ARN } = await rt.clients.secrets.send(new CreateSecretCommand({ Name: unset }));
        config = { ...rt.resources.router, providers: { ...rt.resources.router.providers, unset: { ...rt.resources.router.providers.unset, secretId: ARN! } } };
    });

    beforeEach(() => {
        secrets = localClients(services.awsEndpoint).secrets;
        calls = countCalls(secrets);
        clock = Date.now();
    });

    it("GIVEN a provider with two secrets (rotation) WHEN webhooks are signed with either, or with neither THEN both verify and the third is quarantined as bad-signature", async () => {
        const result = await newRouter()(recordsFor([github("gh-old", "d-old"), github("gh-new", "d-new"), github("gh-other", "d-other")]));
        expect(result.failures).to.deep.equal([]);
        expect(result.report).to.deep.include({ accepted: 2, quarantined: { github: { "bad-signature": 1 } } });
    });

    it("GIVEN 5 batches of 20 valid webhooks for 2 providers WHEN routed within the TTL THEN Secrets Manager is read once per provider; after the TTL once more each", async () => {
        // Act
        const route = newRouter();
        for (let batch = 0; batch < 5; batch++) {
            const webhooks = Array.from({ length: 10 }, (_, i) => [github("gh-new", `c-${batch}-${i}`), stripe("whsec_stripe", `evt_c_${batch}_${i}`)]).flat();
            expect((await route(recordsFor(webhooks))).report.accepted).to.equal(20);
            clock += 10_000;
        }
        const withinTtl = reads();
        clock += SecretCache.ttlMs;
        await route(recordsFor([github("gh-new", "c-late"), stripe("whsec_stripe", "evt_c_late")]));

        // Assess
        expect([withinTtl, reads()]).to.deep.equal([2, 4]);
    });

    it("GIVEN a cached secret and a rotation to a new one WHEN a webhook signed with the new secret arrives THEN it is re-read (at most once per refresh period) and verifies; forged requests cost no further reads", async () => {
        // Prepare: the router caches github's secrets, then the secret is rotated in Secrets Manager
        const route = newRouter();
        expect((await route(recordsFor([github("gh-new", "r-1")]))).report.accepted).to.equal(1);
        await rt.clients.secrets.send(new PutSecretValueCommand({ SecretId: rt.resources.secretIds.github, SecretString: JSON.stringify({ secrets: ["gh-newer", "gh-new"] }) }));

        // Act: within the refresh period the cached value stands; after it, the new secret is read
        clock += 5_000;
        const early = await route(recordsFor([github("gh-newer", "r-2")]));
        clock += SecretCache.refreshAfterMs;
        const later = await route(recordsFor([github("gh-newer", "r-3")]));
        const readsAfterRotation = reads();
        clock += 1_000;
        const forged = await route(recordsFor(Array.from({ length: 10 }, (_, i) => github("forged", `r-f-${i}`))));

        // Assess
        expect(early.report.quarantined).to.deep.equal({ github: { "bad-signature": 1 } });
        expect(later.report).to.deep.include({ accepted: 1, quarantined: {} });
        expect(forged.report.quarantined).to.deep.equal({ github: { "bad-signature": 10 } });
        expect([readsAfterRotation, reads()]).to.deep.equal([2, 2]);
        await rt.clients.secrets.send(new PutSecretValueCommand({ SecretId: rt.resources.secretIds.github, SecretString: JSON.stringify({ secrets: ["gh-old", "gh-new"] }) }));
    });

    it("GIVEN providers whose secret has no value, or an empty list WHEN signed webhooks arrive THEN they are quarantined as no-secret (not retried); once a value is set it is picked up after the refresh period", async () => {
        // Act
        const route = newRouter();
        const none = await route(recordsFor([
            signedWebhook(rt.provider("unset"), `{"n":1}`, "anything", { headers: { "X-GitHub-Delivery": "u-1" } }),
            signedWebhook(rt.provider("empty"), `{"n":2}`, "anything", { headers: { "X-GitHub-Delivery": "e-1" } }),
        ]));
        await rt.clients.secrets.send(new PutSecretValueCommand({ SecretId: config.providers.unset.secretId, SecretString: JSON.stringify({ secrets: ["now-set"] }) }));
        clock += SecretCache.refreshAfterMs + 1;
        const set = await route(recordsFor([signedWebhook(rt.provider("unset"), `{"n":3}`, "now-set", { headers: { "X-GitHub-Delivery": "u-2" } })]));

        // Assess
        expect(none.failures).to.deep.equal([]);
        expect(none.report).to.deep.include({ accepted: 0, quarantined: { unset: { "no-secret": 1 }, empty: { "no-secret": 1 } }, failed: 0 });
        expect(set.report).to.deep.include({ accepted: 1, quarantined: {}, failed: 0 });
    });

    it("GIVEN Secrets Manager cannot be reached WHEN webhooks arrive THEN they are batch item failures (retried), not quarantined", async () => {
        // Prepare: a real client to a closed port (no fake): the read fails the way a network error does
        const unreachable = new SecretsManagerClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" }, maxAttempts: 1 });
        const route = createRouter({ config, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(unreachable) });
        const records = recordsFor([github("gh-new", "x-1"), stripe("whsec_stripe", "evt_x_2")]);

        // Act
        const result = await route(records);

        // Assess
        expect([...result.failures].sort()).to.deep.equal(records.map((r) => r.messageId).sort());
        expect(result.report).to.deep.include({ accepted: 0, quarantined: {}, failed: 2, calls: { archive: 0, send: 0, claims: 0 } });
    });
});
