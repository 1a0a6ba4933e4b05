/**
 * Topic creation on the real broker: idempotent, grows, never shrinks.
 */
import { expect } from "chai";
import type { Admin } from "kafkajs";
import { deadLetterTopicOf } from "../../handlers/kafka/constants";
import { ensureTopics, laneTopicSpecs } from "../../handlers/kafka/topics";
import { kafkaClient, requireKafka, unique } from "./support/kafka";

describe("Kafka topics for lanes (real broker)", function () {
    this.timeout(60_000);
    let admin: Admin;

    before(async function () {
        requireKafka(this);
        admin = kafkaClient().admin();
        await admin.connect();
    });

    after(async () => {
        await admin?.disconnect();
    });

    const partitionsOf = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;

    it("GIVEN a new lane WHEN its topics are ensured twice THEN the lane topic has one partition per unit of concurrency and a 1-partition DLQ topic, created once", async () => {
        // Prepare
        const topic = unique("lane");
        const specs = laneTopicSpecs(topic, 4, 1);

        // Act
        const first = await ensureTopics(admin, specs);
        const second = await ensureTopics(admin, specs);

        // Assess
        expect(first).to.deep.equal({ created: [topic, deadLetterTopicOf(topic)], grown: {}, larger: {} });
        expect(second).to.deep.equal({ created: [], grown: {}, larger: {} });
        expect(await partitionsOf(topic)).to.equal(4);
        expect(await partitionsOf(deadLetterTopicOf(topic))).to.equal(1);
    });

    it("GIVEN a lane whose concurrency grew WHEN ensured THEN the topic grows; GIVEN it shrank THEN the topic is left as it is", async () => {
        // Prepare
        const topic = unique("grow");
        await ensureTopics(admin, laneTopicSpecs(topic, 2, 1));

        // Act
        const grown = await ensureTopics(admin, laneTopicSpecs(topic, 5, 1));
        const shrunk = await ensureTopics(admin, laneTopicSpecs(topic, 3, 1));

        // Assess
        expect(grown).to.deep.equal({ created: [], grown: { [topic]: [2, 5] }, larger: {} });
        expect(shrunk).to.deep.equal({ created: [], grown: {}, larger: { [topic]: 5 } });
        expect(await partitionsOf(topic)).to.equal(5);
    });

    it("GIVEN two containers racing to create the same topics THEN both succeed", async () => {
        const topic = unique("race");
        const specs = laneTopicSpecs(topic, 3, 1);
        const other = kafkaClient().admin();
        await other.connect();
        try {
            await Promise.all([ensureTopics(admin, specs), ensureTopics(other, specs)]);
        } finally {
            await other.disconnect();
        }
        expect(await partitionsOf(topic)).to.equal(3);
    });
});
