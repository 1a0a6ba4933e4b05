/**
 * The consumer-group runner for a Kafka lane: what runs the lane's handler
 * locally, and on your own machines when you run your own workers. The same
 * lane processor as the Lambda workers (handlers/worker/worker.ts:
 * idempotency on the DynamoDB table, claim checks), with Kafka's guarantees:
 *
 * - Concurrency is bounded by partitions: a partition is owned by one member
 *   of the group and its messages are processed one at a time, in offset
 *   order; a member works on at most `concurrency` partitions at once. With
 *   partitions = the lane's concurrency, the whole group never runs more
 *   handler calls at once than the lane allows, however many members run.
 * - Offsets are committed only after a message succeeded (or was dead-lettered):
 *   `eachBatch` resolves each offset after its message and commits every
 *   `commitEveryMessages` (default 1). A crash loses nothing; the restart
 *   redelivers at most the uncommitted messages and idempotency absorbs those
 *   that had completed.
 * - A failing message is retried `maxReceiveCount` times with exponential
 *   backoff, then published to `<topic>.dlq` (original key, value and headers,
 *   plus `error`, `attempts`, `original-partition`, `original-offset`, ...),
 *   and the partition moves on. A message that is not a lane message at all
 *   goes to the DLQ at once. Note: kafkajs fetches per broker and waits for the
 *   whole fetch to be processed, so while one partition backs off, partitions
 *   led by the same broker wait for it once their own batches are done.
 * - `stop()` (the CLI calls it on SIGTERM/SIGINT) stops fetching, lets the
 *   in-flight handler calls finish, commits, leaves the group and disconnects.
 *   A message waiting in retry backoff is left uncommitted for the next owner.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Admin, Consumer, EachBatchPayload, IHeaders, KafkaMessage, Partitioners, Producer } from "kafkajs";
import type { RetrySchedule } from "../../model/delivery";
import type { KafkaRuntime } from "../../model/runtime-config";
import { asPermanent, asRetryable } from "../destination/outcome";
import { retryDelaySeconds } from "../destination/retry";
import { HandlerLogger, silentLogger } from "../shared/logger";
import type { Outcome, ProcessOptions } from "../worker/worker";
import { createKafkaClient, CredentialsProvider } from "./client";
import { DeadLetterHeader, deadLetterTopicOf, KafkaDefaults, runnerGroupOf } from "./constants";
import { ensureTopics, laneTopicSpecs } from "./topics";

/** The lane processor (createLaneProcessor's result), or anything with its contract. */
export type LaneProcess = (text: string, options?: ProcessOptions) => Promise<Outcome>;

/** What the runner needs to know about the lane (from the pipeline model's LaneModel). */
export interface ConsumerLane {
    readonly id: string;
    readonly topic: string;
    /** Topic partitions = the lane's concurrency. */
    readonly partitions: number;
    /** Attempts before a message is dead-lettered. */
    readonly maxReceiveCount: number;
    /** A handler call running longer counts as failed (and its idempotency record expires after it). */
    readonly timeoutSeconds: number;
    /**
     * The lane's retry schedule (LaneModel.retry): the wait after a failed attempt, computed by the same
     * function as the SQS workers' (handlers/destination/retry.ts), slept in place. Overrides `retry`.
     */
    readonly retry?: RetrySchedule;
}

export interface LaneConsumerOptions {
    readonly kafka: KafkaRuntime;
    readonly lane: ConsumerLane;
    readonly process: LaneProcess;
    /** @default `<topic>.workers` */
    readonly groupId?: string;
    /** Partitions this member processes at once. @default lane.partitions */
    readonly concurrency?: number;
    /** Backoff between attempts: initialMs doubled per attempt, capped at maxMs. @default KafkaDefaults.retryInitialMs, retryMaxMs */
    readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
    /** @default KafkaDefaults.commitEveryMessages */
    readonly commitEveryMessages?: number;
    /** Create the lane and dead-letter topics if missing. @default true */
    readonly ensureTopics?: boolean;
    /** A group without committed offsets starts at the oldest message (true) or at new ones. @default true */
    readonly fromBeginning?: boolean;
    /**
     * Start these partitions at these offsets instead of the group's committed ones (replay).
     * Applied when the partition is assigned to this member, and committed at once.
     */
    readonly startAt?: readonly { readonly partition: number; readonly offset: string }[];
    /** @default KafkaDefaults.sessionTimeoutMs */
    readonly sessionTimeoutMs?: number;
    /** @default KafkaDefaults.inProgressPollMs */
    readonly inProgressPollMs?: number;
    readonly secrets?: SecretsManagerClient;
    readonly credentials?: CredentialsProvider;
    readonly logger?: HandlerLogger;
    /** @default `webhook-pipeline-consumer-<lane>` */
    readonly clientId?: string;
    /** Called after each message's outcome (metrics, tests). */
    readonly onMessage?: (event: MessageEvent) => void;
    /** Start paused (a paused lane): the member joins the group and holds its partitions, but fetches nothing until `resume()`. @default false */
    readonly paused?: boolean;
}

