/**
 * Replay on the real broker: a fresh consumer group re-consumes a lane from a
 * timestamp or an offset until it caught up; idempotency (moto's DynamoDB)
 * skips what was processed before, and what never was runs the handler.
 */
import { expect } from "chai";
import { ConsumerLane, ConsumerStats, startLaneConsumer } from "../../handlers/kafka/consumer";
import { replayLane, ReplayError } from "../../handlers/kafka/replay";
import { CallRecorder, createIdempotencyTable, createTopics, endOffsets, kafkaRuntime, laneMessage, processorFor, produce, requireKafka, unique } from "./support/kafka";

interface ConsumedLane {
    readonly lane: ConsumerLane;
    /** When the events were produced: "old" ones 2 minutes before this, "new" ones 1 minute before. */
    readonly now: number;
    readonly fresh: string[];
    readonly live: CallRecorder;
    readonly liveStats: ConsumerStats;
}

describe("Kafka lane replay (real broker)", function () {
    this.timeout(90_000);
    let table: string;

    before(async function () {
        requireKafka(this);
        table = await createIdempotencyTable();
    });

    /**
     * A 2-partition lane with 10 old and 10 new events, consumed once by its live group;
     * with `poisonIndex`, new event #poisonIndex fails (maxReceiveCount 1) and is dead-lettered.
     */
    async function consumedLane(poisonIndex?: number): Promise<ConsumedLane> {
        const topic = unique("replay");
        await createTopics([{ topic, partitions: 2 }]);
        const now = Date.now();
        const old = Array.from({ length: 10 }, (_, i) => `${topic}-old-${i}`);
        const fresh = Array.from({ length: 10 }, (_, i) => `${topic}-new-${i}`);
        const message = (eventId: string, i: number, timestamp: number) => ({ key: `k${i % 3}`, value: laneMessage({ eventId, orderingKey: `k${i % 3}` }), timestamp });
        await produce(topic, [...old.map((id, i) => message(id, i, now - 120_000)), ...fresh.map((id, i) => message(id, i, now - 60_000))]);
        const lane: ConsumerLane = { id: "acme-default", topic, partitions: 2, maxReceiveCount: 1, timeoutSeconds: 10 };
        const poison = poisonIndex === undefined ? undefined : fresh[poisonIndex];
        const live = new CallRecorder();
        const consumer = await startLaneConsumer({ kafka: kafkaRuntime(), lane, process: processorFor(table, live.handler(0, (e) => e.eventId === poison)) });
        try {
            await consumer.caughtUp(await endOffsets(topic));
        } finally {
            await consumer.stop();
        }
        return { lane, now, fresh, live, liveStats: { ...consumer.stats } };
    }

    it("GIVEN a lane consumed once WHEN it is replayed from a time between its old and new events THEN a fresh group re-reads only the 10 new events and idempotency skips all of them", async () => {
        // Prepare
        const { lane, now } = await consumedLane();
        const again = new CallRecorder();

        // Act
        const result = await replayLane({ kafka: kafkaRuntime(), lane, process: processorFor(table, again.handler()), from: new Date(now - 90_000) });

        // Assess
        expect(result.messages).to.equal(10);
        expect(result.groupId).to.match(new RegExp(`^${lane.topic}\\.replay-\\d{8}T\\d{6}Z$`));
        expect(result.stats).to.include({ processed: 0, duplicates: 10, deadLettered: 0 });
        expect(again.calls).to.deep.equal([]);
    });

    it("GIVEN a lane whose poison event was dead-lettered WHEN replayed from before it with the handler fixed THEN that event is processed and the others are duplicates", async () => {
        // Prepare
        const { lane, now, fresh, live, liveStats } = await consumedLane(4);
        const fixed = new CallRecorder();

        // Act
        const result = await replayLane({ kafka: kafkaRuntime(), lane, process: processorFor(table, fixed.handler()), from: new Date(now - 90_000) });

        // Assess
        expect(liveStats).to.include({ processed: 19, deadLettered: 1 });
        expect(live.calls.map((c) => c.eventId)).to.not.include(fresh[4]);
        expect(result.stats).to.include({ processed: 1, duplicates: 9, deadLettered: 0 });
        expect(fixed.calls.map((c) => c.eventId)).to.deep.equal([fresh[4]]);
    });

    it("GIVEN a lane WHEN replayed from offset 3 of partition 1 THEN exactly that partition's messages from offset 3 are re-read", async () => {
        // Prepare
        const { lane } = await consumedLane();
        const end1 = Number((await endOffsets(lane.topic)).find((p) => p.partition === 1)!.offset);

        // Act
        const result = await replayLane({ kafka: kafkaRuntime(), lane, process: processorFor(table, new CallRecorder().handler()), offset: 3, partition: 1 });

        // Assess
        expect(result.partitions).to.deep.equal([{ partition: 1, start: "3", end: String(end1) }]);
        expect(result.messages).to.equal(end1 - 3);
        expect(result.stats).to.include({ processed: 0, duplicates: end1 - 3 });
    });

    it("GIVEN a named group whose consumers are running WHEN replayed into it THEN it refuses and leaves the group alone", async () => {
        // Prepare
        const { lane } = await consumedLane();
        const live = await startLaneConsumer({ kafka: kafkaRuntime(), lane, process: processorFor(table, new CallRecorder().handler()), groupId: unique("busy") });
        let error: unknown;

        // Act
        try {
            await replayLane({ kafka: kafkaRuntime(), lane, process: processorFor(table, new CallRecorder().handler()), from: new Date(0), groupId: live.groupId });
        } catch (err) {
            error = err;
        } finally {
            await live.stop();
        }

        // Assess
        expect(error).to.be.instanceOf(ReplayError);
        expect((error as Error).message).to.match(new RegExp(`consumer group ${live.groupId} has running members \\(state (Stable|PreparingRebalance|CompletingRebalance)\\): stop them first`));
    });

    it("GIVEN both a time and an offset THEN it refuses before touching the broker", async () => {
        const lane: ConsumerLane = { id: "x", topic: "x", partitions: 1, maxReceiveCount: 1, timeoutSeconds: 1 };
        let error: unknown;
        try {
            await replayLane({ kafka: kafkaRuntime(), lane, process: async () => "processed", from: new Date(), offset: 1 });
        } catch (err) {
            error = err;
        }
        expect(error).to.be.instanceOf(ReplayError);
        expect((error as Error).message).to.equal("give exactly one of from (a time) and offset");
    });
});
