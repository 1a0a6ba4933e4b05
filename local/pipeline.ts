/**
 * The whole pipeline on this machine, from one stack config: the emulator
 * (moto, started here unless an endpoint is given), the resources the model
 * asks for (resources.ts), the router on the catch-all queue, a runner per
 * lane (lane-runners.ts), and the HTTP ingress on 127.0.0.1 with the admin
 * routes. `scripts/local.ts` (`npm start`) is the command around it.
 *
 * Stopping: the HTTP server stops taking requests, the pollers stop
 * receiving, the batches in flight finish (and are deleted), the state file
 * goes, and the emulator is stopped if it was started here.
 */
import type * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { handlers } from "../handlers/app";
import { KafkaBroker, startKafka } from "./services/kafka";
import { MotoServer, startMoto } from "./services/moto";
import { adminRoutes } from "./admin";
import { ConsoleMount, mountConsole } from "./console/local";
import { FailureSwitch } from "./failure-switch";
import { HandlerJournalEnv, journaled } from "./handler-journal";
import { createHttpIngress } from "./http-ingress";
import { cachedSecretReader } from "../handlers/shared/secrets";
import { checkLaneRunners, LaneRunner, laneRunners } from "./lane-runners";
import { createLocalLogger, LocalLogger } from "./log";
import { createLocalResources, localClients, LocalResources } from "./resources";
import { startRouterRunner } from "./router-runner";
import { LocalStack, loadLocalStack } from "./stack";
import { LocalState, LocalStateVersion, removeLocalState, writeLocalState } from "./state";
import { PipelineStats } from "./stats";
import { buildStatus, PipelineStatus } from "./status";
import { LanePauseState, UnknownLaneError } from "./admin";

export interface LocalPipelineOptions {
    /** Stack name (`dev` -> Pulumi.dev.yaml) or a stack file path. @default "dev" */
    readonly stack?: string;
    /** HTTP port on 127.0.0.1; 0 picks a free one. @default 8787 */
    readonly port?: number;
    /** Use this AWS emulator instead of starting moto (e.g. the one `npm test` started). */
    readonly endpoint?: string;
    /** Use these Kafka brokers instead of starting a broker (stacks with Kafka lanes). */
    readonly kafkaBrokers?: readonly string[];
    /** Prefix of every resource name and Kafka topic, so several pipelines can share one emulator or broker. @default "local" */
    readonly prefix?: string;
    /**
     * Seconds a failed message (router or worker) waits before it is delivered
     * again, so retries and the DLQ show quickly. The queues keep the model's
     * visibility timeout. @default the queue's visibility timeout, as on AWS
     */
    readonly retryDelaySeconds?: number;
    /** Write the state file `npm run ops` reads. @default true */
    readonly writeState?: boolean;
    /**
     * Run the router in this process. False leaves the catch-all queue to a
     * router in another process (`local.js --only router`, see router-process.ts),
     * which posts its batch reports to `POST /_control/router-report` so
     * `/_status` still counts them. @default true
     */
    readonly router?: boolean;
    readonly env?: NodeJS.ProcessEnv;
    readonly logger?: LocalLogger;
    /** The console's action token (local/console); a fresh random one when not given. */
    readonly consoleToken?: string;
}

export interface StartTimings {
    /** Starting (and on first run installing) the emulator and broker. */
    readonly servicesMs: number;
    /** Creating queues, bucket, table and secrets. */
    readonly resourcesMs: number;
    /** From the call to ready. */
    readonly totalMs: number;
}

export interface LocalPipeline {
    readonly stack: LocalStack;
    readonly url: string;
    readonly port: number;
    readonly endpoint: string;
    readonly resources: LocalResources;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
    /** Whether the router runs in this process (see LocalPipelineOptions.router). */
    readonly routerHere: boolean;
    /** The handler-call journal (WEBHOOK_HANDLER_JOURNAL), if one is written. */
    readonly journal?: string;
    readonly timings: StartTimings;
    /** Where the state file was written, if it was. */
    readonly stateFile?: string;
    /** The console page (`<url>/`) and the token its actions need. */
    readonly console: { readonly url: string; readonly token: string };
    status(): Promise<PipelineStatus>;
    /**
     * Pause (`true`) or resume lanes by id: the lane's runner stops taking messages (resolves once nothing of it
     * runs) or takes them again. What `POST /_control/pause` and `npm run ops -- pause|resume` call.
     */
    setPaused(lanes: readonly string[], paused: boolean): Promise<Record<string, LanePauseState>>;
    /** Clean shutdown; safe to call twice. */
    stop(): Promise<void>;
}

