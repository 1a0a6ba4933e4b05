/**
 * Run a Kafka lane's workers yourself: the consumer-group runner
 * (handlers/kafka/consumer.ts) as a command, on any machine that reaches the
 * brokers and AWS (DynamoDB for idempotency, S3 for claim-checked bodies).
 * Start as many as you like: the group splits the lane's partitions among
 * them, so together they never exceed the lane's concurrency. SIGTERM or
 * SIGINT stops one cleanly (in-flight calls finish, offsets are committed).
 *
 *   node dist/handlers/kafka/cli.js --lane stripe-default --table <idempotencyTable> --bucket <bucketName> \
 *        [--stack dev | --stack path/to/Pulumi.x.yaml] [--pipeline webhooks] [--topic name] [--group name] [--concurrency n] \
 *        [--brokers host:port,...] [--tls] [--sasl aws-iam|scram-sha-256|scram-sha-512] [--secret-id <scram secret>] [--region r]
 *
 * The lane's settings (topic, partitions, maxReceiveCount, timeout, handler)
 * come from the stack file, as the Pulumi program reads them; brokers from
 * `--brokers` or KAFKA_BROKERS; table and bucket from `pulumi stack output`
 * (`idempotencyTable`, `bucketName`) or WEBHOOK_IDEMPOTENCY_TABLE /
 * WEBHOOK_ARCHIVE_BUCKET. SCRAM credentials are read from the Secrets
 * Manager secret the deployment created, never from the command line.
 *
 * It loads no Pulumi: the stack file is read by model/stack-config.ts
 * (test/structure/layers.test.ts starts it in a fresh process to check).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { handlers } from "../app";
import { ConfigError, validateConfig } from "../../model/config";
import { buildPipelineModel, LaneModel } from "../../model/pipeline";
import type { KafkaRuntime, KafkaSaslRuntime } from "../../model/runtime-config";
import { loadStackFile } from "../../model/stack-config";
import { exitOnHelp } from "../shared/help";
import type { HandlerLogger } from "../shared/logger";
import { createLaneProcessor } from "../worker/worker";
import { KafkaDefaults } from "./constants";
import { ConsumerLane, LaneProcess, startLaneConsumer } from "./consumer";

export class CliUsageError extends Error {
    public readonly name = "CliUsageError";
}

export interface KafkaCliOptions {
    readonly lane: string;
    /** A stack name (`dev` -> Pulumi.dev.yaml in the project root) or a path to a stack file. @default "dev" */
    readonly stack: string;
    /** The Pulumi component's name (topics are `<pipeline>.<provider>.<lane>`). @default "webhooks" */
    readonly pipeline: string;
    readonly topic?: string;
    readonly group?: string;
    readonly concurrency?: number;
    readonly brokers: string[];
    readonly tls?: boolean;
    readonly sasl?: "aws-iam" | "scram-sha-256" | "scram-sha-512";
    readonly secretId?: string;
    readonly region?: string;
    readonly table: string;
    readonly bucket: string;
    readonly replication?: number;
    /** Replay only. */
    readonly from?: Date;
    readonly offset?: string;
    readonly partition?: number;
}

const valueFlags = ["lane", "stack", "stack-file", "pipeline", "topic", "group", "concurrency", "brokers", "sasl", "secret-id", "region", "table", "bucket", "replication", "from", "offset", "partition"] as const;
const replayOnly = ["from", "offset", "partition"];

/** What `--help` prints. */
export function kafkaCliUsage(options: { replay?: boolean } = {}): string {
    const command = options.replay ? "npm run kafka:replay --" : "node dist/handlers/kafka/cli.js";
    return [
        `usage: ${command} --lane <provider>-<lane> --table <idempotencyTable> --bucket <bucketName> --brokers host:port[,host:port]`,
        ...(options.replay ? ["         (--from <ISO time> | --offset <n>) [--partition p]"] : []),
        "         [--stack dev|path/to/Pulumi.x.yaml] [--pipeline webhooks] [--topic name] [--group name] [--concurrency n]",
        "         [--tls] [--sasl aws-iam|scram-sha-256|scram-sha-512] [--secret-id <scram secret>] [--region r] [--replication n]",
        "--stack: a stack name (dev for Pulumi.dev.yaml in the project root) or a path to a stack file (--stack-file is the same). Default: dev.",
        "Env fallbacks: KAFKA_BROKERS, WEBHOOK_IDEMPOTENCY_TABLE, WEBHOOK_ARCHIVE_BUCKET; AWS credentials and region as usual.",
    ].join("\n");
}

function wholeNumber(name: string, text: string, min: number): number {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new CliUsageError(`--${name} must be a whole number >= ${min}, got ${text}`);
    return n;
}

