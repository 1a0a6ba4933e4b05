/**
 * A consumer process for the crash and shutdown tests (forked by
 * test/kafka/consumer.test.ts, not a test itself). It runs the lane consumer
 * runner with a handler that appends each event id to a file when it starts
 * (`callsFile`) and when it finished its work (`doneFile`), and at call
 * `stopAtCall` sends itself `signal` from inside the handler:
 * SIGKILL dies on the spot (mid-handler, mid-batch); SIGTERM goes through the
 * same graceful stop as the CLI.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { appendFileSync } from "fs";
import { startLaneConsumer } from "../../../handlers/kafka/consumer";
import { createLaneProcessor } from "../../../handlers/worker/worker";

export interface ChildConfig {
    readonly brokers: string[];
    readonly topic: string;
    readonly partitions: number;
    readonly groupId: string;
    readonly table: string;
    readonly callsFile: string;
    readonly doneFile: string;
    readonly stopAtCall: number;
    readonly signal: "SIGKILL" | "SIGTERM";
    readonly delayMs: number;
    readonly timeoutSeconds: number;
    readonly commitEveryMessages: number;
}

async function main(): Promise<void> {
    const config = JSON.parse(process.env.WP_CHILD ?? "{}") as ChildConfig;
    let calls = 0;
    const laneProcess = createLaneProcessor({
        config: { lane: "acme-default", provider: "acme", bucket: "unused", idempotencyTable: config.table, idempotencyTtlSeconds: 3600 },
        s3: new S3Client({ forcePathStyle: true }),
        dynamo: new DynamoDBClient({}),
        handler: async (event) => {
            appendFileSync(config.callsFile, `${event.eventId}\n`);
            calls += 1;
            if (calls === config.stopAtCall) process.kill(process.pid, config.signal);
            await new Promise((r) => setTimeout(r, config.delayMs));
            appendFileSync(config.doneFile, `${event.eventId}\n`);
        },
    });
    const consumer = await startLaneConsumer({
        kafka: { brokers: config.brokers, ssl: false, replicationFactor: 1 },
        lane: { id: "acme-default", topic: config.topic, partitions: config.partitions, maxReceiveCount: 3, timeoutSeconds: config.timeoutSeconds },
        process: laneProcess,
        groupId: config.groupId,
        commitEveryMessages: config.commitEveryMessages,
        // The broker's minimum: a killed member's partitions move on after 6 s instead of 30 s.
        sessionTimeoutMs: 6_000,
    });
    process.once("SIGTERM", () => {
        consumer.stop().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    });
    await consumer.done;
}

main().catch((err) => {
    process.stderr.write(`consumer-child: ${(err as Error).stack}\n`);
    process.exit(2);
});
