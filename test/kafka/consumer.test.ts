/**
 * The consumer-group runner on a real Kafka broker, with the real lane
 * processor (idempotency in moto's DynamoDB): order per key, concurrency
 * bounded by partitions, commit only after success, dead-lettering, and
 * what a crash or a SIGTERM leaves behind.
 */
import { expect } from "chai";
import { fork } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DeadLetterHeader, deadLetterTopicOf, runnerGroupOf } from "../../handlers/kafka/constants";
import { ConsumerLane, LaneConsumer, MessageEvent, startLaneConsumer } from "../../handlers/kafka/consumer";
import type { ChildConfig } from "./support/consumer-child";
import { CallRecorder, committedCount, createIdempotencyTable, createTopics, endOffsets, kafkaRuntime, laneMessage, processorFor, produce, readAll, requireKafka, unique, within } from "./support/kafka";

function laneOf(topic: string, partitions: number, extra: Partial<ConsumerLane> = {}): ConsumerLane {
    return { id: "acme-default", topic, partitions, maxReceiveCount: 3, timeoutSeconds: 30, ...extra };
}

/** `keys` x `perKey` events, interleaved across keys (k0#1, k1#1, ..., k0#2, ...). */
function interleaved(keys: number, perKey: number, prefix: string) {
    const out: { key: string; value: string; eventId: string }[] = [];
    for (let seq = 1; seq <= perKey; seq++) {
        for (let k = 0; k < keys; k++) {
            const key = `${prefix}-customer-${k}`;
            const eventId = `${key}#${String(seq).padStart(3, "0")}`;
            out.push({ key, eventId, value: laneMessage({ eventId, orderingKey: key }) });
        }
    }
    return out;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const started = Date.now();
    while (!condition()) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

describe("Kafka lane consumer runner (real broker)", function () {
    this.timeout(120_000);
    let table: string;
    const running: LaneConsumer[] = [];

    before(async function () {
        requireKafka(this);
        table = await createIdempotencyTable();
    });

    afterEach(async () => {
        await Promise.all(running.splice(0).map((c) => c.stop().catch(() => undefined)));
    });

    it("GIVEN 20 keys x 30 events on 3 partitions WHEN one consumer with concurrency 3 runs THEN each key's events are handled in order, 3 at once at most, and the peak reaches 3", async () => {
        // Prepare
        const topic = unique("order");
        await createTopics([{ topic, partitions: 3 }]);
        const events = interleaved(20, 30, topic);
        await produce(topic, events);
        const recorder = new CallRecorder();

        // Act
        const consumer = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: processorFor(table, recorder.handler(5, undefined, { count: 3, withinMs: 15_000 })) });
        running.push(consumer);
        await consumer.caughtUp(await endOffsets(topic));
        const seconds = (Date.now() - recorder.firstCallAt!) / 1000;

        // Assess
        const byKey = recorder.orderByKey();
        expect(Object.keys(byKey)).to.have.length(20);
        for (const [key, ids] of Object.entries(byKey)) {
            expect(ids, key).to.deep.equal(events.filter((e) => e.key === key).map((e) => e.eventId));
        }
        expect(recorder.calls).to.have.length(600);
        expect(recorder.peak).to.be.at.most(3);
        expect(recorder.peak).to.equal(3);
        expect(consumer.stats.peakInFlight).to.equal(3);
        expect(consumer.stats).to.include({ processed: 600, duplicates: 0, deadLettered: 0, retries: 0, inFlight: 0 });
        expect(await committedCount(consumer.groupId, topic)).to.equal(600);
        console.log(`      [kafka] ordering: 600 events, 20 keys, 3 partitions: peak ${recorder.peak}/3 concurrent handler calls, ${(600 / seconds).toFixed(0)} events/s from the first call (each call: 3 idempotency calls to moto's DynamoDB, the pre-upgrade key's read included)`);
    });

    it("GIVEN two consumers in one group on a 3-partition lane WHEN both run with concurrency 3 THEN the whole group never runs more than 3 handler calls at once", async () => {
        // Prepare
        const topic = unique("group");
        await createTopics([{ topic, partitions: 3 }]);
        const events = interleaved(12, 25, topic);
        await produce(topic, events);
        const recorder = new CallRecorder();
        const laneProcess = processorFor(table, recorder.handler(5));
        const groupId = unique("two-members");

        // Act
        const a = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: laneProcess, groupId });
        running.push(a);
        const b = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: laneProcess, groupId });
        running.push(b);
        await waitFor(() => recorder.calls.length >= events.length, "every event");

        // Assess
        expect(recorder.peak).to.be.at.most(3);
        expect(new Set(recorder.calls.map((c) => c.eventId)).size).to.equal(events.length);
        console.log(`      [kafka] group of 2 members x concurrency 3 on 3 partitions: peak ${recorder.peak}/3; split ${a.stats.processed + a.stats.duplicates}/${b.stats.processed + b.stats.duplicates}`);
    });

    it("GIVEN a poison message WHEN it fails maxReceiveCount times THEN it is in <topic>.dlq with why and where it came from, and the partition keeps moving", async () => {
        // Prepare: one partition, so "later messages" are behind the poison one
        const topic = unique("poison");
        await createTopics([{ topic, partitions: 1 }]);
        const ids = ["p-1", "p-2", "p-poison", "p-4", "p-5"];
        await produce(topic, ids.map((eventId) => ({ key: "k", value: laneMessage({ eventId: `${topic}-${eventId}`, orderingKey: "k" }) })));
        const recorder = new CallRecorder();
        let poisonCalls = 0;
        const outcomes: MessageEvent[] = [];

        // Act
        const consumer = await startLaneConsumer({
            kafka: kafkaRuntime(),
            lane: laneOf(topic, 1, { maxReceiveCount: 3 }),
            process: processorFor(table, recorder.handler(0, (e) => e.eventId.endsWith("p-poison") && ++poisonCalls > 0)),
            retry: { initialMs: 10, maxMs: 50 },
            onMessage: (e) => outcomes.push(e),
        });
        running.push(consumer);
        await consumer.caughtUp(await endOffsets(topic));
        const [dead] = await readAll(deadLetterTopicOf(topic), 1);

        // Assess
        expect(recorder.calls.map((c) => c.eventId)).to.deep.equal([`${topic}-p-1`, `${topic}-p-2`, `${topic}-p-4`, `${topic}-p-5`]);
        expect(poisonCalls).to.equal(3);
        expect(outcomes.map((o) => [o.offset, o.outcome, o.attempts])).to.deep.equal([
            ["0", "processed", 1],
            ["1", "processed", 1],
            ["2", "dead-lettered", 3],
            ["3", "processed", 1],
            ["4", "processed", 1],
        ]);
        expect(dead.key).to.equal("k");
        expect(JSON.parse(dead.value).eventId).to.equal(`${topic}-p-poison`);
        expect(dead.headers).to.deep.include({
            [DeadLetterHeader.Error]: `poison event ${topic}-p-poison`,
            [DeadLetterHeader.ErrorName]: "Error",
            [DeadLetterHeader.Attempts]: "3",
            [DeadLetterHeader.OriginalTopic]: topic,
            [DeadLetterHeader.OriginalPartition]: "0",
            [DeadLetterHeader.OriginalOffset]: "2",
            [DeadLetterHeader.ConsumerGroup]: runnerGroupOf(topic),
        });
        expect(consumer.stats).to.include({ processed: 4, deadLettered: 1, retries: 2 });
        expect(await committedCount(consumer.groupId, topic)).to.equal(5);
    });

    it("GIVEN a message that is not a lane message WHEN it is consumed THEN it goes to the DLQ at once (no retry can fix it)", async () => {
        // Prepare
        const topic = unique("garbage");
        await createTopics([{ topic, partitions: 1 }]);
        await produce(topic, [{ key: "k", value: "not json" }, { key: "k", value: laneMessage({ eventId: `${topic}-ok` }) }]);
        const recorder = new CallRecorder();

        // Act
        const consumer = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 1), process: processorFor(table, recorder.handler()) });
        running.push(consumer);
        await consumer.caughtUp(await endOffsets(topic));
        const [dead] = await readAll(deadLetterTopicOf(topic), 1);

        // Assess
        expect(dead.value).to.equal("not json");
        expect(dead.headers).to.deep.include({ [DeadLetterHeader.ErrorName]: "LaneMessageError", [DeadLetterHeader.Attempts]: "1" });
        expect(recorder.calls.map((c) => c.eventId)).to.deep.equal([`${topic}-ok`]);
    });

    it("GIVEN a group that committed everything WHEN a new member starts THEN it is caught up without reading a message", async () => {
        // Prepare
        const topic = unique("done");
        await createTopics([{ topic, partitions: 3 }]);
        await produce(topic, interleaved(3, 4, topic));
        const groupId = unique("done-group");
        const first = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: processorFor(table, new CallRecorder().handler()), groupId });
        await first.caughtUp(await endOffsets(topic));
        await first.stop();
        const recorder = new CallRecorder();

        // Act
        const second = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: processorFor(table, recorder.handler()), groupId });
        running.push(second);
        await within(second.caughtUp(await endOffsets(topic)), 30_000, "the second member", () => second.positions);

        // Assess
        expect(recorder.calls).to.deep.equal([]);
        expect(second.stats).to.include({ processed: 0, duplicates: 0 });
    });

    describe("a consumer process that ends mid-batch", () => {
        let dir: string;
        beforeEach(() => {
            dir = mkdtempSync(join(tmpdir(), "kafka-child-"));
        });
        afterEach(() => rmSync(dir, { recursive: true, force: true }));

        const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

        /** Run test/kafka/support/consumer-child.js until it exits: its exit code or signal, and the event ids its handler started and finished. */
        async function runChild(config: ChildConfig): Promise<{ code: number | null; signal: NodeJS.Signals | null; calls: string[]; done: string[] }> {
            const child = fork(join(__dirname, "support", "consumer-child.js"), [], { env: { ...process.env, WP_CHILD: JSON.stringify(config) }, stdio: ["ignore", "inherit", "pipe", "ipc"] });
            let stderr = "";
            child.stderr!.on("data", (chunk) => (stderr += chunk));
            const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (c, s) => resolve([c, s])));
            const [code, signal] = await within(exit, 60_000, "the consumer child", () => ({ calls: lines(config.callsFile).length, stderr })).catch((err) => {
                child.kill("SIGKILL");
                throw err;
            });
            if (code !== 0 && signal === null) throw new Error(`consumer child exited with ${code}:\n${stderr}`);
            return { code, signal, calls: lines(config.callsFile), done: lines(config.doneFile) };
        }

        function childConfig(topic: string, groupId: string, signal: ChildConfig["signal"], timeoutSeconds: number): ChildConfig {
            return {
                brokers: [...kafkaRuntime().brokers],
                topic,
                partitions: 3,
                groupId,
                table,
                callsFile: join(dir, "calls"),
                doneFile: join(dir, "done"),
                stopAtCall: 30,
                signal,
                delayMs: 20,
                timeoutSeconds,
                commitEveryMessages: 10,
            };
        }

        it("GIVEN 90 events on 3 partitions WHEN the consumer is killed (SIGKILL) inside its 30th handler call THEN the restart re-reads only uncommitted messages, idempotency absorbs the completed ones, and nothing is lost", async () => {
            // Prepare
            const topic = unique("kill");
            await createTopics([{ topic, partitions: 3 }]);
            const events = interleaved(9, 10, topic);
            await produce(topic, events);
            const groupId = unique("kill-group");
            const config = childConfig(topic, groupId, "SIGKILL", 2);

            // Act: the child dies mid-handler; then a restarted consumer in this process
            const child = await runChild(config);
            const committedAtKill = await committedCount(groupId, topic);
            const recorder = new CallRecorder();
            const restart = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3, { timeoutSeconds: 2 }), process: processorFor(table, recorder.handler()), groupId, inProgressPollMs: 100 });
            running.push(restart);
            await within(restart.caughtUp(await endOffsets(topic)), 60_000, "the restarted consumer", () => ({ positions: restart.positions, stats: restart.stats, calls: recorder.calls.length }));

            // Assess: the child died mid-run
            expect(child.signal).to.equal("SIGKILL");
            expect(child.calls.length).to.be.at.least(30);
            expect(committedAtKill).to.be.below(events.length);
            // The restart reads exactly what was not committed: nothing lost, nothing committed read again.
            const reread = restart.stats.processed + restart.stats.duplicates + restart.stats.deadLettered;
            expect(reread).to.equal(events.length - committedAtKill);
            // Messages the child finished but had not committed come back: idempotency absorbs them (a "duplicate"),
            // unless the kill came between the handler's end and its COMPLETED record: then the handler runs again.
            const done = new Set(child.done);
            const recalledDone = recorder.calls.filter((c) => done.has(c.eventId)).length;
            expect(restart.stats.duplicates + recalledDone).to.equal(done.size - committedAtKill);
            // Calls in flight at the kill (started, not finished) run again: at most one per partition.
            const inFlightAtKill = child.calls.filter((id) => !done.has(id));
            expect(inFlightAtKill.length).to.be.within(1, 3);
            expect(recorder.calls.filter((c) => inFlightAtKill.includes(c.eventId)).length).to.equal(inFlightAtKill.length);
            // Every event reached the handler; the only extra calls are the interrupted ones.
            expect(new Set([...child.calls, ...recorder.calls.map((c) => c.eventId)]).size).to.equal(events.length);
            const handlerCalls = child.calls.length + recorder.calls.length;
            expect(handlerCalls - events.length).to.equal(inFlightAtKill.length + recalledDone);
            expect(restart.stats.deadLettered).to.equal(0);
            console.log(
                `      [kafka] SIGKILL in handler call 30 (commit every 10): ${done.size} finished, ${committedAtKill} committed; restart re-read ${reread} = 90 - ${committedAtKill}: ` +
                    `${restart.stats.duplicates} absorbed by idempotency, ${inFlightAtKill.length + recalledDone} handler calls repeated (interrupted mid-call)`,
            );
        });

        it("GIVEN 90 events WHEN the consumer gets SIGTERM inside its 30th handler call THEN in-flight calls finish and are committed, and the restart handles exactly the rest with no duplicate", async () => {
            // Prepare
            const topic = unique("term");
            await createTopics([{ topic, partitions: 3 }]);
            const events = interleaved(9, 10, topic);
            await produce(topic, events);
            const groupId = unique("term-group");
            const config = childConfig(topic, groupId, "SIGTERM", 5);

            // Act
            const child = await runChild(config);
            const committedAtStop = await committedCount(groupId, topic);
            const recorder = new CallRecorder();
            const restart = await startLaneConsumer({ kafka: kafkaRuntime(), lane: laneOf(topic, 3), process: processorFor(table, recorder.handler()), groupId });
            running.push(restart);
            await within(restart.caughtUp(await endOffsets(topic)), 60_000, "the restarted consumer", () => ({ positions: restart.positions, stats: restart.stats, calls: recorder.calls.length }));

            // Assess
            expect(child.code).to.equal(0);
            expect(child.calls.length).to.be.at.least(30);
            expect(committedAtStop, "every call that started was finished and committed").to.equal(child.calls.length);
            expect(restart.stats).to.include({ processed: events.length - committedAtStop, duplicates: 0 });
            expect(new Set([...child.calls, ...recorder.calls.map((c) => c.eventId)]).size).to.equal(events.length);
            expect(child.calls.length + recorder.calls.length).to.equal(events.length);
        });
    });
});