/** Parse the arguments of the consumer (`replay: false`) or replay command. Throws CliUsageError naming what is wrong. */
export function parseKafkaCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, options: { replay?: boolean } = {}): KafkaCliOptions {
    const values: Record<string, string> = {};
    let tls: boolean | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") continue;
        if (arg === "--tls") {
            tls = true;
            continue;
        }
        const [flag, inline] = arg.startsWith("--") ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
        if (!flag || !(valueFlags as readonly string[]).includes(flag) || (!options.replay && replayOnly.includes(flag))) {
            throw new CliUsageError(`unknown argument ${arg} (known: ${valueFlags.filter((f) => options.replay || !replayOnly.includes(f)).map((f) => `--${f}`).join(", ")}, --tls)`);
        }
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith("--")) throw new CliUsageError(`--${flag} needs a value`);
        values[flag] = value;
    }
    const problems: string[] = [];
    if (!values.lane) problems.push("--lane <provider>-<lane> is required (e.g. stripe-default)");
    const table = values.table ?? env.WEBHOOK_IDEMPOTENCY_TABLE;
    if (!table) problems.push("--table is required (the idempotency table: `pulumi stack output idempotencyTable`, or set WEBHOOK_IDEMPOTENCY_TABLE)");
    const bucket = values.bucket ?? env.WEBHOOK_ARCHIVE_BUCKET;
    if (!bucket) problems.push("--bucket is required (the archive bucket: `pulumi stack output bucketName`, or set WEBHOOK_ARCHIVE_BUCKET)");
    const brokers = (values.brokers ?? env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);
    if (brokers.length === 0) problems.push("--brokers host:port[,host:port] is required (or set KAFKA_BROKERS)");
    const sasl = values.sasl as KafkaCliOptions["sasl"];
    if (sasl && !["aws-iam", "scram-sha-256", "scram-sha-512"].includes(sasl)) problems.push(`--sasl must be aws-iam, scram-sha-256 or scram-sha-512, got ${sasl}`);
    if (sasl?.startsWith("scram") && !values["secret-id"]) problems.push("--secret-id is required with SCRAM (the Secrets Manager secret holding {\"username\", \"password\"}; passwords are never taken on the command line)");
    if (options.replay && (values.from === undefined) === (values.offset === undefined)) problems.push("give exactly one of --from <ISO time> and --offset <n>");
    const from = values.from === undefined ? undefined : new Date(values.from);
    if (from && Number.isNaN(from.getTime())) problems.push(`--from must be an ISO time such as 2024-05-17T12:00:00Z, got ${values.from}`);
    if (values.offset !== undefined && !/^\d+$/.test(values.offset)) problems.push(`--offset must be a whole number >= 0, got ${values.offset}`);
    if (values.stack !== undefined && values["stack-file"] !== undefined) problems.push("give one of --stack and --stack-file (they are the same: a stack name or a path to a stack file)");
    if (problems.length) throw new CliUsageError(problems.join("\n"));
    return {
        lane: values.lane,
        stack: values.stack ?? values["stack-file"] ?? "dev",
        pipeline: values.pipeline ?? "webhooks",
        topic: values.topic,
        group: values.group,
        concurrency: values.concurrency === undefined ? undefined : wholeNumber("concurrency", values.concurrency, 1),
        brokers,
        tls,
        sasl,
        secretId: values["secret-id"],
        region: values.region,
        table: table!,
        bucket: bucket!,
        replication: values.replication === undefined ? undefined : wholeNumber("replication", values.replication, 1),
        from,
        offset: values.offset,
        partition: values.partition === undefined ? undefined : wholeNumber("partition", values.partition, 0),
    };
}

/** The lane's model as the Pulumi program builds it from the stack file. Throws StackFileError when `--stack` names no stack file. */
export function laneFromStack(options: Pick<KafkaCliOptions, "lane" | "stack" | "pipeline">): LaneModel {
    const { file, values, problems } = loadStackFile(options.stack);
    const result = validateConfig(values);
    if (problems.length || !result.ok) throw new ConfigError([...problems, ...(result.ok ? [] : result.problems)]);
    const model = buildPipelineModel(result.config, options.pipeline);
    const lane = model.lanes.find((l) => l.id === options.lane);
    if (!lane) throw new CliUsageError(`no lane ${options.lane} in ${file} (lanes: ${model.lanes.map((l) => l.id).join(", ")})`);
    if (lane.kind !== "kafka") throw new CliUsageError(`lane ${lane.id} is an SQS lane (lane: kafka makes it a Kafka lane)`);
    return lane;
}

export function consumerLaneOf(lane: LaneModel, options: Pick<KafkaCliOptions, "topic">): ConsumerLane {
    return { id: lane.id, topic: options.topic ?? lane.topic!, partitions: lane.concurrency, maxReceiveCount: lane.maxReceiveCount, timeoutSeconds: lane.timeoutSeconds };
}