export interface MessageEvent {
    readonly partition: number;
    readonly offset: string;
    readonly outcome: Outcome | "dead-lettered";
    readonly attempts: number;
}

export interface ConsumerStats {
    processed: number;
    duplicates: number;
    deadLettered: number;
    /** Failed attempts that were retried. */
    retries: number;
    /** Handler calls running now, and the most seen at once. */
    inFlight: number;
    peakInFlight: number;
}

export interface LaneConsumer {
    readonly groupId: string;
    readonly stats: Readonly<ConsumerStats>;
    /** Partition -> next offset to process (after the last message finished here). */
    readonly positions: Readonly<Record<number, string>>;
    /** Resolves once every listed partition's position reached its offset. */
    caughtUp(targets: readonly { partition: number; offset: string }[]): Promise<void>;
    /** Graceful stop: no new fetches, in-flight calls finish, offsets committed, group left. */
    stop(): Promise<void>;
    /** Whether fetching is paused (see `pause`). */
    readonly paused: boolean;
    /**
     * Stop fetching the lane's topic (kafkajs consumer.pause) and stop at the next message boundary; resolves once
     * no handler call runs. Messages not started stay uncommitted in the topic, and the group keeps its partitions.
     */
    pause(): Promise<void>;
    /** Fetch again from the first message not yet finished (kafkajs consumer.resume). */
    resume(): void;
    /** Settles when the consumer stopped (resolves) or crashed for good (rejects). */
    readonly done: Promise<void>;
}

/** The handler call did not finish within the lane's timeout. */
export class HandlerTimeoutError extends Error {
    public readonly name = "HandlerTimeoutError";
}

/** Errors that no retry can fix: dead-letter at once. */
const permanentErrors: readonly string[] = ["LaneMessageError", "DeliveryPermanentError"];
/** Another consumer (or a crashed one) holds the idempotency record: wait for it, it is not this message's failure. */
const inProgressErrors: readonly string[] = ["IdempotencyAlreadyInProgressError"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
    return Math.min(initialMs * 2 ** Math.max(0, attempt - 1), maxMs);
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString("utf8") : Array.isArray(v) ? v.map(String).join(",") : String(v);
    return out;
}

