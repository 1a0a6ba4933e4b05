/**
 * An "emulated deploy": while the Pulumi program runs under the mock runtime,
 * create the data-plane resources it declares (queues with their redrive
 * policies, the bucket, secrets and their values, the idempotency table) in a
 * real AWS emulator, and hand the program back their real names, URLs and
 * ARNs. The serialized functions then run against exactly what the program
 * described. Resource types without a data plane (IAM, alarms, API routes)
 * keep the plain mock outputs.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "crypto";
import { plain, Provisioner } from "../../scripts/pulumi-mocks";

export function motoProvisioner(endpoint = process.env.AWS_ENDPOINT_URL): Provisioner {
    if (!endpoint) throw new Error("motoProvisioner needs AWS_ENDPOINT_URL (run through `npm test`, which starts moto)");
    const sqs = new SQSClient({ endpoint });
    const s3 = new S3Client({ endpoint, forcePathStyle: true });
    const secrets = new SecretsManagerClient({ endpoint });
    const dynamo = new DynamoDBClient({ endpoint });
    const suffix = () => randomBytes(4).toString("hex");

    return async (type, name, inputs) => {
        switch (type) {
            case "aws:sqs/queue:Queue": {
                const queueName = inputs.name ?? `${name}-${suffix()}`;
                const attributes: Record<string, string> = {};
                if (inputs.fifoQueue) attributes.FifoQueue = "true";
                if (inputs.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(inputs.visibilityTimeoutSeconds);
                if (inputs.messageRetentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(inputs.messageRetentionSeconds);
                if (inputs.maxMessageSize !== undefined) attributes.MaximumMessageSize = String(inputs.maxMessageSize);
                if (inputs.redrivePolicy) attributes.RedrivePolicy = inputs.redrivePolicy;
                const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
                const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
                return { name: queueName, url: QueueUrl!, arn: Attributes!.QueueArn! };
            }
            case "aws:s3/bucket:Bucket": {
                const bucket = (inputs.bucket ?? `${name}-${suffix()}`).toLowerCase();
                await s3.send(new CreateBucketCommand({ Bucket: bucket }));
                return { bucket, arn: `arn:aws:s3:::${bucket}` };
            }
            case "aws:secretsmanager/secret:Secret": {
                const secretName = inputs.name ?? `${name}-${suffix()}`;
                const { ARN } = await secrets.send(new CreateSecretCommand({ Name: secretName, Description: inputs.description }));
                return { name: secretName, arn: ARN! };
            }
            case "aws:secretsmanager/secretVersion:SecretVersion": {
                await secrets.send(new PutSecretValueCommand({ SecretId: inputs.secretId, SecretString: plain<string>(inputs.secretString) }));
                return {};
            }
            case "aws:dynamodb/table:Table": {
                const tableName = inputs.name ?? `${name}-${suffix()}`;
                const { TableDescription } = await dynamo.send(
                    new CreateTableCommand({
                        TableName: tableName,
                        BillingMode: "PAY_PER_REQUEST",
                        KeySchema: [{ AttributeName: inputs.hashKey, KeyType: "HASH" }],
                        AttributeDefinitions: (inputs.attributes as { name: string; type: "S" | "N" | "B" }[]).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
                    }),
                );
                return { name: tableName, arn: TableDescription!.TableArn! };
            }
            default:
                return undefined;
        }
    };
}
