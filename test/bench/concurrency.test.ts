/**
 * The concurrency and latency benchmarks count what they report: the probe's
 * peak of calls in flight, checked by hand and against the real lane runners
 * at a tiny size (moto, and the Kafka broker when the runner started one),
 * and the pairing of acknowledged requests with handler calls.
 *
 * No timing is asserted: a gate holds the first call until a second one is
 * in flight, so the peak a correct runner reaches is exact, whatever the load.
 */
import { expect } from "chai";
import { ConcurrencyProbe } from "../../bench/concurrency-probe";
import { runLane, slotBreakdown } from "../../bench/concurrency";
import { Delivery, keepsUp, pairWithJournal } from "../../bench/latency";
import { percentile } from "../../bench/stats";
import type { HandlerContext, WebhookEvent } from "../../handlers/app/types";
import { requireKafka } from "../kafka/support/kafka";
import { services } from "../support/services";

const event = {} as WebhookEvent;
const context = {} as HandlerContext;

/** Hold each call until the probe has seen `n` calls at once; from then on calls pass straight through. */
const untilPeak = (n: number) => async (probe: ConcurrencyProbe) => {
    while (probe.peak < n) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe("bench: the concurrency probe", () => {
    it("GIVEN three calls held by a gate WHEN they run at once and are released THEN the peak is 3, nothing stays in flight and all three complete", async () => {
        // Prepare
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const probe = new ConcurrencyProbe(0, () => released);

        // Act
        const calls = [probe.handler(event, context), probe.handler(event, context), probe.handler(event, context)];
        const inFlightWhileHeld = probe.inFlight;
        release();
        await Promise.all(calls);
        await probe.handler(event, context);

        // Assess
        expect({ inFlightWhileHeld, peak: probe.peak, inFlight: probe.inFlight, calls: probe.calls }).to.deep.equal({ inFlightWhileHeld: 3, peak: 3, inFlight: 0, calls: 4 });
        expect(probe.summary()).to.include({ calls: 4, peak: 3 });
    });

    it("GIVEN a slot's time per event WHEN it is broken down THEN hold, DynamoDB, SQS, timer and other add up to the whole", () => {
        // Prepare
        const run = { slotMsPerEvent: 200, meanHoldMs: 52, spec: { runner: "kafka" as const, limit: 4, holdMs: 50, messages: 1 }, dynamo: { callsPerEvent: 2, msPerCall: 30, msPerEvent: 60 }, sqsMsPerEvent: 20 };

        // Act
        const b = slotBreakdown(run);

        // Assess
        expect(b).to.deep.equal({ hold: 0.25, dynamo: 0.3, sqs: 0.1, timerLateness: 0.01, other: 1 - 0.25 - 0.3 - 0.1 - 0.01 });
    });
});

describe("bench: concurrency against the real lane runners", function () {
    this.timeout(90_000);

    it("GIVEN an SQS lane with limit 2, batch size 1 and 6 webhooks WHEN the local SQS lane runner runs them THEN the probe's peak is exactly 2 and every webhook is handled once", async () => {
        // Act
        const run = await runLane(services.awsEndpoint, { runner: "sqs-runner", limit: 2, holdMs: 0, messages: 6, batchSize: 1 }, { gate: untilPeak(2), timeoutMs: 60_000 });

        // Assess
        // DynamoDB per event: PutItem (in progress), GetItem (the pre-fan-out key, handlers/worker/worker.ts legacyVerdict), UpdateItem (completed).
        expect({ peak: run.peak, calls: run.calls, dynamoCallsPerEvent: run.dynamo.callsPerEvent }).to.deep.equal({ peak: 2, calls: 6, dynamoCallsPerEvent: 3 });
        expect(run.awsCalls["SQS.DeleteMessageBatch"]?.calls).to.be.at.least(1);
    });

    it("GIVEN a Kafka lane with 2 partitions and 8 webhooks WHEN the consumer runner runs them THEN the probe's peak and the consumer's own peak are exactly 2", async function () {
        // Prepare
        requireKafka(this);
        const kafka = { brokers: services.kafkaBrokers, ssl: false, replicationFactor: 1 };

        // Act
        const run = await runLane(services.awsEndpoint, { runner: "kafka", limit: 2, holdMs: 0, messages: 8 }, { kafka, gate: untilPeak(2), timeoutMs: 60_000 });

        // Assess
        expect({ peak: run.peak, consumerPeak: run.consumerPeak, calls: run.calls, partitions: run.perPartition?.length, inPartitions: run.perPartition?.reduce((a, b) => a + b, 0) }).to.deep.equal({
            peak: 2,
            consumerPeak: 2,
            calls: 8,
            partitions: 2,
            inPartitions: 8,
        });
    });
});

describe("bench: latency pairing", () => {
    const delivery = (id: string, ackAt: number, status = 200): Delivery => ({ id, provider: "stripe", status, ackMs: 5, ackAt, requestId: status === 200 ? `req-${id}` : undefined });

    it("GIVEN acknowledged requests and a journal WHEN they are paired THEN each handled request gives handler time - ack time, from its first completed call", () => {
        // Prepare
        const deliveries = [delivery("a", 1000), delivery("b", 1010), delivery("c", 1020), delivery("d", 1030, 503)];
        const journal = [
            { requestId: "req-a", at: 1100, ok: false },
            { requestId: "req-a", at: 1250, ok: true },
            { requestId: "req-b", at: 1040, ok: true },
            { requestId: "req-b", at: 1300, ok: true },
        ];

        // Act
        const paired = pairWithJournal(deliveries, journal);

        // Assess
        expect(paired).to.deep.equal({ e2e: [250, 30], index: [0, 1], missing: ["req-c"], handledTwice: 1 });
    });

    it("GIVEN latencies per second WHEN the last second is more than twice the first THEN the pipeline does not keep up", () => {
        // Assess
        expect(keepsUp({ notHandled: 0, bySecond: [{ second: 0, ackP50: 5, e2eP50: 300 }, { second: 1, ackP50: 5, e2eP50: 320 }] })).to.equal(true);
        expect(keepsUp({ notHandled: 0, bySecond: [{ second: 0, ackP50: 5, e2eP50: 300 }, { second: 1, ackP50: 5, e2eP50: 2000 }] })).to.equal(false);
        expect(keepsUp({ notHandled: 3, bySecond: [{ second: 0, ackP50: 5, e2eP50: 300 }, { second: 1, ackP50: 5, e2eP50: 300 }] })).to.equal(false);
    });

    it("GIVEN 100 values WHEN the nearest-rank percentiles are taken THEN p50 is the 50th and p99 the 99th smallest", () => {
        // Prepare
        const values = Array.from({ length: 100 }, (_, i) => 100 - i);

        // Assess
        expect([percentile(values, 50), percentile(values, 99), percentile(values, 100), percentile([7], 99)]).to.deep.equal([50, 99, 100, 7]);
    });
});
