/**
 * `npm start` (after install and build): the whole pipeline on this machine.
 *
 *   node dist/scripts/local.js [--stack dev|path/to/Pulumi.x.yaml] [--port 8787]
 *                              [--visibility-timeout SECONDS] [--prefix NAME] [--endpoint URL] [--kafka-brokers host:port,...]
 *                              [--without router | --only router [--report-to URL]]
 *
 * The router in a process of its own (so it can crash on its own, as a Lambda
 * invocation does): start the pipeline with `--without router`, then the
 * router with `--only router --endpoint <the pipeline's emulator> --report-to
 * <the pipeline's URL>` and the same --stack, --prefix and secrets (or the same
 * WEBHOOK_PIPELINE_LOCAL_DIR, which holds the generated ones). `--only router`
 * prints `webhook router ready (...)` once it polls.
 *
 * Environment: PORT (default 8787); LOCAL_VISIBILITY_TIMEOUT_SECONDS (or
 * --visibility-timeout: a failed message becomes visible again after that many
 * seconds instead of the queue's 6x-timeout visibility, so retries and the DLQ
 * show within seconds; default 5, `deployed` keeps each queue's own visibility
 * as on AWS; the queues themselves keep the model's visibility, so a batch
 * that runs long is never delivered twice);
 * AWS_ENDPOINT_URL or --endpoint (use that emulator instead of starting moto,
 * as the tests do); KAFKA_BROKERS or --kafka-brokers (stacks with Kafka lanes:
 * use those brokers instead of starting one); WEBHOOK_SECRET_<NAME> (a provider's signing secret; otherwise one is
 * generated and printed); WEBHOOK_HANDLER_SECRET_<PROVIDER>[_<LANE>]_<NAME> (a handler secret's local value, read
 * through context.secrets; otherwise one is generated and kept in handler-secrets.json, see docs/handlers.md); WEBHOOK_FAIL_<NAME>=1 (that provider's handler
 * fails, to watch the DLQ fill); WEBHOOK_FAIL_RATE=0.05 and WEBHOOK_FAIL_SEED=<n> (every handler
 * call fails at random with that probability, for drills); WEBHOOK_HANDLER_JOURNAL=<file> (append
 * one JSON line per handler call, see local/handler-journal.ts); WEBHOOK_PIPELINE_LOCAL_DIR (where the state
 * and generated secrets live, default .cache/local); POWERTOOLS_LOG_LEVEL.
 *
 * Prints `webhook pipeline ready at <url>` on stdout once it takes requests.
 * SIGINT (Ctrl-C) or SIGTERM: stop taking requests and receiving, finish the
 * batches in flight, stop moto, exit 0.
 */
import { parseArgs } from "util";
import { exitOnHelp } from "../handlers/shared/help";
import { nodeSupportNote, quietSdkNodeWarning } from "./node-support";
import { failEnvName } from "../local/failure-switch";
import { consoleLink } from "../local/console/local";
import { createLocalLogger } from "../local/log";
import { LocalPipeline, startLocalPipeline } from "../local/pipeline";
import { startLocalRouter } from "../local/router-process";
import { handlerSecretsFile, secretEnvName, secretsFile } from "../local/stack";
import type { LaneModel } from "../model/pipeline";

/** One line per lane whose worker has settings beyond the defaults, saying what applies locally. */
function workerSettingsLines(lanes: readonly LaneModel[]): string[] {
    return lanes.flatMap((l) => {
        const w = l.worker;
        const here = [
            ...(Object.keys(w.environment).length ? [`env ${Object.keys(w.environment).join(", ")}`] : []),
            ...(w.secrets.length ? [`secrets ${w.secrets.map((s) => s.name).join(", ")}`] : []),
        ];
        const awsOnly = [...(w.vpc ? ["vpc"] : []), ...(w.tracing ? ["tracing"] : []), ...(w.permissions.length ? ["permissions"] : [])];
        if (!here.length && !awsOnly.length) return [];
        return [`    ${l.id}: ${[...here, ...(awsOnly.length ? [`(AWS only: ${awsOnly.join(", ")})`] : [])].join("; ")}`];
    });
}

const Usage = `Usage: npm start [-- options]   (or node dist/scripts/local.js [options])
  The whole pipeline on this machine: moto (SQS, S3, DynamoDB, Secrets Manager), Kafka when a lane needs it,
  the HTTP edge, the router and every lane's worker, with the handlers of the stack file.
  --stack dev|path/to/Pulumi.x.yaml   stack file (default dev)
  --port N                            HTTP port (default PORT or 8787)
  --visibility-timeout SECONDS|deployed
                                      how soon a failed message is delivered again: default 5 s locally, so
                                      retries and the DLQ show within a minute; "deployed" keeps each queue's
                                      own visibility (6x the worker timeout), as on AWS
                                      (or LOCAL_VISIBILITY_TIMEOUT_SECONDS)
  --prefix NAME                       resource name prefix (default local)
  --endpoint URL                      use this AWS emulator instead of starting moto (or AWS_ENDPOINT_URL)
  --kafka-brokers host:port,...       use these brokers instead of starting Kafka (or KAFKA_BROKERS)
  --without router | --only router [--report-to URL]   the router in a process of its own
Environment: WEBHOOK_SECRET_<NAME>, WEBHOOK_FAIL_<NAME>=1, WEBHOOK_FAIL_RATE, WEBHOOK_FAIL_SEED,
  WEBHOOK_HANDLER_JOURNAL, WEBHOOK_PIPELINE_LOCAL_DIR, POWERTOOLS_LOG_LEVEL (see scripts/local.ts).
Ctrl-C stops everything.`;

