/**
 * Lane runners: what runs a lane's workers locally, one kind of runner per
 * lane kind. An SQS lane gets a worker pool that behaves like the Lambda
 * event source mapping on AWS (see sqs-poller.ts) and runs the worker's own
 * code: createLaneProcessor (idempotency, claim checks) under Powertools
 * batch processing (partial batch failures; FIFO lanes stop at the first
 * failure of a message group), exactly as handlers/worker/lambda.ts does.
 *
 * A Kafka lane runs the consumer-group runner of handlers/kafka/consumer.ts
 * (partitions = the lane's concurrency, retries then the `<topic>.dlq`
 * topic) around the same lane processor. A lane kind without a runner fails
 * the start, naming the lanes, before anything is started.
 */
import { AsyncLocalStorage } from "async_hooks";
import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context, SQSRecord } from "aws-lambda";
import type { WebhookHandler } from "../handlers/app/types";
import { startLaneConsumer } from "../handlers/kafka/consumer";
import { handlerSecrets } from "../handlers/shared/handler-secrets";
import { createLaneProcessor, Outcome, ProcessOptions } from "../handlers/worker/worker";
import { sqsRecordHandler } from "../handlers/worker/sqs-record";
import { createPacer, createPacerPool, laneHandler, Pacer, paceLimitOf } from "../handlers/destination";
import { cachedSecretReader } from "../handlers/shared/secrets";
import { paceLimitFor } from "../model/pipeline";
import { parseLaneMessage } from "../model/lane-message";
import type { LaneKind, LaneModel } from "../model/pipeline";
import type { LocalLogger } from "./log";
import type { LocalClients, LocalResources } from "./resources";
import { toLambdaEvent } from "./sqs-event";
import { startPoller } from "./sqs-poller";
import { lambdaContext } from "./lambda-context";
import type { PipelineStats } from "./stats";

export interface LaneRunner {
    readonly lane: string;
    /** Handler batches (Kafka: handler calls) running now, at most the lane's concurrency. */
    readonly inFlight: number;
    /** Kafka lanes: messages published to the dead-letter topic since start (SQS lanes: see the DLQ's depth). */
    readonly deadLettered?: number;
    /** Stop taking work and wait for the batches in flight. */
    stop(): Promise<void>;
    /** The lane takes no messages now (configured `paused`, or `ops pause`). */
    readonly paused: boolean;
    /** When the lane was paused (epoch ms): at start for a lane configured paused. */
    readonly pausedAt?: number;
    /**
     * Take no more messages (SQS: stop receiving; Kafka: pause the consumer): what disabling the event source mapping
     * does on AWS. Resolves once nothing of the lane runs. Messages wait in the queue or topic.
     */
    pause(): Promise<void>;
    /** Take messages again. */
    resume(): void;
}

/** The pause part of a runner around a poller or consumer with pause/resume. */
function pauseControl(inner: { readonly paused: boolean; pause(): Promise<void>; resume(): void }, startedPaused: boolean) {
    let pausedAt = startedPaused ? Date.now() : undefined;
    return {
        get paused() {
            return inner.paused;
        },
        get pausedAt() {
            return pausedAt;
        },
        async pause() {
            if (!inner.paused) pausedAt = Date.now();
            await inner.pause();
        },
        resume() {
            pausedAt = undefined;
            inner.resume();
        },
    };
}

export interface LaneRunnerContext {
    readonly lane: LaneModel;
    readonly resources: LocalResources;
    readonly clients: LocalClients;
    readonly handler: WebhookHandler;
    readonly stats: PipelineStats;
    readonly logger: LocalLogger;
    /** See PollerOptions.retryDelaySeconds (SQS lanes). */
    readonly retryDelaySeconds?: number;
}

export type LaneRunnerFactory = (context: LaneRunnerContext) => Promise<LaneRunner>;

export class LaneRunnerMissingError extends Error {
    public readonly name = "LaneRunnerMissingError";
}

/** The Lambda context a lane's handler gets here: the lane's timeout as the remaining time. */
function invocationContext(lane: LaneModel): Context {
    return lambdaContext(`local-worker-${lane.id}`, { timeoutMs: lane.timeoutSeconds * 1000 });
}

/**
 * The lane processor, its outcomes counted in `stats`. A destination lane delivers instead of calling the
 * handler module (handlers/destination), paced by the pacer `pacer` gives for the current call.
 */
function countedProcessor({ lane, resources, clients, handler, stats }: LaneRunnerContext, log: LocalLogger, pacer?: () => Pacer | undefined): (text: string, options?: ProcessOptions) => Promise<Outcome> {
    const config = resources.workers[lane.id];
    const own = laneHandler(config, handler, { secrets: () => cachedSecretReader(clients.secrets), onAttempt: (r) => stats.onDelivery(r), pacer });
    // Handler secrets from the emulator's Secrets Manager, through the same context API as on AWS.
    const secrets = handlerSecrets(config.secrets ?? {}, () => clients.secrets, config.secretMaxAgeSeconds);
    const process_ = createLaneProcessor({ config, handler: own.handler, s3: clients.s3, dynamo: clients.dynamo, logger: log, secrets });
    return async (text, options = {}) => {
        const attempt = options.attempt ?? 1;
        try {
            const outcome = await process_(text, options);
            stats.onWorker(parseLaneMessage(text), outcome, attempt);
            return outcome;
        } catch (err) {
            const next = attempt >= lane.maxReceiveCount ? "that was the last attempt: it moves to the DLQ" : "the message will be retried";
            log.warn(`handler failed; ${next}`, { attempt, maxReceiveCount: lane.maxReceiveCount }, err);
            try {
                stats.onWorker(parseLaneMessage(text), "failed", attempt, err as Error);
            } catch {
                // an unreadable lane message: nothing to count it under
            }
            throw err;
        }
    };
}

