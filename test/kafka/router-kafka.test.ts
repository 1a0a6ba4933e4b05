/**
 * The router publishing to a Kafka lane on the real broker, through the same
 * publisher the router's Lambda builds (routerKafkaPublisher): keyed by the
 * plugin's ordering key, topics created first, nothing reported as done
 * unless the broker acknowledged it.
 */
import { expect } from "chai";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { createRouter, InboundRecord } from "../../handlers/router/router";
import { createLaneProcessor } from "../../handlers/worker/worker";
import { routerKafkaPublisher } from "../../handlers/kafka/publisher";
import { deadLetterTopicOf } from "../../handlers/kafka/constants";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { createLocalResources, localClients } from "../../local/resources";
import { parseConfig } from "../../model/config";
import { encodeEnvelope } from "../../model/envelope";
import type { LaneMessage } from "../../model/lane-message";
import { buildPipelineModel, PipelineModel } from "../../model/pipeline";
import type { KafkaRuntime, RouterRuntimeConfig } from "../../model/runtime-config";
import { getPlugin } from "../../providers";
import { freePort } from "../../local/services/free-port";
import { services } from "../support/services";
import { kafkaClient, kafkaRuntime, readAll, requireKafka, unique } from "./support/kafka";

const secret = "router-kafka-secret";
const signature = { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" } as const;
const hmacOptions = { signature, eventIdPath: "id", eventTypePath: "type", orderingKeyPath: "account.id" };

/** acme: order.* on the Kafka default lane (3 partitions), invoice.* on an SQS lane. */
function pipeline(name: string): PipelineModel {
    const config = parseConfig({
        providers: [{ name: "acme", plugin: "hmac", secret, ...hmacOptions, lane: "kafka", concurrency: 3, routes: { "invoice.*": "billing" }, lanes: { billing: { lane: "sqs" } } }],
        kafka: { mode: "external", brokers: ["127.0.0.1:9092"] },
    });
    return buildPipelineModel(config, name);
}

/** Signed catch-all records, as API Gateway enqueues them. */
function records(events: { id: string; type: string; account: string }[]): InboundRecord[] {
    const plugin = getPlugin("hmac", hmacOptions);
    const now = Date.now();
    return events.map((e, i) => {
        const body = Buffer.from(JSON.stringify({ id: e.id, type: e.type, account: { id: e.account } }));
        const headers = Object.fromEntries(Object.entries(plugin.sign(body, secret, now, "https://example.com/webhooks/acme")).map(([k, v]) => [k.toLowerCase(), v]));
        const message = encodeEnvelope({ provider: "acme", requestId: `r-${e.id}`, receivedAt: now, sourceIp: "203.0.113.9", headers, body }, plugin.headers);
        return { messageId: `m-${i}-${e.id}`, body: message.MessageBody, attributes: message.MessageAttributes };
    });
}

describe("router -> Kafka lane (real broker)", function () {
    this.timeout(60_000);
    const clients = () => localClients(services.awsEndpoint);

    /** Every message visible on an SQS queue now (left in flight). */
    async function drainQueue(url: string) {
        const out = [];
        for (;;) {
            const { Messages = [] } = await clients().sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
            if (!Messages.length) return out;
            out.push(...Messages);
        }
    }

    before(function () {
        requireKafka(this);
    });

    async function routerConfig(model: PipelineModel, kafka: KafkaRuntime): Promise<RouterRuntimeConfig> {
        const resources = await createLocalResources(model, { acme: [secret] }, clients(), { prefix: model.name });
        const lanes = Object.fromEntries(Object.entries(resources.router.lanes).map(([id, l]) => [id, { ...l, partitions: model.lanes.find((m) => m.id === id)!.concurrency }]));
        return { ...resources.router, lanes, kafka };
    }

    it("GIVEN a Kafka lane WHEN the router handles a batch THEN every message is on the lane topic keyed by its ordering key, in order per key, and nothing is reported failed", async () => {
        // Prepare
        const model = pipeline(unique("rk"));
        const topic = model.lanes.find((l) => l.id === "acme-default")!.topic!;
        const config = await routerConfig(model, kafkaRuntime());
        const publisher = routerKafkaPublisher(config, { secrets: clients().secrets });
        const route = createRouter({ config, sqs: clients().sqs, s3: clients().s3, secrets: cachedSecretReader(clients().secrets), kafka: publisher });
        const events = Array.from({ length: 24 }, (_, i) => ({ id: `evt-${i}`, type: i % 6 === 5 ? "invoice.paid" : "order.updated", account: `acct-${i % 4}` }));

        // Act
        const { failures, report } = await route(records(events));
        await publisher.close();
        const onTopic = await readAll(topic, 20);

        // Assess
        expect(failures).to.deep.equal([]);
        expect(report.routed).to.deep.equal({ "acme-default": 20, "acme-billing": 4 });
        expect(report.calls.send).to.equal(2); // one produce call for the Kafka lane, one SendMessageBatch for the SQS lane
        const kafkaEvents = events.filter((e) => e.type === "order.updated");
        expect(onTopic.map((m) => (JSON.parse(m.value) as LaneMessage).eventId).sort()).to.deep.equal(kafkaEvents.map((e) => e.id).sort());
        for (const m of onTopic) {
            const message = JSON.parse(m.value) as LaneMessage;
            expect(m.key, message.eventId).to.equal(message.orderingKey);
            expect(message).to.include({ provider: "acme", lane: "acme-default", eventType: "order.updated" });
        }
        for (const account of ["acct-0", "acct-1", "acct-2", "acct-3"]) {
            const ofKey = onTopic.filter((m) => m.key === account);
            expect(new Set(ofKey.map((m) => m.partition)).size, account).to.equal(1);
            expect(ofKey.map((m) => (JSON.parse(m.value) as LaneMessage).eventId)).to.deep.equal(kafkaEvents.filter((e) => e.account === account).map((e) => e.id));
        }
        const admin = kafkaClient().admin();
        await admin.connect();
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic, deadLetterTopicOf(topic)] });
        await admin.disconnect();
        expect(topics.map((t) => [t.name, t.partitions.length]).sort()).to.deep.equal([
            [topic, 3],
            [deadLetterTopicOf(topic), 1],
        ]);
    });

    it("GIVEN a fan-out route to an SQS lane and a Kafka lane WHEN the router handles a batch and each lane's processor takes its copy THEN each lane gets every fanned-out event once and each runs its handler once (idempotency per lane, whatever the lane kind)", async () => {
        // Prepare: payment.* goes to billing (SQS) and to the default lane (Kafka)
        const name = unique("rk-fan");
        const model = buildPipelineModel(
            parseConfig({
                providers: [{ name: "acme", plugin: "hmac", secret, ...hmacOptions, lane: "kafka", concurrency: 2, routes: { "payment.*": ["billing", "default"], "invoice.*": "billing" }, lanes: { billing: { lane: "sqs" } } }],
                kafka: { mode: "external", brokers: ["127.0.0.1:9092"] },
            }),
            name,
        );
        const resources = await createLocalResources(model, { acme: [secret] }, clients(), { prefix: name });
        const lanes = Object.fromEntries(Object.entries(resources.router.lanes).map(([id, l]) => [id, { ...l, partitions: model.lanes.find((m) => m.id === id)!.concurrency }]));
        const config: RouterRuntimeConfig = { ...resources.router, lanes, kafka: kafkaRuntime() };
        const publisher = routerKafkaPublisher(config, { secrets: clients().secrets });
        const route = createRouter({ config, sqs: clients().sqs, s3: clients().s3, secrets: cachedSecretReader(clients().secrets), kafka: publisher });
        const events = [
            { id: "f-1", type: "payment.captured", account: "a" },
            { id: "f-2", type: "invoice.paid", account: "a" },
            { id: "f-3", type: "payment.refunded", account: "b" },
            { id: "f-4", type: "order.created", account: "b" },
        ];

        // Act
        const { failures, report } = await route(records(events));
        await publisher.close();
        const onTopic = (await readAll(model.lanes.find((l) => l.id === "acme-default")!.topic!, 3)).map((m) => m.value);
        const onQueue = (await drainQueue(resources.lanes["acme-billing"].queue.url)).map((m) => m.Body!);
        const handled: string[] = [];
        const processorOf = (lane: string) => createLaneProcessor({ config: resources.workers[lane], handler: async (e) => void handled.push(`${e.lane}:${e.eventId}`), s3: clients().s3, dynamo: clients().dynamo });
        const kafkaOutcomes = [];
        for (const m of onTopic) kafkaOutcomes.push(await processorOf("acme-default")(m));
        const sqsOutcomes = [];
        for (const m of onQueue) sqsOutcomes.push(await processorOf("acme-billing")(m));

        // Assess
        expect(failures).to.deep.equal([]);
        expect(report.routed).to.deep.equal({ "acme-default": 3, "acme-billing": 3 });
        expect(report.archived).to.deep.equal({ acme: 4 });
        expect(report.calls).to.include({ archive: 1, send: 2 });
        expect(onTopic.map((v) => (JSON.parse(v) as LaneMessage).eventId).sort()).to.deep.equal(["f-1", "f-3", "f-4"]);
        expect(onQueue.map((v) => (JSON.parse(v) as LaneMessage).eventId).sort()).to.deep.equal(["f-1", "f-2", "f-3"]);
        expect([...kafkaOutcomes, ...sqsOutcomes]).to.deep.equal(Array(6).fill("processed"));
        expect(handled.sort()).to.deep.equal(["acme-billing:f-1", "acme-billing:f-2", "acme-billing:f-3", "acme-default:f-1", "acme-default:f-3", "acme-default:f-4"]);
    });

    it("GIVEN the brokers are unreachable WHEN the router handles a batch THEN every Kafka-lane record is reported failed (redelivered by SQS) and the SQS-lane records still go through", async () => {
        // Prepare
        const model = pipeline(unique("rk-down"));
        const closed = await freePort();
        const config = await routerConfig(model, { brokers: [`127.0.0.1:${closed}`], ssl: false, replicationFactor: 1 });
        const { createKafkaPublisher, topicSpecsOf } = await import("../../handlers/kafka/publisher");
        const publisher = createKafkaPublisher({ kafka: config.kafka!, topics: topicSpecsOf(config), retry: { retries: 1, initialRetryTime: 50 }, connectionTimeoutMs: 500 });
        const route = createRouter({ config, sqs: clients().sqs, s3: clients().s3, secrets: cachedSecretReader(clients().secrets), kafka: publisher });
        const events = [
            { id: "d-1", type: "order.created", account: "a" },
            { id: "d-2", type: "invoice.paid", account: "a" },
            { id: "d-3", type: "order.updated", account: "b" },
        ];
        const inbound = records(events);

        // Act
        const { failures, report } = await route(inbound);
        await publisher.close();

        // Assess
        expect(failures.sort()).to.deep.equal([inbound[0].messageId, inbound[2].messageId].sort());
        expect(report.routed["acme-default"] ?? 0).to.equal(0);
        expect(report.routed["acme-billing"]).to.equal(1);
        expect(report.failed).to.equal(2);
    });
});