export function kafkaRuntimeOf(options: KafkaCliOptions): KafkaRuntime {
    const sasl: KafkaSaslRuntime | undefined =
        options.sasl === "aws-iam" ? { mechanism: "aws-iam", region: options.region } : options.sasl ? { mechanism: options.sasl, secretId: options.secretId! } : undefined;
    return { brokers: options.brokers, ssl: options.tls ?? Boolean(sasl), sasl, replicationFactor: options.replication ?? KafkaDefaults.externalReplicationFactor };
}

/** The lane processor with the lane's handler, on the deployment's table and bucket (AWS credentials and region from the environment). */
export function processorOf(lane: LaneModel, options: Pick<KafkaCliOptions, "table" | "bucket">, logger: HandlerLogger): LaneProcess {
    const handler = handlers[lane.handler];
    if (!handler) throw new CliUsageError(`lane ${lane.id} uses handler ${lane.handler}, which handlers/app does not register`);
    const endpoint = process.env.AWS_ENDPOINT_URL;
    return createLaneProcessor({
        config: { lane: lane.id, provider: lane.provider, bucket: options.bucket, idempotencyTable: options.table, idempotencyTtlSeconds: 7 * 24 * 3600, ordering: true },
        handler,
        s3: new S3Client({ forcePathStyle: Boolean(endpoint) }),
        dynamo: new DynamoDBClient({}),
        logger,
    });
}

/** One JSON line per log entry on stderr (stdout stays for results). */
export const stderrLogger: HandlerLogger = {
    info: (message, ...extra) => process.stderr.write(`${JSON.stringify({ level: "info", message, ...Object.assign({}, ...extra.filter((e) => e && typeof e === "object")) })}\n`),
    warn: (message, ...extra) => process.stderr.write(`${JSON.stringify({ level: "warn", message, ...Object.assign({}, ...extra.filter((e) => e && typeof e === "object")) })}\n`),
    error: (message, ...extra) => process.stderr.write(`${JSON.stringify({ level: "error", message, ...Object.assign({}, ...extra.filter((e) => e && typeof e === "object")) })}\n`),
};

/** The consumer command: runs until SIGTERM/SIGINT. Returns the exit code. */
export async function runConsumerCli(argv: readonly string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${kafkaCliUsage()}\n`);
        return 0;
    }
    let options: KafkaCliOptions;
    let lane: LaneModel;
    try {
        options = parseKafkaCliArgs(argv);
        lane = laneFromStack(options);
    } catch (err) {
        process.stderr.write(`kafka consumer: ${(err as Error).message}\n`);
        return 2;
    }
    const secrets = new SecretsManagerClient({});
    const consumer = await startLaneConsumer({
        kafka: kafkaRuntimeOf(options),
        lane: consumerLaneOf(lane, options),
        process: processorOf(lane, options, stderrLogger),
        groupId: options.group,
        concurrency: options.concurrency,
        secrets,
        logger: stderrLogger,
    });
    stderrLogger.info("consuming", { lane: lane.id, topic: consumerLaneOf(lane, options).topic, group: consumer.groupId, concurrency: options.concurrency ?? lane.concurrency });
    const stop = (signal: string) => {
        stderrLogger.info("stopping: finishing in-flight messages", { signal });
        void consumer.stop();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    try {
        await consumer.done;
        stderrLogger.info("stopped", { ...consumer.stats });
        return 0;
    } catch (err) {
        stderrLogger.error("the consumer crashed", { error: (err as Error).message });
        return 1;
    }
}

export const ConsumerUsage = `Usage: npm run kafka:consume -- --lane <provider>-<lane> --table <idempotencyTable> --bucket <bucketName> [options]
  Runs a Kafka lane's workers (a consumer group) on this machine; start as many as you like.
  --stack dev | --stack-file path.yaml   the lane's settings (default --stack dev)
  --brokers host:port,...                (or KAFKA_BROKERS)
  --pipeline NAME  --topic NAME  --group NAME  --concurrency N  --region R
  --tls  --sasl aws-iam|scram-sha-256|scram-sha-512  --secret-id <Secrets Manager secret for SCRAM>
Table and bucket: \`pulumi stack output idempotencyTable\` / \`bucketName\` (or WEBHOOK_IDEMPOTENCY_TABLE /
WEBHOOK_ARCHIVE_BUCKET). SIGTERM or SIGINT stops it cleanly.`;

if (require.main === module) {
    exitOnHelp(process.argv.slice(2), ConsumerUsage);
    runConsumerCli(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`kafka consumer: ${(err as Error).stack}\n`);
            process.exit(1);
        },
    );
}