export async function startSqsLaneRunner(context: LaneRunnerContext): Promise<LaneRunner> {
    const { lane, resources, clients, logger, retryDelaySeconds } = context;
    const queue = resources.lanes[lane.id];
    if (!queue) throw new LaneRunnerMissingError(`lane ${lane.id} has no local queue`);
    const log = logger.child(`worker ${lane.id}`);
    // One pacer per concurrent batch, as each Lambda invocation of a rate-limited lane has its own (pace.ts).
    const pacers = createPacerPool(lane.concurrency, paceLimitOf(resources.workers[lane.id].destination));
    const current = new AsyncLocalStorage<Pacer>();
    const process_ = countedProcessor(context, log, () => current.getStore());
    // Messages whose retry delay the worker set (retry schedule, Retry-After): the local shortcut leaves them alone.
    const delayed = new Set<string>();
    const handleRecord = sqsRecordHandler({ config: resources.workers[lane.id], sqs: () => clients.sqs, process: process_, logger: log, onDelaySet: (id) => delayed.add(id) });
    const poller = startPoller({
        sqs: clients.sqs,
        queueUrl: queue.queue.url,
        batchSize: lane.batchSize,
        batchWindowSeconds: lane.batchWindowSeconds,
        concurrency: lane.concurrency,
        paused: lane.paused,
        retryDelaySeconds,
        delaySetByHandler: (id) => delayed.delete(id),
        onError: (err, what) => log.error(`${what} failed`, err),
        async handle(messages) {
            const invocation = invocationContext(lane);
            const processor = lane.ordering ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);
            const recordHandler = async (record: SQSRecord) => {
                if ((await handleRecord(record, invocation)) === "dead-lettered") {
                    try {
                        context.stats.onWorker(parseLaneMessage(record.body), "dead-lettered", Number(record.attributes.ApproximateReceiveCount) || 1);
                    } catch {
                        // unreadable: not a destination's answer
                    }
                }
            };
            const pacer = pacers.take();
            try {
                // Every record failing is a normal outcome (retry, then DLQ), not an invocation error. One record at a time:
                // the lane's concurrency bounds handler calls (your database's connections), not batches of them.
                const response = await current.run(pacer, () =>
                    processPartialResponse(toLambdaEvent(messages, queue.queue.arn), recordHandler, processor, { context: invocation, throwOnFullBatchFailure: false, ...(lane.ordering ? {} : { processInParallel: false }) }),
                );
                return response.batchItemFailures.map((f) => f.itemIdentifier);
            } finally {
                // Back to the pool at once: the pacer keeps its next start time, so whichever batch takes it waits for it
                // at its first start (a Lambda invocation cannot hand its pacer over, and waits out its pace instead).
                pacers.give(pacer);
            }
        },
    });
    const control = pauseControl(poller, lane.paused);
    return {
        lane: lane.id,
        get inFlight() {
            return poller.inFlight;
        },
        get paused() {
            return control.paused;
        },
        get pausedAt() {
            return control.pausedAt;
        },
        pause: () => control.pause(),
        resume: () => control.resume(),
        stop: () => poller.stop(),
    };
}

export async function startKafkaLaneRunner(context: LaneRunnerContext): Promise<LaneRunner> {
    const { lane, resources, logger } = context;
    const kafka = resources.router.kafka;
    if (!kafka || !lane.topic) throw new LaneRunnerMissingError(`lane ${lane.id} is a Kafka lane but the local pipeline has no Kafka brokers`);
    const log = logger.child(`worker ${lane.id}`);
    // Locally one group member owns every partition: it paces for the whole lane (all C partitions' shares).
    const rate = lane.destination?.rateLimitPerSecond;
    const pacer = createPacer(rate ? paceLimitFor(Math.floor(rate / lane.concurrency) * lane.concurrency, 1) : undefined);
    const consumer = await startLaneConsumer({
        kafka,
        lane: { id: lane.id, topic: lane.topic, partitions: lane.concurrency, maxReceiveCount: lane.maxReceiveCount, timeoutSeconds: lane.timeoutSeconds, retry: lane.retry },
        process: countedProcessor(context, log, () => pacer),
        logger: log,
        paused: lane.paused,
    });
    void consumer.done.catch((err: Error) => log.error("the Kafka consumer stopped", err));
    const control = pauseControl(consumer, lane.paused);
    return {
        lane: lane.id,
        get inFlight() {
            return consumer.stats.inFlight;
        },
        get deadLettered() {
            return consumer.stats.deadLettered;
        },
        get paused() {
            return control.paused;
        },
        get pausedAt() {
            return control.pausedAt;
        },
        pause: () => control.pause(),
        resume: () => control.resume(),
        stop: () => consumer.stop(),
    };
}

/** The runner for each lane kind; a missing one fails the start with the lanes that need it. */
export const laneRunners: Readonly<Record<LaneKind, LaneRunnerFactory | undefined>> = {
    sqs: startSqsLaneRunner,
    kafka: startKafkaLaneRunner,
};

/** Check every lane has a runner before anything starts; throws one error naming every lane without. */
export function checkLaneRunners(lanes: readonly LaneModel[], runners: Readonly<Record<LaneKind, LaneRunnerFactory | undefined>> = laneRunners): void {
    const missing = lanes.filter((l) => !runners[l.kind]);
    if (missing.length === 0) return;
    throw new LaneRunnerMissingError(
        `the local pipeline has no runner for ${missing.map((l) => `lane ${l.id} (${l.kind})`).join(", ")}; ` +
            `run a stack whose lanes are of the kinds it runs (${Object.keys(runners).filter((k) => runners[k as LaneKind]).join(", ")}), or deploy it.`,
    );
}
