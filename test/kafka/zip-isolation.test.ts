/**
 * What is in the Kafka lane's zips: the router (with kafkajs) and the Kafka
 * worker each run in a fresh Node process that can resolve only its zip's
 * own files and the packages we rely on the Lambda runtime for
 * (scripts/bundles.ts `isolateBundle`, as test/components/zip-isolation.test.ts
 * does for the SQS lanes). The program runs under the mock runtime with the
 * test broker as `mode: external` and its queues, bucket, secrets and table
 * in moto; the router publishes to the real broker, and the worker runs
 * Powertools idempotency's DynamoDB persistence on what it published.
 */
import { expect } from "chai";
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { SelfManagedKafkaEvent, SQSBatchResponse } from "aws-lambda";
import type { WebhookPipeline } from "../../components";
import { RuntimeProvidedPackages } from "../../components/functions";
import type { KafkaBatchResponse } from "../../handlers/kafka/lambda";
import { toLambdaEvent } from "../../local/sqs-event";
import { encodeEnvelope } from "../../model/envelope";
import { getPlugin } from "../../providers";
import { bundleOf, IsolatedBundle, isolateBundle } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { services } from "../support/services";
import { functionEnv, packagesLoaded } from "../support/zip";
import { readAll, requireKafka, unique } from "./support/kafka";

const secret = "kafka-zip-isolation-secret";
const hmac = { signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type", orderingKeyPath: "account.id" } as const;

describe("zip contents (Kafka lane): the router and the Kafka worker run alone in a fresh process with only their zip and what the runtime provides (mocks + moto + broker)", function () {
    this.timeout(300_000);
    const sqs = new SQSClient({});
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let name: string;
    const isolated: IsolatedBundle[] = [];

    before(async function () {
        requireKafka(this);
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        name = unique("kzi");
        pipeline = new WebhookPipeline(name, {
            providers: [{ name: "acme", plugin: "hmac", secret, ...hmac, lane: "kafka", concurrency: 2 }],
            kafka: { mode: "external", brokers: services.kafkaBrokers },
        });
        await valueOf(pipeline.queueUrls);
        await settled();
    });
    after(() => isolated.forEach((b) => b.dispose()));

    async function isolate(suffix: string): Promise<IsolatedBundle> {
        const resource = session.byType("aws:lambda/function:Function").find((f) => f.name === `${name}-${suffix}`)!;
        const bundle = isolateBundle(await bundleOf(resource), { env: functionEnv(resource), provided: RuntimeProvidedPackages });
        isolated.push(bundle);
        return bundle;
    }

    it("GIVEN a signed webhook in the catch-all queue WHEN the router's zip runs alone THEN it publishes to the lane topic; WHEN the Kafka worker's zip gets the record twice THEN both succeed on the zip's own SDK packages and the event is processed once", async () => {
        // GIVEN a signed webhook, as API Gateway would enqueue it
        const plugin = getPlugin("hmac", hmac);
        const now = Date.now();
        const body = Buffer.from(JSON.stringify({ id: `evt_kzi_${now}`, type: "order.created", account: { id: "acct_7" } }));
        const headers = Object.fromEntries(Object.entries(plugin.sign(body, secret, now, "")).map(([k, v]) => [k.toLowerCase(), v]));
        const queueUrls = await valueOf(pipeline.queueUrls);
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "acme", requestId: "r-kzi", receivedAt: now, sourceIp: "203.0.113.7", headers, body }, plugin.headers) }));
        let inbound: Message[] = [];
        for (let i = 0; i < 10 && inbound.length === 0; i++) {
            inbound = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls["catch-all"], MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }))).Messages ?? [];
        }
        expect(inbound).to.have.length(1);

        // WHEN the router's zip handles the batch (kafkajs creates the topics and publishes)
        const routed = (await isolate("router-fn")).run<SQSBatchResponse>(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrls["catch-all"], Entries: inbound.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));

        // THEN nothing failed and the record is on the lane topic
        expect(routed.result).to.deep.equal({ batchItemFailures: [] });
        expect(packagesLoaded(routed)).to.include.members(["kafkajs", "@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager"]);
        const topic = (await valueOf(pipeline.kafkaTopics))["acme-default"];
        const [record] = await readAll(topic, 1);

        // WHEN the Kafka worker's zip gets it as Lambda's event source delivers it, twice (a retry)
        const event: SelfManagedKafkaEvent = {
            eventSource: "SelfManagedKafka",
            bootstrapServers: services.kafkaBrokers.join(","),
            records: {
                [`${topic}-${record.partition}`]: [
                    { topic, partition: record.partition, offset: Number(record.offset), timestamp: Number(record.timestamp), timestampType: "CREATE_TIME", key: Buffer.from(record.key).toString("base64"), value: Buffer.from(record.value).toString("base64"), headers: [] },
                ],
            },
        };
        const worker = await isolate("acme-default-worker-fn");
        const first = worker.run<KafkaBatchResponse>(event);
        const again = worker.run<KafkaBatchResponse>(event);

        // THEN both succeed, on the zip's own DynamoDB client and util-dynamodb, and one record is completed
        expect(first.result).to.deep.equal({ batchItemFailures: [] });
        expect(again.result).to.deep.equal({ batchItemFailures: [] });
        expect(packagesLoaded(first)).to.include.members(["@aws-sdk/client-dynamodb", "@aws-sdk/util-dynamodb", "@aws-lambda-powertools/idempotency"]);
        expect(packagesLoaded(first)).to.not.include("kafkajs");
        const { Items = [] } = await new DynamoDBClient({}).send(new ScanCommand({ TableName: await valueOf(pipeline.tableName) }));
        expect(Items.map((i) => i.status?.S)).to.deep.equal(["COMPLETED"]);
    });
});
