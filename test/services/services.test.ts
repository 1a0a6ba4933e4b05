/**
 * The local services are real: the AWS SDK talks to moto over HTTP, kafkajs
 * talks to an Apache Kafka broker over its wire protocol.
 */
import { expect } from "chai";
import { randomUUID } from "crypto";
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, waitUntilTableExists } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import { kafkaAvailable, resetMoto, services } from "../support/services";

describe("local services", function () {
    describe("moto (AWS emulator)", function () {
        before(async () => {
            await resetMoto();
        });

        it("listens on loopback and is what the AWS SDK is pointed at", function () {
            expect(services.awsEndpoint).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
            expect(process.env.AWS_ENDPOINT_URL).to.equal(services.awsEndpoint);
        });

        it("SQS: create a queue, send, receive and delete a message", async () => {
            const sqs = new SQSClient({}); // endpoint, region and credentials come from the environment
            const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `svc-${randomUUID()}` }));
            expect(QueueUrl).to.be.a("string");
            const body = JSON.stringify({ hello: "sqs", at: Date.now() });
            const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes: { provider: { DataType: "String", StringValue: "github" } } }));
            expect(sent.MessageId).to.be.a("string");
            const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }));
            expect(Messages).to.have.length(1);
            expect(Messages[0].Body).to.equal(body);
            expect(Messages[0].MessageAttributes?.provider?.StringValue).to.equal("github");
            await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
            const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
            expect(again.Messages ?? []).to.have.length(0);
        });

        it("S3: put and get an object (path-style)", async () => {
            const s3 = new S3Client({ endpoint: services.awsEndpoint, forcePathStyle: true });
            const Bucket = `svc-${randomUUID()}`;
            await s3.send(new CreateBucketCommand({ Bucket }));
            const payload = Buffer.from([0, 1, 2, 255, 254]).toString("base64") + " raw bytes";
            await s3.send(new PutObjectCommand({ Bucket, Key: "raw/2024/01/01/delivery.json", Body: payload, ContentType: "application/json" }));
            const got = await s3.send(new GetObjectCommand({ Bucket, Key: "raw/2024/01/01/delivery.json" }));
            expect(await got.Body!.transformToString()).to.equal(payload);
            expect(got.ContentType).to.equal("application/json");
        });

        it("Secrets Manager: create a secret and read it back", async () => {
            const sm = new SecretsManagerClient({});
            const Name = `svc/${randomUUID()}`;
            const created = await sm.send(new CreateSecretCommand({ Name, SecretString: "whsec_dGVzdA==" }));
            expect(created.ARN).to.match(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:/);
            const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: Name }));
            expect(SecretString).to.equal("whsec_dGVzdA==");
        });

        it("DynamoDB: put an item and get it back", async () => {
            const ddb = new DynamoDBClient({});
            const TableName = `svc-${randomUUID()}`;
            await ddb.send(
                new CreateTableCommand({
                    TableName,
                    BillingMode: "PAY_PER_REQUEST",
                    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
                    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
                }),
            );
            await waitUntilTableExists({ client: ddb, maxWaitTime: 20, minDelay: 1 }, { TableName });
            await ddb.send(new PutItemCommand({ TableName, Item: { id: { S: "evt_1" }, status: { S: "COMPLETED" }, expiry: { N: "1700000000" } }, ConditionExpression: "attribute_not_exists(id)" }));
            const { Item } = await ddb.send(new GetItemCommand({ TableName, Key: { id: { S: "evt_1" } }, ConsistentRead: true }));
            expect(Item).to.deep.equal({ id: { S: "evt_1" }, status: { S: "COMPLETED" }, expiry: { N: "1700000000" } });
            // A second put of the same key is refused: the emulator enforces conditions.
            let refused: unknown;
            try {
                await ddb.send(new PutItemCommand({ TableName, Item: { id: { S: "evt_1" } }, ConditionExpression: "attribute_not_exists(id)" }));
            } catch (err) {
                refused = err;
            }
            expect((refused as Error | undefined)?.name).to.equal("ConditionalCheckFailedException");
        });

        it("reset forgets every resource", async () => {
            const sqs = new SQSClient({});
            const QueueName = `svc-reset-${randomUUID()}`;
            await sqs.send(new CreateQueueCommand({ QueueName }));
            await resetMoto();
            let error: unknown;
            try {
                await sqs.send(new SendMessageCommand({ QueueUrl: `${services.awsEndpoint}/123456789012/${QueueName}`, MessageBody: "x" }));
            } catch (err) {
                error = err;
            }
            expect((error as Error | undefined)?.name).to.match(/NonExistentQueue|QueueDoesNotExist/);
        });
    });

    describe("Kafka broker", function () {
        before(function () {
            if (!kafkaAvailable()) this.skip(); // WEBHOOK_PIPELINE_SKIP_KAFKA=1
        });

        it("listens on loopback", function () {
            expect(services.kafkaBrokers).to.have.length(1);
            expect(services.kafkaBrokers[0]).to.match(/^127\.0\.0\.1:\d+$/);
        });

        it("creates a topic, produces and consumes a message", async function () {
            const kafka = new Kafka({ clientId: "services-test", brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
            const topic = `svc-${randomUUID()}`;
            const admin = kafka.admin();
            const producer = kafka.producer();
            const consumer = kafka.consumer({ groupId: `svc-${randomUUID()}`, maxWaitTimeInMs: 200 });
            try {
                await admin.connect();
                expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true })).to.equal(true);
                expect(await admin.listTopics()).to.include(topic);

                await producer.connect();
                const [meta] = await producer.send({
                    topic,
                    messages: [{ key: "order-42", value: JSON.stringify({ hello: "kafka" }), headers: { provider: "stripe" } }],
                });
                expect(meta.errorCode).to.equal(0);

                await consumer.connect();
                await consumer.subscribe({ topic, fromBeginning: true });
                const received = await new Promise<{ key: string; value: string; provider: string; partition: number }>((resolve, reject) => {
                    const timer = setTimeout(() => reject(new Error("no message consumed within 30 s")), 30_000);
                    consumer
                        .run({
                            eachMessage: async ({ message, partition }) => {
                                clearTimeout(timer);
                                resolve({ key: message.key!.toString(), value: message.value!.toString(), provider: String(message.headers?.provider), partition });
                            },
                        })
                        .catch(reject);
                });
                expect(received).to.deep.equal({ key: "order-42", value: JSON.stringify({ hello: "kafka" }), provider: "stripe", partition: meta.partition });

                const offsets = await admin.fetchTopicOffsets(topic);
                expect(offsets.reduce((n, p) => n + Number(p.high), 0)).to.equal(1);
            } finally {
                await consumer.disconnect().catch(() => undefined);
                await producer.disconnect().catch(() => undefined);
                await admin.disconnect().catch(() => undefined);
            }
        });
    });
});
