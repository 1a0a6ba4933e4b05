/**
 * A kafkajs client for a `KafkaRuntime`: brokers, TLS, and SASL (MSK IAM
 * through OAUTHBEARER with a token from AWS's signer, see msk-iam.ts, or SCRAM with the username and
 * password read from Secrets Manager when the client is built, never from code
 * or environment). kafkajs' own log lines go to the handler logger (warnings
 * and errors only).
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Kafka, KafkaConfig, logLevel, LogEntry, RetryOptions, SASLOptions } from "kafkajs";
import { isNamedError, namedError } from "../../model/errors";
import type { KafkaRuntime } from "../../model/runtime-config";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { KafkaDefaults } from "./constants";
import { AwsCredentials, mskIamTokenProvider } from "./msk-iam";

/** Something that yields AWS credentials (an SDK v3 client's `config.credentials`). */
export type CredentialsProvider = () => Promise<AwsCredentials>;

export interface KafkaClientDeps {
    /** Reads the SCRAM secret; its `config.credentials` signs MSK IAM tokens unless `credentials` is given. */
    readonly secrets?: SecretsManagerClient;
    /** @default the secrets client's credential chain */
    readonly credentials?: CredentialsProvider;
    readonly logger?: HandlerLogger;
    /** @default "webhook-pipeline" */
    readonly clientId?: string;
    /** kafkajs retry settings for connections and requests. @default kafkajs' (5 retries) */
    readonly retry?: RetryOptions;
    /** @default KafkaDefaults.connectionTimeoutMs */
    readonly connectionTimeoutMs?: number;
    /** @default KafkaDefaults.requestTimeoutMs */
    readonly requestTimeoutMs?: number;
}

/**
 * A SCRAM secret is `{"username": "...", "password": "..."}`; anything else is a configuration error.
 * A plain Error told apart by name, not a class: the router's uploaded code throws it, and a class does
 * not survive function serialization (model/errors.ts).
 */
export interface KafkaCredentialsError extends Error {
    readonly name: "KafkaCredentialsError";
}
export const kafkaCredentialsError = (message: string): KafkaCredentialsError => namedError("KafkaCredentialsError", message);
export const isKafkaCredentialsError = (err: unknown): err is KafkaCredentialsError => isNamedError(err, "KafkaCredentialsError");

export function parseScramSecret(text: string | undefined, secretId: string): { username: string; password: string } {
    let value: unknown;
    try {
        value = JSON.parse(text ?? "");
    } catch {
        throw kafkaCredentialsError(`secret ${secretId} must hold JSON {"username": "...", "password": "..."}`);
    }
    const { username, password } = (value ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== "string" || !username || typeof password !== "string" || !password) {
        throw kafkaCredentialsError(`secret ${secretId} must hold JSON {"username": "...", "password": "..."} with both set`);
    }
    return { username, password };
}

function credentialsFrom(deps: KafkaClientDeps): CredentialsProvider {
    if (deps.credentials) return deps.credentials;
    const client = deps.secrets ?? new SecretsManagerClient({});
    return async () => {
        const provider = client.config.credentials as unknown as () => Promise<AwsCredentials>;
        return provider();
    };
}

async function saslOf(runtime: KafkaRuntime, deps: KafkaClientDeps): Promise<SASLOptions | undefined> {
    const sasl = runtime.sasl;
    if (!sasl) return undefined;
    if (sasl.mechanism === "aws-iam") {
        const region = sasl.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "";
        return {
            mechanism: "oauthbearer",
            // Called for every new connection: a fresh token each time (they live 15 minutes at most).
            oauthBearerProvider: mskIamTokenProvider(region, credentialsFrom(deps)),
        };
    }
    const client = deps.secrets ?? new SecretsManagerClient({});
    const out = await client.send(new GetSecretValueCommand({ SecretId: sasl.secretId }));
    const { username, password } = parseScramSecret(out.SecretString, sasl.secretId);
    return { mechanism: sasl.mechanism, username, password };
}

/**
 * Warnings that say what we chose on purpose: producer retries are bounded so a
 * broker outage fails the batch (SQS redelivers it) instead of hanging until
 * the function's timeout; the idempotency store absorbs a duplicate that causes.
 */
const expectedWarnings: readonly string[] = ["Limiting retries for the idempotent producer may invalidate EoS guarantees"];

/** kafkajs log entries -> the handler logger; kafkajs is chatty below WARN. */
function logCreator(logger: HandlerLogger) {
    return () =>
        ({ level, log }: LogEntry) => {
            const { message, ...extra } = log;
            if (expectedWarnings.includes(message)) return;
            if (level === logLevel.ERROR) logger.error(`kafkajs: ${message}`, extra);
            else if (level === logLevel.WARN) logger.warn(`kafkajs: ${message}`, extra);
        };
}

/** The kafkajs configuration for a runtime (reads the SCRAM secret when there is one). */
export async function kafkaConfigOf(runtime: KafkaRuntime, deps: KafkaClientDeps = {}): Promise<KafkaConfig> {
    if (runtime.brokers.length === 0) throw kafkaCredentialsError("no Kafka brokers configured (webhook-pipeline:kafka.brokers)");
    return {
        clientId: deps.clientId ?? "webhook-pipeline",
        brokers: [...runtime.brokers],
        ssl: runtime.ssl,
        sasl: await saslOf(runtime, deps),
        connectionTimeout: deps.connectionTimeoutMs ?? KafkaDefaults.connectionTimeoutMs,
        requestTimeout: deps.requestTimeoutMs ?? KafkaDefaults.requestTimeoutMs,
        retry: deps.retry,
        logLevel: logLevel.WARN,
        logCreator: logCreator(deps.logger ?? silentLogger),
    };
}

export async function createKafkaClient(runtime: KafkaRuntime, deps: KafkaClientDeps = {}): Promise<Kafka> {
    return new Kafka(await kafkaConfigOf(runtime, deps));
}
