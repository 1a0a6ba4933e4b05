/**
 * The router alone, in a process of its own (`local.js --only router`), beside
 * a pipeline started with `--without router`: the same stack, emulator and
 * resource prefix, so it polls the same catch-all queue, verifies with the
 * same secrets (WEBHOOK_SECRET_<NAME>, or the generated ones in the shared
 * local folder) and writes to the same bucket and lanes. Killing this process
 * is a router crash: the batches it was handling stay invisible until the
 * catch-all queue's visibility timeout and are then delivered again, as when
 * a Lambda invocation dies on AWS.
 *
 * Each batch report is posted to the pipeline's `POST /_control/router-report`
 * (`reportTo`), so its `/_status` counts quarantines, archives and routes as
 * when the router runs inside it. A report that cannot be posted is dropped
 * (it is a counter, not data): the archive is the record of what the router did.
 */
import type { RouterReport } from "../handlers/router/router";
import type { LocalLogger } from "./log";
import { createLocalLogger } from "./log";
import { createLocalResources, localClients, LocalResources } from "./resources";
import { RouterReportSink, startRouterRunner } from "./router-runner";
import { LocalStack, loadLocalStack } from "./stack";

export interface LocalRouterOptions {
    /** Stack name or stack file, as the pipeline was started with. @default "dev" */
    readonly stack?: string;
    /** The emulator the pipeline uses (required: a router alone has nothing to route without it). */
    readonly endpoint: string;
    /** Kafka brokers, for stacks with Kafka lanes. */
    readonly kafkaBrokers?: readonly string[];
    /** The pipeline's resource prefix. @default "local" */
    readonly prefix?: string;
    /** See LocalPipelineOptions.retryDelaySeconds. */
    readonly retryDelaySeconds?: number;
    /** The pipeline (`http://127.0.0.1:<port>`) whose /_status counts this router's batches. */
    readonly reportTo?: string;
    /** How long to keep trying the emulator at start (it may be restarting). @default 30000 */
    readonly waitForEmulatorMs?: number;
    readonly env?: NodeJS.ProcessEnv;
    readonly logger?: LocalLogger;
}

export interface LocalRouter {
    readonly stack: LocalStack;
    readonly endpoint: string;
    /** Batch reports posted to `reportTo`, and those that could not be. */
    readonly reports: { readonly posted: number; readonly dropped: number };
    /** Stop receiving, finish the batches in flight, post their reports. */
    stop(): Promise<void>;
}

/** Posts reports in order, one at a time, without holding up the router. */
function reportPoster(url: string, log: LocalLogger) {
    const counts = { posted: 0, dropped: 0 };
    let chain: Promise<void> = Promise.resolve();
    const post = async (report: RouterReport) => {
        try {
            const res = await fetch(`${url}/_control/router-report`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(report), signal: AbortSignal.timeout(5_000) });
            await res.arrayBuffer();
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            counts.posted += 1;
        } catch (err) {
            counts.dropped += 1;
            log.debug(`batch report not posted to ${url}`, err);
        }
    };
    const sink: RouterReportSink = { onRouterBatch: (report) => void (chain = chain.then(() => post(report))) };
    return { sink, counts, flush: () => chain };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLocalRouter(options: LocalRouterOptions): Promise<LocalRouter> {
    const env = options.env ?? process.env;
    const logger = options.logger ?? createLocalLogger();
    const log = logger.child("router-process");
    const stack = loadLocalStack(options.stack ?? "dev", env, options.prefix);
    const { model } = stack;
    if (model.usesKafka && !options.kafkaBrokers?.length) throw new Error("the stack has Kafka lanes: give the router the brokers (--kafka-brokers or KAFKA_BROKERS)");
    const clients = localClients(options.endpoint, env.AWS_REGION ?? "us-east-1");
    const kafka = model.usesKafka ? { brokers: options.kafkaBrokers!, ssl: false, replicationFactor: 1 } : undefined;

    // The resources exist (the pipeline made them); creating them again is idempotent and yields their names.
    const deadline = Date.now() + (options.waitForEmulatorMs ?? 30_000);
    let resources: LocalResources;
    for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
        try {
            resources = await createLocalResources(model, stack.secrets, clients, { kafka, handlerSecrets: stack.handlerSecrets });
            break;
        } catch (err) {
            if (Date.now() > deadline) throw err;
            log.warn(`the emulator at ${options.endpoint} is not answering yet; retrying`, err);
            await sleep(wait);
        }
    }
    const poster = options.reportTo ? reportPoster(options.reportTo, log) : undefined;
    const sink: RouterReportSink = poster?.sink ?? { onRouterBatch: () => undefined };
    const router = startRouterRunner({ model, resources, clients, stats: sink, logger, retryDelaySeconds: options.retryDelaySeconds });
    let stopping: Promise<void> | undefined;
    return {
        stack,
        endpoint: options.endpoint,
        get reports() {
            return { posted: poster?.counts.posted ?? 0, dropped: poster?.counts.dropped ?? 0 };
        },
        stop: () =>
            (stopping ??= (async () => {
                await router.stop();
                await poster?.flush();
            })()),
    };
}
