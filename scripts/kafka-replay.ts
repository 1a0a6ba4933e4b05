/**
 * `npm run kafka:replay -- --lane <provider-lane> --from <ISO time> | --offset <n> [--partition p] [--group name] ...`
 *
 * Re-consume a Kafka lane from a time or an offset with the lane's handler
 * (handlers/kafka/replay.ts): a fresh consumer group (or `--group`, which must
 * have no running members) starts there and runs until it reached the end
 * offsets of when the replay began. Events processed before are skipped by
 * idempotency; dead-lettered or never-processed ones run the handler.
 * Connection, table and bucket options are the consumer command's
 * (handlers/kafka/cli.ts). Prints the plan and the outcome as JSON on stdout.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { consumerLaneOf, kafkaCliUsage, kafkaRuntimeOf, KafkaCliOptions, laneFromStack, parseKafkaCliArgs, processorOf, stderrLogger } from "../handlers/kafka/cli";
import { replayLane } from "../handlers/kafka/replay";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "./node-support";
import type { HandlerLogger } from "../handlers/shared/logger";
import type { LaneModel } from "../model/pipeline";

export async function runReplayCli(argv: readonly string[], out: (line: string) => void = (line) => process.stdout.write(`${line}\n`), logger: HandlerLogger = stderrLogger): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        out(kafkaCliUsage({ replay: true }));
        return 0;
    }
    let options: KafkaCliOptions;
    let lane: LaneModel;
    try {
        options = parseKafkaCliArgs(argv, process.env, { replay: true });
        lane = laneFromStack(options);
    } catch (err) {
        process.stderr.write(`kafka:replay: ${(err as Error).message}\n`);
        return 2;
    }
    try {
        const result = await replayLane({
            kafka: kafkaRuntimeOf(options),
            lane: consumerLaneOf(lane, options),
            process: processorOf(lane, options, logger),
            from: options.from,
            offset: options.offset,
            partition: options.partition,
            groupId: options.group,
            secrets: new SecretsManagerClient({}),
            logger,
            onPlan: (plan) => out(JSON.stringify({ plan })),
        });
        const { stats } = result;
        out(JSON.stringify({ replayed: { lane: lane.id, group: result.groupId, messages: result.messages, processed: stats.processed, duplicates: stats.duplicates, deadLettered: stats.deadLettered } }));
        return 0;
    } catch (err) {
        process.stderr.write(`kafka:replay: ${(err as Error).message}\n`);
        return 1;
    }
}

const Usage = `Usage: npm run kafka:replay -- --lane <provider>-<lane> (--from <ISO time> | --offset <n>) [--partition p] [--group name] [options]
  Re-consumes a Kafka lane from a time or an offset with the lane's handler, until the end offsets of when
  the replay began. Events processed before are skipped by idempotency.
  Connection, table and bucket options are kafka:consume's (npm run kafka:consume -- --help).
Prints the plan and the outcome as JSON on stdout.`;

if (require.main === module) {
    exitOnHelp(process.argv.slice(2), Usage);
    quietSdkNodeWarning();
    runReplayCli(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`kafka:replay: ${(err as Error).stack}\n`);
            process.exit(1);
        },
    );
}
