/**
 * The deploy check for a Kafka lane: what we test is what we ship. The
 * program runs under the mock runtime with brokers you run (the test broker,
 * `mode: external`) while its queues, bucket, secrets and table are created
 * for real in moto. Then the router's uploaded `__index.js` routes a signed
 * webhook to the lane's topic on the real broker (creating the topics), and
 * the Kafka worker's uploaded code handles those records as Lambda's Kafka
 * event source delivers them.
 */
import { expect } from "chai";
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { SelfManagedKafkaEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { WebhookPipeline } from "../../components";
import type { KafkaBatchResponse } from "../../handlers/kafka/lambda";
import { toLambdaEvent } from "../../local/sqs-event";
import { encodeEnvelope } from "../../model/envelope";
import type { LaneMessage } from "../../model/lane-message";
import { getPlugin } from "../../providers";
import { bundleOf, loadBundle } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { services } from "../support/services";
import { kafkaClient, readAll, requireKafka, unique } from "./support/kafka";
import { lambdaContext } from "../support/runtime";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
type KafkaHandler = (event: SelfManagedKafkaEvent, context: unknown) => Promise<KafkaBatchResponse>;

const secret = "kafka-deploy-check-secret";
const hmac = { signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type", orderingKeyPath: "account.id" } as const;

describe("deploy check: serialized router and Kafka worker run against moto and the broker", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let name: string;

    before(async function () {
        requireKafka(this);
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        name = unique("kdc");
        pipeline = new WebhookPipeline(name, {
            providers: [{ name: "acme", plugin: "hmac", secret, ...hmac, lane: "kafka", concurrency: 2 }],
            kafka: { mode: "external", brokers: services.kafkaBrokers },
        });
        await valueOf(pipeline.queueUrls);
        await settled();
    });

    const fn = (suffix: string) => session.byType("aws:lambda/function:Function").find((f) => f.name === `${name}-${suffix}`)!;

    it("GIVEN a signed webhook in the catch-all queue WHEN the router bundle runs THEN it lands on the lane topic, keyed by its ordering key; WHEN the worker bundle gets it twice THEN it is processed once", async () => {
        // GIVEN a signed webhook, as API Gateway would enqueue it
        const plugin = getPlugin("hmac", hmac);
        const now = Date.now();
        const body = Buffer.from(JSON.stringify({ id: `evt_${now}`, type: "order.created", account: { id: "acct_42" } }));
        const headers = Object.fromEntries(Object.entries(plugin.sign(body, secret, now, "https://example.com/webhooks/acme")).map(([k, v]) => [k.toLowerCase(), v]));
        const queueUrls = await valueOf(pipeline.queueUrls);
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "acme", requestId: "r-1", receivedAt: now, sourceIp: "203.0.113.7", headers, body }, plugin.headers) }));
        let inbound: Message[] = [];
        for (let i = 0; i < 10 && inbound.length === 0; i++) {
            inbound = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls["catch-all"], MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }))).Messages ?? [];
        }

        // WHEN the router's uploaded code handles the batch
        const router = loadBundle<SqsHandler>(await bundleOf(fn("router-fn")));
        const routed = await router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext(`${name}-router-fn`));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrls["catch-all"], Entries: inbound.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));

        // THEN nothing failed, and the lane topic (created by the router, with 2 partitions) holds the event
        expect(routed).to.deep.equal({ batchItemFailures: [] });
        const topic = (await valueOf(pipeline.kafkaTopics))["acme-default"];
        expect(topic).to.equal(`${name}.acme.default`);
        const [record] = await readAll(topic, 1);
        expect(record.key).to.equal("acct_42");
        expect((JSON.parse(record.value) as LaneMessage).eventId).to.equal(`evt_${now}`);
        const admin = kafkaClient().admin();
        await admin.connect();
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`] });
        await admin.disconnect();
        expect(topics.map((t) => t.partitions.length).sort()).to.deep.equal([1, 2]);

        // WHEN the Kafka worker's uploaded code gets the record as Lambda's event source delivers it (twice: a retry)
        const worker = loadBundle<KafkaHandler>(await bundleOf(fn("acme-default-worker-fn")));
        const event: SelfManagedKafkaEvent = {
            eventSource: "SelfManagedKafka",
            bootstrapServers: services.kafkaBrokers.join(","),
            records: {
                [`${topic}-${record.partition}`]: [
                    {
                        topic,
                        partition: record.partition,
                        offset: Number(record.offset),
                        timestamp: Number(record.timestamp),
                        timestampType: "CREATE_TIME",
                        key: Buffer.from(record.key).toString("base64"),
                        value: Buffer.from(record.value).toString("base64"),
                        headers: [],
                    },
                ],
            },
        };
        expect(await worker(event, lambdaContext(`${name}-acme-default-worker-fn`))).to.deep.equal({ batchItemFailures: [] });
        expect(await worker(event, lambdaContext(`${name}-acme-default-worker-fn`))).to.deep.equal({ batchItemFailures: [] });

        // THEN the idempotency table holds exactly one completed record
        const { Items = [] } = await new DynamoDBClient({}).send(new ScanCommand({ TableName: await valueOf(pipeline.tableName) }));
        expect(Items.map((i) => i.status?.S)).to.deep.equal(["COMPLETED"]);
    });
});
