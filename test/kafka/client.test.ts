/**
 * How the Kafka client authenticates: MSK IAM tokens from the SDK's credential
 * chain, SCRAM credentials from Secrets Manager (moto), never from config.
 */
import { expect } from "chai";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { isKafkaCredentialsError, kafkaConfigOf } from "../../handlers/kafka/client";
import { unique } from "./support/kafka";

describe("Kafka client settings", () => {
    const secrets = () => new SecretsManagerClient({});

    it("GIVEN MSK IAM THEN kafkajs gets OAUTHBEARER with a token signed for the region with the SDK's credentials, over TLS", async () => {
        // Prepare: the runner's environment holds AWS_ACCESS_KEY_ID=test and AWS_REGION=us-east-1
        const config = await kafkaConfigOf({ brokers: ["boot-abc.kafka-serverless.us-east-1.amazonaws.com:9098"], ssl: true, sasl: { mechanism: "aws-iam" }, replicationFactor: 3 }, { secrets: secrets() });

        // Act
        const sasl = config.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
        const url = new URL(Buffer.from((await sasl.oauthBearerProvider()).value, "base64url").toString("utf8"));

        // Assess
        expect(config.ssl).to.equal(true);
        expect(sasl.mechanism).to.equal("oauthbearer");
        expect(url.host).to.equal("kafka.us-east-1.amazonaws.com");
        expect(url.searchParams.get("Action")).to.equal("kafka-cluster:Connect");
        expect(url.searchParams.get("X-Amz-Credential")).to.match(/^test\/\d{8}\/us-east-1\/kafka-cluster\/aws4_request$/);
    });

    it("GIVEN SCRAM THEN the username and password come from the Secrets Manager secret", async () => {
        const { ARN } = await secrets().send(new CreateSecretCommand({ Name: unique("kafka-credentials"), SecretString: JSON.stringify({ username: "pipeline", password: "s3cret" }) }));
        const config = await kafkaConfigOf({ brokers: ["k:9096"], ssl: true, sasl: { mechanism: "scram-sha-512", secretId: ARN! }, replicationFactor: -1 }, { secrets: secrets() });
        expect(config.sasl).to.deep.equal({ mechanism: "scram-sha-512", username: "pipeline", password: "s3cret" });
    });

    it("GIVEN a SCRAM secret without a password THEN it says what the secret must hold", async () => {
        const { ARN } = await secrets().send(new CreateSecretCommand({ Name: unique("kafka-credentials"), SecretString: JSON.stringify({ username: "pipeline" }) }));
        let error: unknown;
        try {
            await kafkaConfigOf({ brokers: ["k:9096"], ssl: true, sasl: { mechanism: "scram-sha-256", secretId: ARN! }, replicationFactor: -1 }, { secrets: secrets() });
        } catch (err) {
            error = err;
        }
        expect(isKafkaCredentialsError(error), String(error)).to.equal(true);
        expect((error as Error).name).to.equal("KafkaCredentialsError");
        expect((error as Error).message).to.equal(`secret ${ARN} must hold JSON {"username": "...", "password": "..."} with both set`);
    });
});
