/**
 * A Kafka lane that delivers to a destination, through the consumer-group
 * runner (handlers/kafka/consumer.ts) on a real broker, with the same lane
 * processor (idempotency on moto's DynamoDB) and a node http server as the
 * destination: a permanent answer dead-letters at once, a retryable one is
 * retried in place on the lane's schedule and Retry-After.
 */
import { expect } from "chai";
import { createDeliverer, destinationHandler } from "../../handlers/destination";
import { deadLetterTopicOf } from "../../handlers/kafka/constants";
import { LaneConsumer, startLaneConsumer } from "../../handlers/kafka/consumer";
import { DeliveryHeader } from "../../model/delivery";
import { startDestination, TestDestination } from "../support/destination";
import { createIdempotencyTable, createTopics, endOffsets, kafkaRuntime, laneMessage, processorFor, produce, readAll, requireKafka, unique } from "./support/kafka";

describe("kafka lane with a destination (consumer group on a real broker, node http server)", function () {
    this.timeout(90_000);
    let dest: TestDestination;
    let consumer: LaneConsumer | undefined;
    before(function () {
        requireKafka(this);
    });
    after(async () => {
        await consumer?.stop();
        await dest?.close();
    });

    it("GIVEN answers 400, 429 (Retry-After 2) then 200, and 200 WHEN the lane consumes THEN 400 is dead-lettered after one attempt, 429 is retried after at least 2 s and delivered once, 200 once", async () => {
        // Prepare
        const seen: Record<string, number> = {};
        dest = await startDestination((r) => {
            const id = r.headers[DeliveryHeader.EventId];
            seen[id] = (seen[id] ?? 0) + 1;
            if (id === "evt_k400") return { status: 400, body: "unknown account" };
            if (id === "evt_k429" && seen[id] === 1) return { status: 429, headers: { "retry-after": "2" } };
            return { status: 200 };
        });
        const topic = unique("dest");
        await createTopics([{ topic, partitions: 1 }]);
        const table = await createIdempotencyTable();
        const deliver = createDeliverer({ destination: { url: dest.url, method: "POST", timeoutSeconds: 5, headers: {} }, secrets: async () => [] });
        await produce(topic, ["evt_k400", "evt_k429", "evt_kok"].map((eventId) => ({ key: "k", value: laneMessage({ eventId, body: `{"id":"${eventId}"}` }) })));

        // Act
        consumer = await startLaneConsumer({
            kafka: kafkaRuntime(),
            // The lane's schedule would wait 1 s; the destination's Retry-After of 2 s wins.
            lane: { id: "acme-default", topic, partitions: 1, maxReceiveCount: 5, timeoutSeconds: 10, retry: { backoff: "fixed", initialSeconds: 1, maxSeconds: 10 } },
            process: processorFor(table, destinationHandler(deliver)),
        });
        await consumer.caughtUp(await endOffsets(topic));
        const [dead] = await readAll(deadLetterTopicOf(topic), 1);

        // Assess
        expect(seen).to.deep.equal({ evt_k400: 1, evt_k429: 2, evt_kok: 1 });
        const k429 = dest.requests.filter((r) => r.headers[DeliveryHeader.EventId] === "evt_k429");
        console.log(`      [kafka] 429 Retry-After 2: retried in place after ${((k429[1].at - k429[0].at) / 1000).toFixed(2)} s`);
        expect(k429[1].at - k429[0].at).to.be.at.least(1_950);
        expect(JSON.parse(dead.value).eventId).to.equal("evt_k400");
        expect(dead.headers.attempts).to.equal("1");
        expect(dead.headers["error-name"]).to.equal("DeliveryPermanentError");
        expect(dead.headers.error).to.equal("destination answered 400: unknown account");
        expect(consumer.stats).to.include({ processed: 2, deadLettered: 1, retries: 1 });
    });
});