/** Seconds before a failed message is delivered again locally, unless told otherwise (see retryDelayOf). */
export const LocalRetryDelaySeconds = 5;

/**
 * The local retry delay: `--visibility-timeout` / LOCAL_VISIBILITY_TIMEOUT_SECONDS in seconds, `deployed` for each
 * queue's own visibility (undefined: the poller leaves it alone), else LocalRetryDelaySeconds. With the deployed
 * timing, the README's "break a handler" walkthrough takes acme's 8 receives x 180 s = 24 minutes to reach the DLQ.
 */
export function retryDelayOf(value: string | undefined): number | undefined {
    if (value === undefined || value === "") return LocalRetryDelaySeconds;
    if (value === "deployed") return undefined;
    const n = positive(value, "--visibility-timeout / LOCAL_VISIBILITY_TIMEOUT_SECONDS");
    return n;
}

/** The banner's retry line. */
export function retryLine(retryDelaySeconds: number | undefined): string {
    return retryDelaySeconds === undefined
        ? "  retries: each queue's own visibility timeout, as deployed (6x the worker timeout)"
        : `  retries: a failed message is delivered again after ${retryDelaySeconds} s (local timing; --visibility-timeout deployed uses each queue's own, as on AWS)`;
}

/** What a lane's messages end in: its handler module, or its destination (with its rate limit). */
function laneTarget(l: Pick<LaneModel, "handler" | "destination">): string {
    const d = l.destination;
    return d ? `destination ${d.method} ${d.url}${d.rateLimitPerSecond ? ` at ${d.rateLimitPerSecond}/s` : ""}` : `handler ${l.handler}`;
}

/** The banner's lane table: one row per lane; `target` is what the lane's messages end in. */
export function laneTable(lanes: readonly Pick<LaneModel, "id" | "kind" | "ordering" | "concurrency" | "maxReceiveCount" | "handler" | "destination">[]): string[] {
    const rows = [
        ["lane", "kind", "workers", "tries", "target"],
        ...lanes.map((l) => [l.id, l.kind === "kafka" ? "kafka" : l.ordering ? "sqs fifo" : "sqs", String(l.concurrency), String(l.maxReceiveCount), laneTarget(l)]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => `    ${r.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd()}`);
}

/** How long a stop may wait for batches in flight before it gives up. */
const StopGraceMs = 30_000;

/** The parts of the pipeline that can run in a process of their own. */
const Parts = ["router"] as const;

function part(value: string | undefined, flag: string): "router" | undefined {
    if (value === undefined) return undefined;
    if (!(Parts as readonly string[]).includes(value)) throw new Error(`${flag} takes ${Parts.join(" or ")}, not "${value}"`);
    return value as "router";
}

function positive(value: string | undefined, what: string): number | undefined {
    if (value === undefined || value === "") return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number, not "${value}"`);
    return n;
}

function banner(pipeline: LocalPipeline, startedMoto: boolean, retryDelaySeconds: number | undefined): string {
    const { model } = pipeline.stack;
    const width = Math.max(...model.providers.map((p) => p.name.length));
    const lines = [
        `webhook pipeline ready at ${pipeline.url} (stack ${pipeline.stack.stack}, ${(pipeline.timings.totalMs / 1000).toFixed(1)} s)`,
        `  emulator: ${pipeline.endpoint}${startedMoto ? " (moto, started here)" : " (given)"}`,
        `  console: ${consoleLink(pipeline.console.url, pipeline.console.token)}   (open it in a browser; its actions need this token)`,
        ...[nodeSupportNote()].filter((n) => n !== undefined).map((n) => `  ${n}`),
        retryLine(retryDelaySeconds),
        ...(pipeline.routerHere ? [] : [`  router: not in this process; start it with --only router --endpoint ${pipeline.endpoint} --report-to ${pipeline.url} (same --stack, --prefix, secrets)`]),
        ...(pipeline.failures.rate > 0 ? [`  handlers fail at random: ${pipeline.failures.rate} of calls (seed ${pipeline.failures.seed})`] : []),
        ...(pipeline.journal ? [`  handler journal: ${pipeline.journal}`] : []),
        "  providers:",
        ...model.providers.map((p) => {
            const failing = pipeline.failures.failing(p.name) ? `  [handler failing: ${failEnvName(p.name)}]` : "";
            return `    ${p.name.padEnd(width)}  POST ${pipeline.url}${p.path}${failing}`;
        }),
        "  lanes:",
        ...laneTable(model.lanes),
    ];
    if (pipeline.stack.generated.length) {
        lines.push(`  development secrets (generated, kept in ${secretsFile()}; set WEBHOOK_SECRET_<NAME> to use your own):`);
        for (const name of pipeline.stack.generated) lines.push(`    ${secretEnvName(name)}=${pipeline.stack.secrets[name].join(",")}`);
    }
    if (pipeline.stack.generatedDestination.length) {
        lines.push(`  destination secrets (generated, kept in ${secretsFile()}; set these variables to use your own):`);
        for (const g of pipeline.stack.generatedDestination) lines.push(`    ${g.env}=${g.value}`);
    }
    const settings = workerSettingsLines(model.lanes);
    if (settings.length) {
        lines.push("  worker settings (here: environment as context.env, secrets through context.secrets from the emulator; memory, log retention, tracing, permissions and vpc apply on AWS only):", ...settings);
    }
    if (pipeline.stack.generatedHandlerSecrets.length) {
        lines.push(`  handler secrets (generated, kept in ${handlerSecretsFile()}; set these to use your own):`);
        for (const name of pipeline.stack.generatedHandlerSecrets) lines.push(`    ${name}`);
    }
    lines.push(
        "  try:",
        `    npm run send -- ${model.providers[0].name}`,
        `    curl -s ${pipeline.url}/_status`,
        "    npm run ops -- status",
        `    curl -s -X POST '${pipeline.url}/_control/fail?provider=${model.providers[0].name}&on=true'   # break a handler; on=false heals it`,
        "  Ctrl-C stops everything.",
    );
    return lines.join("\n");
}

