/**
 * An "emulated deploy": while the Pulumi program runs under the mock runtime,
 * create the data-plane resources it declares (queues with their redrive
 * policies, the bucket, secrets and their values, the idempotency table) in a
 * real AWS emulator, and hand the program back their real names, URLs and
 * ARNs. The serialized functions then run against exactly what the program
 * described. Resource types without a data plane (IAM, alarms, API routes)
 * keep the plain mock outputs.
 *
 * With `lambda: true` the roles, functions and SQS event source mappings are created too (ops pause and
 * resume flip the real mappings). moto invokes an enabled mapping's function when a message is sent to its
 * queue, through docker, which these machines lack: a test with mappings sends nothing to their queues.
 * moto has no Kafka event source: a Kafka mapping keeps the mock's outputs.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "crypto";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { plain, Provisioner } from "../../scripts/pulumi-mocks";

/** The smallest zip file (an empty archive's end record): moto stores a function's code without running it. */
const EmptyZip = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

export function motoProvisioner(endpoint = process.env.AWS_ENDPOINT_URL, options: { lambda?: boolean } = {}): Provisioner {
    if (!endpoint) throw new Error("motoProvisioner needs AWS_ENDPOINT_URL (run through `npm test`, which starts moto)");
    const sqs = new SQSClient({ endpoint });
    const s3 = new S3Client({ endpoint, forcePathStyle: true });
    const secrets = new SecretsManagerClient({ endpoint });
    const dynamo = new DynamoDBClient({ endpoint });
    const suffix = () => randomBytes(4).toString("hex");
    const iam = new IAMClient({ endpoint });
    const lambda = new LambdaClient({ endpoint });

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
            case "aws:iam/role:Role": {
                if (!options.lambda) return undefined;
                const roleName = inputs.name ?? `${name.slice(0, 50)}-${suffix()}`;
                const { Role } = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: inputs.assumeRolePolicy }));
                return { name: roleName, arn: Role!.Arn!, id: roleName };
            }
            case "aws:lambda/function:Function": {
                if (!options.lambda) return undefined;
                const functionName = inputs.name ?? `${name.slice(0, 55)}-${suffix()}`;
                const out = await lambda.send(
                    new CreateFunctionCommand({ FunctionName: functionName, Role: inputs.role, Runtime: inputs.runtime, Handler: inputs.handler, Code: { ZipFile: EmptyZip }, Timeout: inputs.timeout, MemorySize: inputs.memorySize }),
                );
                return { name: functionName, arn: out.FunctionArn!, id: functionName };
            }
            case "aws:lambda/eventSourceMapping:EventSourceMapping": {
                if (!options.lambda || !String(inputs.eventSourceArn ?? "").startsWith("arn:aws:sqs:")) return undefined;
                const out = await lambda.send(
                    new CreateEventSourceMappingCommand({ EventSourceArn: inputs.eventSourceArn, FunctionName: inputs.functionName, BatchSize: inputs.batchSize, Enabled: inputs.enabled }),
                );
                return { uuid: out.UUID!, id: out.UUID!, functionArn: out.FunctionArn! };
            }
            default:
                return undefined;
        }
    };
}
