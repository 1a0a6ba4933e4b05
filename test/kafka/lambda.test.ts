/**
 * The Kafka worker's Lambda adapter: a Kafka event source event (records by
 * topic-partition, base64 values) through the real lane processor
 * (idempotency in moto's DynamoDB). The event is built the way Lambda's
 * Kafka event source documents it; no broker is involved.
 */
import { expect } from "chai";
import type { MSKEvent, MSKRecord } from "aws-lambda";
import { processKafkaEvent } from "../../handlers/kafka/lambda";
import { CallRecorder, createIdempotencyTable, laneMessage, processorFor, unique } from "./support/kafka";
import { services } from "../support/services";

function record(topic: string, partition: number, offset: number, eventId: string): MSKRecord {
    return {
        topic,
        partition,
        offset,
        timestamp: Date.now(),
        timestampType: "CREATE_TIME",
        key: Buffer.from("k").toString("base64"),
        value: Buffer.from(laneMessage({ eventId, orderingKey: "k" })).toString("base64"),
        headers: [],
    };
}

function event(topic: string, partitions: Record<number, [number, string][]>): MSKEvent {
    return {
        eventSource: "aws:kafka",
        eventSourceArn: "arn:aws:kafka:us-east-1:123456789012:cluster/wp-kafka/abc-1",
        bootstrapServers: "boot-abc.kafka-serverless.us-east-1.amazonaws.com:9098",
        records: Object.fromEntries(Object.entries(partitions).map(([p, list]) => [`${topic}-${p}`, list.map(([offset, id]) => record(topic, Number(p), offset, id))])),
    };
}

describe("Kafka worker Lambda adapter", function () {
    this.timeout(30_000);
    let table: string;

    before(async () => {
        void services.awsEndpoint; // moto is required
        table = await createIdempotencyTable();
    });

    it("GIVEN a batch over two partitions with a failing record WHEN processed THEN that partition stops at the failure and reports it as its resume point; the other partition completes", async () => {
        // Prepare
        const topic = unique("esm");
        const recorder = new CallRecorder();
        const process = processorFor(table, recorder.handler(0, (e) => e.eventId === `${topic}-bad`));
        const batch = event(topic, { 0: [[10, `${topic}-a`], [11, `${topic}-bad`], [12, `${topic}-c`]], 1: [[7, `${topic}-d`], [8, `${topic}-e`]] });

        // Act
        const { response, counts } = await processKafkaEvent(batch, process);

        // Assess
        expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 11 } }] });
        expect(counts).to.deep.equal({ processed: 3, duplicate: 0, failed: 1, skipped: 1 });
        expect(recorder.calls.map((c) => c.eventId).sort()).to.deep.equal([`${topic}-a`, `${topic}-d`, `${topic}-e`]);
    });

    it("GIVEN Lambda retries from the resume point with the whole earlier batch again WHEN processed THEN finished records are duplicates and the rest run in order", async () => {
        // Prepare
        const topic = unique("esm-retry");
        const recorder = new CallRecorder();
        let failuresLeft = 1;
        const process = processorFor(table, recorder.handler(0, (e) => e.eventId === `${topic}-b` && failuresLeft-- > 0));
        const batch = event(topic, { 0: [[0, `${topic}-a`], [1, `${topic}-b`], [2, `${topic}-c`]] });
        const first = await processKafkaEvent(batch, process);

        // Act
        const again = await processKafkaEvent(batch, process);

        // Assess
        expect(first.response.batchItemFailures).to.have.length(1);
        expect(again.response).to.deep.equal({ batchItemFailures: [] });
        expect(again.counts).to.deep.equal({ processed: 2, duplicate: 1, failed: 0, skipped: 0 });
        expect(recorder.calls.map((c) => c.eventId)).to.deep.equal([`${topic}-a`, `${topic}-b`, `${topic}-c`]);
    });

    it("GIVEN a record without a value THEN it fails as a malformed lane message (the mapping retries, then dead-letters it)", async () => {
        const topic = unique("esm-empty");
        const batch = event(topic, { 0: [[3, `${topic}-x`]] });
        delete (batch.records[`${topic}-0`][0] as Partial<MSKRecord>).value;
        const { response } = await processKafkaEvent(batch, processorFor(table, new CallRecorder().handler()));
        expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 3 } }] });
    });
});