async function main(): Promise<number> {
    exitOnHelp(process.argv.slice(2), Usage);
    quietSdkNodeWarning();
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "dev" },
            port: { type: "string" },
            prefix: { type: "string" },
            endpoint: { type: "string" },
            "kafka-brokers": { type: "string" },
            "visibility-timeout": { type: "string" },
            only: { type: "string" },
            without: { type: "string" },
            "report-to": { type: "string" },
        },
    });
    const only = part(values.only, "--only");
    const without = part(values.without, "--without");
    if (only && without) throw new Error("--only and --without exclude each other");
    if (values["report-to"] && !only) throw new Error("--report-to goes with --only router");
    const port = positive(values.port ?? process.env.PORT, "--port / PORT") ?? 8787;
    const retryDelaySeconds = retryDelayOf(values["visibility-timeout"] ?? process.env.LOCAL_VISIBILITY_TIMEOUT_SECONDS);
    const endpoint = values.endpoint ?? (process.env.AWS_ENDPOINT_URL || undefined);
    const brokers = (values["kafka-brokers"] ?? process.env.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()).filter(Boolean);

    // Interrupted while starting: exit at once (the service module's exit hook kills what was started).
    const interrupt = () => process.exit(130);
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);

    let stoppable: { stop(): Promise<void> };
    if (only === "router") {
        if (!endpoint) throw new Error("--only router needs the pipeline's emulator: --endpoint URL (or AWS_ENDPOINT_URL)");
        const router = await startLocalRouter({ stack: values.stack, endpoint, prefix: values.prefix, kafkaBrokers: brokers.length ? brokers : undefined, retryDelaySeconds, reportTo: values["report-to"], logger: createLocalLogger() });
        console.log(`webhook router ready (pid ${process.pid}, stack ${router.stack.stack}, emulator ${endpoint}${values["report-to"] ? `, reporting to ${values["report-to"]}` : ""})`);
        stoppable = router;
    } else {
        const pipeline = await startLocalPipeline({ stack: values.stack, port, prefix: values.prefix, endpoint, kafkaBrokers: brokers.length ? brokers : undefined, retryDelaySeconds, router: without !== "router", logger: createLocalLogger() });
        console.log(banner(pipeline, !endpoint, retryDelaySeconds));
        stoppable = pipeline;
    }

    // From here on this process owns shutdown: the service module's signal hooks would
    // kill moto at once, before the batches in flight could finish and be deleted.
    return new Promise<number>((resolve) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
            signals += 1;
            if (signals > 1) {
                process.stderr.write(`${signal} again: exiting without waiting\n`);
                process.exit(130);
            }
            process.stderr.write(`${signal}: stopping (finishing batches in flight)...\n`);
            const giveUp = setTimeout(() => {
                process.stderr.write(`batches still running after ${StopGraceMs / 1000} s: exiting without them\n`);
                process.exit(1);
            }, StopGraceMs);
            stoppable.stop().then(
                () => {
                    clearTimeout(giveUp);
                    process.stderr.write("stopped cleanly\n");
                    resolve(0);
                },
                (err: Error) => {
                    clearTimeout(giveUp);
                    process.stderr.write(`stop failed: ${err.message}\n`);
                    resolve(1);
                },
            );
        };
        for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
            process.removeAllListeners(signal);
            process.on(signal, onSignal);
        }
    });
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`npm start: ${err?.message ?? String(err)}\n`);
            process.exit(1);
        },
    );
}
