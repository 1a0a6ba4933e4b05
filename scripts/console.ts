/**
 * `npm run console -- --aws --outputs outputs.json`: the console page for a deployed stack.
 *
 *   node dist/scripts/console.js --aws --outputs outputs.json [--stack dev|path] [--port 8788]
 *                                [--host 127.0.0.1] [--allow-actions]
 *
 * Queue depths from SQS, counts and rates from the pipeline's CloudWatch metrics, DLQs,
 * with the usual AWS credentials and region (AWS_ENDPOINT_URL for an emulator). Read-only
 * unless `--allow-actions` is given; actions then need the token printed at start. The
 * local pipeline serves the same page itself: `npm start` prints its address.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { parseArgs } from "util";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "./node-support";
import { ConsoleApi } from "../local/console/api";
import { consoleLink } from "../local/console/local";
import { newToken } from "../local/console/security";
import { startConsoleServer } from "../local/console/server";
import { readStackOutputs, targetFromOutputs } from "../local/ops/target";
import { loadStackModel } from "../local/stack";

const Usage = `Usage: npm run console -- --aws --outputs outputs.json [--stack dev|path] [--port 8788] [--host 127.0.0.1] [--allow-actions]
  The console page for a deployed stack (pulumi stack output --json > outputs.json), with your AWS credentials:
  queue and DLQ depths, the pipeline's CloudWatch metrics of the last 15 minutes, the stack's drawing (--stack).
  Read-only unless --allow-actions is given (redrive, replay); actions need the token printed at start.
  --host binds another address than 127.0.0.1 (then that name is accepted in the Host header too).
  For the local pipeline there is nothing to start: npm start serves the console and prints its address.`;

class UsageError extends Error {
    public readonly name = "UsageError";
}

async function main(argv: string[]): Promise<number> {
    exitOnHelp(argv, Usage);
    quietSdkNodeWarning();
    let values;
    try {
        values = parseArgs({
            args: argv,
            options: {
                aws: { type: "boolean", default: false },
                outputs: { type: "string" },
                stack: { type: "string" },
                port: { type: "string", default: "8788" },
                host: { type: "string", default: "127.0.0.1" },
                "allow-actions": { type: "boolean", default: false },
            },
        }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    if (!values.aws) throw new UsageError("give --aws --outputs <file> for a deployed stack; npm start serves the console of the local pipeline itself (its banner prints the address)");
    if (!values.outputs) throw new UsageError("--aws needs --outputs <file> (pulumi stack output --json > outputs.json)");
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port}"`);
    const target = targetFromOutputs(readStackOutputs(values.outputs));
    const drawn = values.stack ? loadStackModel(values.stack) : undefined;
    const endpoint = process.env.AWS_ENDPOINT_URL_CLOUDWATCH ?? process.env.AWS_ENDPOINT_URL;
    const api = new ConsoleApi({
        target,
        stack: drawn?.stack ?? values.outputs,
        model: drawn?.model,
        cloudwatch: new CloudWatchClient(endpoint ? { endpoint } : {}),
        allowActions: values["allow-actions"],
    });
    const token = newToken();
    const server = await startConsoleServer({ api, token, host: values.host, port });
    console.log(
        [
            `webhook console ready at ${server.url}/ (deployed stack, ${target.providers.length} providers, ${target.lanes.length} SQS lanes)`,
            values["allow-actions"] ? `  actions allowed: open ${consoleLink(server.url, token)}` : "  read-only (start with --allow-actions to redrive and replay from the page)",
            "  Ctrl-C stops it.",
        ].join("\n"),
    );
    return new Promise<number>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server.stop().then(() => resolve(0)));
    });
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`console: ${err?.message ?? String(err)}\n`);
            if (err instanceof UsageError) process.stderr.write(`${Usage}\n`);
            process.exit(err instanceof UsageError ? 2 : 1);
        },
    );
}
