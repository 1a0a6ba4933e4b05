/**
 * The commands users run on their own machines: the consumer
 * (node dist/handlers/kafka/cli.js, stopped with SIGTERM) and
 * `npm run kafka:replay` (scripts/kafka-replay.ts), on the real broker with
 * a stack file of their own.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { CliUsageError, parseKafkaCliArgs } from "../../handlers/kafka/cli";
import { silentLogger } from "../../handlers/shared/logger";
import { runReplayCli } from "../../scripts/kafka-replay";
import { committedCount, createIdempotencyTable, createTopics, kafkaRuntime, laneMessage, produce, requireKafka, unique } from "./support/kafka";

describe("Kafka lane commands", function () {
    this.timeout(90_000);

    describe("arguments", () => {
        it("GIVEN nothing THEN every missing option is named with where to find it", () => {
            let error: unknown;
            try {
                parseKafkaCliArgs([], {}, { replay: true });
            } catch (err) {
                error = err;
            }
            expect(error).to.be.instanceOf(CliUsageError);
            expect((error as Error).message.split("\n")).to.deep.equal([
                "--lane <provider>-<lane> is required (e.g. stripe-default)",
                "--table is required (the idempotency table: `pulumi stack output idempotencyTable`, or set WEBHOOK_IDEMPOTENCY_TABLE)",
                "--bucket is required (the archive bucket: `pulumi stack output bucketName`, or set WEBHOOK_ARCHIVE_BUCKET)",
                "--brokers host:port[,host:port] is required (or set KAFKA_BROKERS)",
                "give exactly one of --from <ISO time> and --offset <n>",
            ]);
        });

        it("GIVEN SCRAM without a secret, a bad time, or a replay flag on the consumer THEN it says so", () => {
            const base = ["--lane", "a-default", "--table", "t", "--bucket", "b", "--brokers", "k:9092"];
            expect(() => parseKafkaCliArgs([...base, "--sasl", "scram-sha-512"])).to.throw(CliUsageError, "--secret-id is required with SCRAM");
            expect(() => parseKafkaCliArgs([...base, "--from", "yesterday"], {}, { replay: true })).to.throw(CliUsageError, "--from must be an ISO time such as 2024-05-17T12:00:00Z, got yesterday");
            expect(() => parseKafkaCliArgs([...base, "--from", "2024-05-17T12:00:00Z"])).to.throw(CliUsageError, "unknown argument --from");
        });

        it("GIVEN env fallbacks and MSK IAM THEN the options are complete and TLS is on", () => {
            const options = parseKafkaCliArgs(["--lane", "stripe-default", "--sasl", "aws-iam", "--offset=12", "--partition", "2"], { KAFKA_BROKERS: "b-1:9098, b-2:9098", WEBHOOK_IDEMPOTENCY_TABLE: "t", WEBHOOK_ARCHIVE_BUCKET: "b" }, { replay: true });
            expect(options).to.deep.include({ lane: "stripe-default", brokers: ["b-1:9098", "b-2:9098"], table: "t", bucket: "b", sasl: "aws-iam", offset: "12", partition: 2, stack: "dev", pipeline: "webhooks" });
        });

        it("GIVEN --stack-file THEN it is the same as --stack, and both at once is refused", () => {
            const base = ["--lane", "a-default", "--table", "t", "--bucket", "b", "--brokers", "k:9092"];
            expect(parseKafkaCliArgs([...base, "--stack-file", "stacks/Pulumi.x.yaml"]).stack).to.equal("stacks/Pulumi.x.yaml");
            expect(parseKafkaCliArgs([...base, "--stack", "prod"]).stack).to.equal("prod");
            expect(() => parseKafkaCliArgs([...base, "--stack", "prod", "--stack-file", "x.yaml"])).to.throw(CliUsageError, "give one of --stack and --stack-file");
        });
    });

    describe("on the broker", () => {
        let dir: string;
        let table: string;

        before(async function () {
            requireKafka(this);
            table = await createIdempotencyTable();
        });
        beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "kafka-cli-"))));
        afterEach(() => rmSync(dir, { recursive: true, force: true }));

        it("GIVEN a stack with a Kafka lane WHEN the consumer command runs THEN it processes the lane, and SIGTERM stops it with everything committed; WHEN replayed from a time THEN all are duplicates", async () => {
            // Prepare: a stack file of our own, and 12 events on the lane's topic
            const pipeline = unique("cli");
            const stack = join(dir, "Pulumi.cli.yaml");
            writeFileSync(stack, ["config:", "  webhook-pipeline:providers:", "    - name: acme", "      plugin: github", "      lane: kafka", "      concurrency: 2", ""].join("\n"));
            const topic = `${pipeline}.acme.default`;
            await createTopics([{ topic, partitions: 2 }]);
            const startedAt = new Date(Date.now() - 1000);
            await produce(topic, Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 4}`, value: laneMessage({ eventId: `${pipeline}-${i}`, orderingKey: `k${i % 4}` }) })));
            const args = ["--lane", "acme-default", "--stack", stack, "--pipeline", pipeline, "--table", table, "--bucket", "unused", "--brokers", kafkaRuntime().brokers.join(","), "--replication", "1"];

            // Act: the consumer command until it committed everything, then SIGTERM
            const consumer = spawn(process.execPath, [join(__dirname, "..", "..", "handlers", "kafka", "cli.js"), ...args], { env: process.env, stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            consumer.stderr.on("data", (chunk) => (stderr += chunk));
            const exited = new Promise<number | null>((resolve) => consumer.once("exit", (code) => resolve(code)));
            const group = `${topic}.workers`;
            for (let i = 0; i < 600 && (await committedCount(group, topic).catch(() => 0)) < 12; i++) await new Promise((r) => setTimeout(r, 100));
            consumer.kill("SIGTERM");
            const code = await exited;
            const lines: string[] = [];
            const replayCode = await runReplayCli([...args, "--from", startedAt.toISOString()], (line) => lines.push(line), silentLogger);

            // Assess
            expect(code, stderr).to.equal(0);
            expect(await committedCount(group, topic)).to.equal(12);
            expect(stderr).to.include('"message":"stopped"');
            expect(replayCode).to.equal(0);
            const { replayed } = JSON.parse(lines[lines.length - 1]);
            expect(replayed).to.deep.include({ lane: "acme-default", messages: 12, processed: 0, duplicates: 12, deadLettered: 0 });
            expect(JSON.parse(lines[0]).plan.partitions).to.have.length(2);
        });
    });
});