/** Connect, make sure the topics exist, join the group and start consuming. */
export async function startLaneConsumer(options: LaneConsumerOptions): Promise<LaneConsumer> {
    const { lane } = options;
    const logger = options.logger ?? silentLogger;
    const groupId = options.groupId ?? runnerGroupOf(lane.topic);
    const deadLetterTopic = deadLetterTopicOf(lane.topic);
    const timeoutMs = lane.timeoutSeconds * 1000;
    const initialMs = options.retry?.initialMs ?? KafkaDefaults.retryInitialMs;
    const maxMs = options.retry?.maxMs ?? KafkaDefaults.retryMaxMs;
    const pollMs = options.inProgressPollMs ?? KafkaDefaults.inProgressPollMs;
    const maxAttempts = Math.max(1, lane.maxReceiveCount);
    /**
     * The in-place wait after a failed attempt. A destination's Retry-After is honoured up to the lane's longest
     * wait (retry.maxSeconds, else retry.maxMs): a partition sleeping in place holds its messages behind it.
     */
    const waitAfter = (attempt: number, error: Error): number => {
        const retryAfterSeconds = asRetryable(error)?.retryAfterSeconds;
        if (lane.retry) return 1000 * retryDelaySeconds(lane.retry, attempt, { retryAfterSeconds, capSeconds: lane.retry.maxSeconds })!;
        const base = backoffMs(attempt, initialMs, maxMs);
        return retryAfterSeconds === undefined ? base : Math.max(base, Math.min(maxMs, retryAfterSeconds * 1000));
    };

    const kafka = await createKafkaClient(options.kafka, { secrets: options.secrets, credentials: options.credentials, logger, clientId: options.clientId ?? `webhook-pipeline-consumer-${lane.id}` });
    if (options.ensureTopics ?? true) {
        const admin = kafka.admin();
        await admin.connect();
        try {
            await ensureTopics(admin, laneTopicSpecs(lane.topic, lane.partitions, options.kafka.replicationFactor), logger);
        } finally {
            await admin.disconnect().catch(() => undefined);
        }
    }

    const consumer: Consumer = kafka.consumer({
        groupId,
        sessionTimeout: options.sessionTimeoutMs ?? KafkaDefaults.sessionTimeoutMs,
        maxWaitTimeInMs: KafkaDefaults.maxWaitTimeMs,
        allowAutoTopicCreation: false,
    });
    const deadLetters: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: KafkaDefaults.producerRetries } });

    const stats: ConsumerStats = { processed: 0, duplicates: 0, deadLettered: 0, retries: 0, inFlight: 0, peakInFlight: 0 };
    const positions: Record<number, string> = {};
    const waiters: { targets: readonly { partition: number; offset: string }[]; resolve: () => void }[] = [];
    const reached = (targets: readonly { partition: number; offset: string }[]) =>
        targets.every((t) => positions[t.partition] !== undefined && BigInt(positions[t.partition]) >= BigInt(t.offset));
    const checkWaiters = () => {
        for (const w of [...waiters]) {
            if (!reached(w.targets)) continue;
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
        }
    };

    let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
    // A partition with nothing left to read never delivers a message: start its position at the group's
    // committed offset when it is assigned, so `caughtUp` sees it (not for partitions a replay seeks).
    const sought = new Set((options.startAt ?? []).map((p) => p.partition));
    let admin: Admin | undefined;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assigned = ((event.payload as { memberAssignment?: Record<string, number[]> }).memberAssignment ?? {})[lane.topic] ?? [];
        void (async () => {
            admin ??= kafka.admin();
            await admin.connect();
            const [offsets] = await admin.fetchOffsets({ groupId, topics: [lane.topic] });
            for (const p of offsets?.partitions ?? []) {
                if (!assigned.includes(p.partition) || sought.has(p.partition) || BigInt(p.offset) < 0n) continue;
                if (positions[p.partition] === undefined || BigInt(positions[p.partition]) < BigInt(p.offset)) positions[p.partition] = p.offset;
            }
            checkWaiters();
        })().catch((err: Error) => logger.warn("reading the group's committed offsets failed", { groupId, error: err.message }));
    });
    consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload as { error: Error; restart: boolean };
        logger.error("kafka consumer crashed", { groupId, restart, error: error?.message });
        if (!restart) settle?.reject(error);
    });

    /** Run `work` while keeping the group membership alive (handlers may take longer than a heartbeat interval). */
    async function withHeartbeats<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
        const timer = setInterval(() => heartbeat().catch(() => undefined), 3_000);
        try {
            return await work;
        } finally {
            clearInterval(timer);
        }
    }

    async function callProcess(text: string, attempt: number, heartbeat: () => Promise<void>): Promise<Outcome> {
        const deadline = Date.now() + timeoutMs;
        stats.inFlight += 1;
        stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
        let timer: NodeJS.Timeout | undefined;
        try {
            const call = options.process(text, { attempt, lambdaContext: { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } });
            call.catch(() => undefined); // a timed-out call may still fail later
            const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new HandlerTimeoutError(`handler did not finish within ${lane.timeoutSeconds} s`)), timeoutMs)));
            return await withHeartbeats(Promise.race([call, timeout]), heartbeat);
        } finally {
            if (timer) clearTimeout(timer);
            stats.inFlight -= 1;
        }
    }

    async function deadLetter(partition: number, message: KafkaMessage, error: Error, attempts: number): Promise<void> {
        await deadLetters.send({
            topic: deadLetterTopic,
            acks: -1,
            messages: [
                {
                    key: message.key,
                    value: message.value,
                    headers: {
                        ...headerText(message.headers),
                        [DeadLetterHeader.Error]: `${error.message ?? error}`.slice(0, KafkaDefaults.errorHeaderChars),
                        [DeadLetterHeader.ErrorName]: error.name ?? "Error",
                        [DeadLetterHeader.Attempts]: String(attempts),
                        [DeadLetterHeader.OriginalTopic]: lane.topic,
                        [DeadLetterHeader.OriginalPartition]: String(partition),
                        [DeadLetterHeader.OriginalOffset]: message.offset,
                        [DeadLetterHeader.OriginalTimestamp]: message.timestamp,
                        [DeadLetterHeader.ConsumerGroup]: groupId,
                        [DeadLetterHeader.FailedAt]: new Date().toISOString(),
                    },
                },
            ],
        });
    }

    /** One message to its end: an outcome, the DLQ, or "interrupted" (stopping or rebalancing while backing off). */
    async function handle(partition: number, message: KafkaMessage, payload: EachBatchPayload): Promise<MessageEvent["outcome"] | "interrupted"> {
        const text = message.value?.toString("utf8") ?? "";
        // Paused while backing off: interrupted, left uncommitted, fetched again on resume.
        const active = () => payload.isRunning() && !payload.isStale() && !paused;
        let attempt = 0;
        let waitedMs = 0;
        for (;;) {
            attempt += 1;
            try {
                const outcome = await callProcess(text, attempt, payload.heartbeat);
                if (outcome === "processed") stats.processed += 1;
                else stats.duplicates += 1;
                options.onMessage?.({ partition, offset: message.offset, outcome, attempts: attempt });
                return outcome;
            } catch (err) {
                const error = err as Error;
                if (inProgressErrors.includes(error.name) && waitedMs < timeoutMs + 5 * pollMs) {
                    // Not an attempt of ours: the record expires with the other call's timeout.
                    attempt -= 1;
                    waitedMs += pollMs;
                    await sleep(pollMs);
                    await payload.heartbeat();
                    if (!active()) return "interrupted";
                    continue;
                }
                if (permanentErrors.includes(error.name) || asPermanent(error) || attempt >= maxAttempts) {
                    await deadLetter(partition, message, error, attempt);
                    stats.deadLettered += 1;
                    logger.error("message dead-lettered", { lane: lane.id, topic: deadLetterTopic, partition, offset: message.offset, attempts: attempt, error: error.message });
                    options.onMessage?.({ partition, offset: message.offset, outcome: "dead-lettered", attempts: attempt });
                    return "dead-lettered";
                }
                stats.retries += 1;
                logger.warn("handler failed; retrying", { lane: lane.id, partition, offset: message.offset, attempt, error: error.message });
                const wait = waitAfter(attempt, error);
                for (let slept = 0; slept < wait && active(); slept += Math.min(1_000, wait - slept)) {
                    await sleep(Math.min(1_000, wait - slept));
                    await payload.heartbeat();
                }
                if (!active()) return "interrupted";
            }
        }
    }

    let paused = options.paused ?? false;
    await deadLetters.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [lane.topic], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
        partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? lane.partitions),
        eachBatchAutoResolve: false,
        autoCommit: true,
        autoCommitThreshold: Math.max(1, options.commitEveryMessages ?? KafkaDefaults.commitEveryMessages),
        eachBatch: async (payload) => {
            const { batch } = payload;
            for (const message of batch.messages) {
                // Paused: leave the rest unresolved; kafkajs fetches it again from the last resolved offset on resume.
                if (!payload.isRunning() || payload.isStale() || paused) break;
                const outcome = await handle(batch.partition, message, payload);
                if (outcome === "interrupted") break;
                payload.resolveOffset(message.offset);
                positions[batch.partition] = (BigInt(message.offset) + 1n).toString();
                await payload.commitOffsetsIfNecessary();
                checkWaiters();
                await payload.heartbeat();
            }
        },
    });
    // kafkajs takes seeks only once run() started; they apply before the partition's first fetch.
    for (const p of options.startAt ?? []) consumer.seek({ topic: lane.topic, partition: p.partition, offset: p.offset });
    // The flag (set before run) stops a batch fetched before this line at its first message.
    if (paused) consumer.pause([{ topic: lane.topic }]);

    let stopping: Promise<void> | undefined;
    return {
        groupId,
        stats,
        positions,
        caughtUp(targets) {
            if (reached(targets)) return Promise.resolve();
            return new Promise<void>((resolve) => waiters.push({ targets, resolve }));
        },
        get paused() {
            return paused;
        },
        async pause() {
            paused = true;
            consumer.pause([{ topic: lane.topic }]);
            while (stats.inFlight > 0) await sleep(20);
        },
        resume() {
            paused = false;
            consumer.resume([{ topic: lane.topic }]);
        },
        stop() {
            stopping ??= (async () => {
                try {
                    await consumer.stop();
                    await consumer.disconnect();
                } finally {
                    await deadLetters.disconnect().catch(() => undefined);
                    await admin?.disconnect().catch(() => undefined);
                    settle?.resolve();
                }
            })();
            return stopping;
        },
        done,
    };
}
