/**
 * context.secrets against moto's Secrets Manager: values read through
 * Powertools Parameters, cached for maxAge, a rotation picked up once the
 * cache expires (or at once with forceFetch), and named errors for an
 * undeclared name or a secret that cannot be read.
 */
import { expect } from "chai";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { randomUUID } from "crypto";
import { handlerSecrets } from "../../handlers/shared/handler-secrets";
import { isSecretUnavailableError, isUnknownHandlerSecretError } from "../../handlers/shared/errors";

describe("handler secrets (context.secrets) against moto", function () {
    this.timeout(30_000);
    const client = new SecretsManagerClient({});
    let arn: string;

    before(async () => {
        const out = await client.send(new CreateSecretCommand({ Name: `handler-secrets-test/${randomUUID()}`, SecretString: "v1" }));
        arn = out.ARN!;
    });

    it("GIVEN a cached secret WHEN it is rotated THEN the old value is served until maxAge, then the new one; forceFetch reads at once", async () => {
        // GIVEN a reader caching for 1 s, and a first read
        let clients = 0;
        const secrets = handlerSecrets({ DB_PASSWORD: arn, CONFIG: arn }, () => (clients++, client), 1);
        expect(await secrets.get("DB_PASSWORD")).to.equal("v1");
        // WHEN the secret is rotated
        await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "v2" }));
        // THEN the cache serves v1 for now, forceFetch sees v2, and after maxAge a plain read does too
        expect(await secrets.get("DB_PASSWORD")).to.equal("v1");
        await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: '{"password":"v3"}' }));
        expect(await secrets.getJson("DB_PASSWORD", { forceFetch: true })).to.deep.equal({ password: "v3" });
        await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "v4" }));
        await new Promise((r) => setTimeout(r, 2100));
        expect(await secrets.get("DB_PASSWORD")).to.equal("v4");
        // The client was created once, on the first read.
        expect(clients).to.equal(1);
        expect(secrets.names).to.deep.equal(["DB_PASSWORD", "CONFIG"]);
    });

    it("GIVEN an undeclared name or an unreadable secret THEN named errors say which", async () => {
        const secrets = handlerSecrets({ GONE: "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbC123" }, () => client);
        const undeclared = await secrets.get("NOPE").catch((err: Error) => err);
        expect(isUnknownHandlerSecretError(undeclared), String(undeclared)).to.equal(true);
        expect((undeclared as Error).message).to.equal('secret "NOPE" is not declared for this lane (declared: GONE; add it under secrets: in the provider\'s or lane\'s config)');
        const unreadable = await secrets.get("GONE").catch((err: Error) => err);
        expect(isSecretUnavailableError(unreadable), String(unreadable)).to.equal(true);
        expect((unreadable as Error).message).to.match(/^reading handler secret "GONE" \(arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbC123\) failed: ResourceNotFoundException/);
    });
});