interface Services {
    readonly endpoint: string;
    readonly kafkaBrokers?: readonly string[];
    stop(): Promise<void>;
}

/** The emulator (and a broker when a lane needs one): given ones are used, missing ones started. */
async function startServices(stack: LocalStack, options: LocalPipelineOptions): Promise<Services> {
    const needKafka = stack.model.usesKafka && !options.kafkaBrokers?.length;
    const [moto, kafka] = await Promise.allSettled([
        options.endpoint ? Promise.resolve(undefined) : startMoto(),
        needKafka ? startKafka() : Promise.resolve(undefined),
    ] as [Promise<MotoServer | undefined>, Promise<KafkaBroker | undefined>]);
    const started = [moto, kafka].flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : []));
    const stop = async () => void (await Promise.all(started.map((s) => s.stop())));
    const failed = [moto, kafka].find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
        await stop();
        throw failed.reason;
    }
    const motoServer = (moto as PromiseFulfilledResult<MotoServer | undefined>).value;
    const broker = (kafka as PromiseFulfilledResult<KafkaBroker | undefined>).value;
    return { endpoint: options.endpoint ?? motoServer!.endpoint, kafkaBrokers: options.kafkaBrokers ?? broker?.brokers, stop };
}

function listen(server: http.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: "127.0.0.1", port }, () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const started = Date.now();
    const env = options.env ?? process.env;
    const logger = options.logger ?? createLocalLogger();
    const stack = loadLocalStack(options.stack ?? "dev", env, options.prefix);
    const { model } = stack;
    // Before anything starts: a lane nothing can run is a configuration problem.
    checkLaneRunners(model.lanes);
    const unreachable = model.lanes.filter((l) => l.destination && !l.destination.backends.includes("local"));
    if (unreachable.length) throw new Error(`the local pipeline cannot deliver to ${unreachable.map((l) => `lane ${l.id} (${l.destination!.url})`).join(", ")}`);

    const services = await startServices(stack, options);
    const servicesMs = Date.now() - started;
    const runners: LaneRunner[] = [];
    let router: { stop(): Promise<void> } | undefined;
    let consoleMount: ConsoleMount | undefined;
    let server: http.Server | undefined;
    let stateFile: string | undefined;
    const clients = localClients(services.endpoint, env.AWS_REGION ?? "us-east-1");

    let stopping: Promise<void> | undefined;
    const stop = () =>
        (stopping ??= (async () => {
            if (server) {
                const closed = new Promise((r) => server!.close(r));
                server.closeIdleConnections();
                await closed;
            }
            consoleMount?.stop();
            await Promise.all([router?.stop(), ...runners.map((r) => r.stop())]);
            if (stateFile) removeLocalState(process.pid, env);
            await services.stop();
        })());

    try {
        const kafka = model.usesKafka && services.kafkaBrokers ? { brokers: services.kafkaBrokers, ssl: false, replicationFactor: 1 } : undefined;
        const resources = await createLocalResources(model, stack.secrets, clients, { kafka, destinationSecrets: stack.destinationSecrets, handlerSecrets: stack.handlerSecrets });
        const resourcesMs = Date.now() - started - servicesMs;
        const providerNames = model.providers.map((p) => p.name);
        const stats = new PipelineStats(providerNames, Object.fromEntries(model.lanes.map((l) => [l.id, l.provider])));
        const failures = new FailureSwitch(providerNames, env);
        const journal = env[HandlerJournalEnv] ? path.resolve(env[HandlerJournalEnv]!) : undefined;
        const handlerOf = (lane: (typeof model.lanes)[number]) => {
            const handler = failures.wrap(handlers[lane.handler]);
            return journal ? journaled(handler, journal) : handler;
        };
        const routerHere = options.router ?? true;

        const starting = await Promise.allSettled(
            model.lanes.map((lane) => laneRunners[lane.kind]!({ lane, resources, clients, handler: handlerOf(lane), stats, logger, retryDelaySeconds: options.retryDelaySeconds })),
        );
        for (const r of starting) if (r.status === "fulfilled") runners.push(r.value);
        for (const r of runners) if (r.paused) stats.onPause(r.lane, true);
        const notStarted = starting.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (notStarted) throw notStarted.reason;
        if (routerHere) router = startRouterRunner({ model, resources, clients, stats, logger, retryDelaySeconds: options.retryDelaySeconds });

        let url = "";
        const status = () =>
            buildStatus({
                stack: stack.stack,
                url,
                startedAt: started,
                model,
                resources,
                sqs: clients.sqs,
                stats,
                failures,
                runner: (lane) => runners.find((r) => r.lane === lane),
            });
        const pauseState = (r: LaneRunner): LanePauseState => ({ paused: r.paused, ...(r.pausedAt !== undefined ? { pausedAt: new Date(r.pausedAt).toISOString() } : {}) });
        const setPaused = async (lanes: readonly string[], paused: boolean) => {
            const unknown = lanes.filter((id) => !runners.some((r) => r.lane === id));
            if (unknown.length) throw new UnknownLaneError(`unknown lane${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (lanes: ${runners.map((r) => r.lane).join(", ")})`);
            const picked = runners.filter((r) => lanes.includes(r.lane));
            await Promise.all(
                picked.map(async (r) => {
                    stats.onPause(r.lane, paused);
                    if (paused) await r.pause();
                    else r.resume();
                    logger.info(`lane ${r.lane} ${paused ? "paused: its messages are held in its queue" : "resumed"}`);
                }),
            );
            return Object.fromEntries(picked.map((r) => [r.lane, pauseState(r)]));
        };
        const sealKeys = cachedSecretReader(clients.secrets);
        const admin = adminRoutes({ status, stats, failures, routerReports: !routerHere, setPaused });
        server = createHttpIngress({
            sqs: clients.sqs,
            catchAllQueueUrl: resources.catchAll.queue.url,
            providers: model.providers,
            secrets: async (provider) => stack.secrets[provider] ?? [],
            sealKeys: () => sealKeys(resources.sealSecretId),
            extra: async (req, res) => (await admin(req, res)) || ((await consoleMount?.routes(req, res)) ?? false),
            onRequest: (provider, code, enqueued) => stats.onHttp(provider, code, enqueued),
        });
        const port = await listen(server, options.port ?? 8787);
        url = `http://127.0.0.1:${port}`;

        const state: LocalState = {
            v: LocalStateVersion,
            pid: process.pid,
            startedAt: new Date(started).toISOString(),
            stack: stack.stack,
            stackFile: stack.file,
            url,
            endpoint: services.endpoint,
            region: env.AWS_REGION ?? "us-east-1",
            prefix: model.name,
            bucket: resources.bucket,
            table: resources.table,
            sealSecretId: resources.sealSecretId,
            catchAll: resources.catchAll,
            providers: model.providers.map((p) => ({ name: p.name, plugin: p.plugin, url: `${url}${p.path}` })),
            lanes: model.lanes.map((l) => ({
                id: l.id,
                provider: l.provider,
                kind: l.kind,
                ordering: l.ordering,
                concurrency: l.concurrency,
                batchSize: l.batchSize,
                maxReceiveCount: l.maxReceiveCount,
                queue: resources.lanes[l.id]?.queue,
                dlq: resources.lanes[l.id]?.dlq,
                topic: l.topic,
                paused: l.paused,
            })),
        };
        if (options.writeState ?? true) stateFile = writeLocalState(state, env);
        consoleMount = mountConsole({ state, model, status, stats, failures, token: options.consoleToken });
        return {
            stack,
            url,
            port,
            endpoint: services.endpoint,
            resources,
            stats,
            failures,
            routerHere,
            journal,
            timings: { servicesMs, resourcesMs, totalMs: Date.now() - started },
            stateFile,
            console: { url: `${url}/`, token: consoleMount.token },
            status,
            setPaused,
            stop,
        };
    } catch (err) {
        await stop();
        throw err;
    }
}
