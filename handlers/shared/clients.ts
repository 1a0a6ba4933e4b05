/**
 * AWS clients for the handlers. On Lambda they use the function's role and
 * region; elsewhere (the local pipeline, tests) the SDK's standard settings
 * apply, `AWS_ENDPOINT_URL` included. Against an emulator S3 needs path-style
 * addressing, which is turned on whenever an endpoint override is set.
 *
 * Each client, and its package, is created on first use: a function loads only
 * the SDK clients it calls (@aws-sdk/client-s3 alone is ~45 ms of a cold start,
 * and the worker needs it only for claim-checked bodies).
 *
 * DynamoDB (the idempotency table) retries through a short outage (retry.ts):
 * a failed completion write after a handler ran would run the handler again.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { patientRetryStrategy } from "./retry";

export interface AwsClients {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretsManagerClient;
    readonly dynamo: DynamoDBClient;
}

/**
 * @aws-sdk/client-s3, loaded on first call: for code that needs S3 only now
 * and then (claim-checked bodies), so a cold start does not pay for it.
 */
export function s3Package(): typeof import("@aws-sdk/client-s3") {
    return require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
}

/** Clients for `endpoint` (an emulator) or, when undefined, the SDK's defaults. */
export function awsClients(endpoint: string | undefined = process.env.AWS_ENDPOINT_URL): AwsClients {
    const common = endpoint ? { endpoint } : {};
    let sqs: SQSClient | undefined;
    let s3: S3Client | undefined;
    let secrets: SecretsManagerClient | undefined;
    let dynamo: DynamoDBClient | undefined;
    return {
        get sqs() {
            return (sqs ??= new (require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs")).SQSClient(common));
        },
        get s3() {
            return (s3 ??= new (s3Package().S3Client)({ ...common, forcePathStyle: Boolean(endpoint) }));
        },
        get secrets() {
            return (secrets ??= new (require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(common));
        },
        get dynamo() {
            return (dynamo ??= new (require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb")).DynamoDBClient({ ...common, retryStrategy: patientRetryStrategy() }));
        },
    };
}
