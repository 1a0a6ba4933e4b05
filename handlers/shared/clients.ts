/**
 * AWS clients for the handlers. On Lambda they use the function's role and
 * region; elsewhere (the local pipeline, tests) the SDK's standard settings
 * apply, `AWS_ENDPOINT_URL` included. Against an emulator S3 needs path-style
 * addressing, which is turned on whenever an endpoint override is set.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface AwsClients {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretsManagerClient;
    readonly dynamo: DynamoDBClient;
}

/** Clients for `endpoint` (an emulator) or, when undefined, the SDK's defaults. */
export function awsClients(endpoint: string | undefined = process.env.AWS_ENDPOINT_URL): AwsClients {
    const common = endpoint ? { endpoint } : {};
    return {
        sqs: new SQSClient(common),
        s3: new S3Client({ ...common, forcePathStyle: Boolean(endpoint) }),
        secrets: new SecretsManagerClient(common),
        dynamo: new DynamoDBClient(common),
    };
}
