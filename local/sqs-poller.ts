/**
 * What Lambda's SQS event source mapping does, on this machine: long-poll a
 * queue, gather up to `batchSize` messages (in ReceiveMessage calls of at most
 * 10), hand the batch to a handler, and delete every message except the ones
 * the handler reports as failed (ReportBatchItemFailures): those become
 * visible again after the queue's visibility timeout, and the queue's redrive
 * policy moves them to the DLQ once they were received `maxReceiveCount`
 * times. At most `concurrency` batches run at once (`maximumConcurrency`); the
 * poller waits for a free slot before it receives, so no message sits
 * invisible waiting for a handler.
 *
 * `batchWindowSeconds` is the mapping's MaximumBatchingWindowInSeconds: once a
 * batch has its first message, the poller keeps receiving until the batch is
 * full or the window has passed, so a trickle of messages makes a few large
 * batches rather than many small ones (the router's calls per webhook depend
 * on it). Without it a batch ends at the first empty receive.
 *
 * `retryDelaySeconds` shortens the wait of a failed message before its next
 * delivery (its visibility is set to that many seconds once its batch is
 * done), so retries and the DLQ show within seconds. The queue's own
 * visibility timeout is left as the model sets it, so a slow batch is never
 * delivered a second time while it still runs.
 */
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ReceiveMessage and DeleteMessageBatch take at most 10 messages. */
export const SqsReceiveMax = 10;

export interface PollerOptions {
    readonly sqs: SQSClient;
    readonly queueUrl: string;
    /** Most messages per batch. */
    readonly batchSize: number;
    /** Most batches in flight at once. */
    readonly concurrency: number;
    /**
     * Long-poll wait of the first receive of a batch, in seconds. Short, so a
     * stop never waits long for a poll to return. @default 2
     */
    readonly waitSeconds?: number;
    /** Longest wait for a batch to fill once its first message arrived (MaximumBatchingWindowInSeconds). @default 0 */
    readonly batchWindowSeconds?: number;
    /** Processes a batch; resolves to the MessageIds that failed (they are not deleted). Throwing fails the whole batch. */
    readonly handle: (messages: Message[]) => Promise<readonly string[]>;
    /** Seconds a failed message stays invisible before it is delivered again. @default the queue's visibility timeout */
    readonly retryDelaySeconds?: number;
    /** True for a failed message whose handler set its retry delay itself (a lane's retry schedule): left as it is. */
    readonly delaySetByHandler?: (messageId: string) => boolean;
    /** A receive or delete failed (the poller backs off and goes on). */
    readonly onError?: (err: Error, what: string) => void;
    /** Start paused (a paused lane, as a disabled event source mapping): receive nothing until `resume()`. @default false */
    readonly paused?: boolean;
}

export interface Poller {
    /** Batches being handled now. */
    readonly inFlight: number;
    /** Stop receiving, then wait for the batches in flight to finish and be deleted. */
    stop(): Promise<void>;
    /** Whether receiving is paused. */
    readonly paused: boolean;
    /**
     * Receive nothing more (what disabling an event source mapping does): resolves once the receive under way has
     * returned and the batches in flight are done and deleted. Messages stay in the queue; what the receive under way
     * returned after the pause was asked for is made visible again, not handled (one receive more on each).
     */
    pause(): Promise<void>;
    /** Receive again. */
    resume(): void;
}

/**
 * Receive up to `max` messages: one long poll, then short receives. Without
 * a window the batch ends at the first empty receive; with one it ends when
 * full or `windowMs` after its first message, whichever comes first.
 */
export async function receiveBatch(sqs: SQSClient, queueUrl: string, max: number, waitSeconds: number, windowMs = 0): Promise<Message[]> {
    const batch: Message[] = [];
    let wait = waitSeconds;
    let closesAt = Infinity;
    while (batch.length < max) {
        let Messages: Message[];
        try {
            ({ Messages = [] } = await sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: Math.min(SqsReceiveMax, max - batch.length),
                    WaitTimeSeconds: wait,
                    MessageAttributeNames: ["All"],
                    MessageSystemAttributeNames: ["All"],
                }),
            ));
        } catch (err) {
            // Messages already received are invisible now: hand them over rather than leave them hidden for a visibility timeout.
            if (batch.length > 0) break;
            throw err;
        }
        batch.push(...Messages);
        if (batch.length > 0 && closesAt === Infinity) closesAt = Date.now() + windowMs;
        if (Messages.length === 0) {
            // Nothing in the long poll, or no window: the batch is what has arrived.
            if (batch.length === 0 || windowMs <= 0) break;
            const left = closesAt - Date.now();
            if (left <= 0) break;
            await sleep(Math.min(50, left));
        } else if (windowMs > 0 && Date.now() >= closesAt) {
            // The window closes the batch even while messages keep coming (a steady stream never empties the queue).
            break;
        }
        wait = 0;
    }
    return batch;
}

/** Make messages visible again after `seconds` (ChangeMessageVisibilityBatch, 10 per call); best effort. */
export async function delayRetry(sqs: SQSClient, queueUrl: string, messages: readonly Message[], seconds: number): Promise<void> {
    for (let i = 0; i < messages.length; i += SqsReceiveMax) {
        const chunk = messages.slice(i, i + SqsReceiveMax);
        await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds })) }));
    }
}

/** Delete messages in DeleteMessageBatch calls of 10; resolves to the ids that could not be deleted. */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<string[]> {
    const failed: string[] = [];
    for (let i = 0; i < messages.length; i += SqsReceiveMax) {
        const chunk = messages.slice(i, i + SqsReceiveMax);
        try {
            const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
            for (const f of out.Failed ?? []) failed.push(chunk[Number(f.Id)]?.MessageId ?? f.Id!);
        } catch {
            failed.push(...chunk.map((m) => m.MessageId!));
        }
    }
    return failed;
}

export function startPoller(options: PollerOptions): Poller {
    const waitSeconds = options.waitSeconds ?? 2;
    let stopping = false;
    let paused = options.paused ?? false;
    let receiving: Promise<unknown> | undefined;
    let resumed: (() => void) | undefined;
    let inFlight = 0;
    const running = new Set<Promise<void>>();
    let wake: (() => void) | undefined;
    const slotFreed = () => new Promise<void>((r) => (wake = r));

    async function runBatch(messages: Message[]) {
        let failures: readonly string[];
        try {
            failures = await options.handle(messages);
        } catch (err) {
            options.onError?.(err as Error, `handling a batch of ${messages.length}`);
            failures = messages.map((m) => m.MessageId!);
        }
        const done = messages.filter((m) => !failures.includes(m.MessageId!));
        const failed = messages.filter((m) => failures.includes(m.MessageId!) && !options.delaySetByHandler?.(m.MessageId!));
        if (failed.length && options.retryDelaySeconds !== undefined) {
            await delayRetry(options.sqs, options.queueUrl, failed, options.retryDelaySeconds).catch((err: Error) => options.onError?.(err, "shortening the retry delay"));
        }
        if (done.length === 0) return;
        const notDeleted = await deleteMessages(options.sqs, options.queueUrl, done);
        if (notDeleted.length) options.onError?.(new Error(`${notDeleted.length} message(s) could not be deleted and will be delivered again`), "deleting");
    }

    async function loop() {
        let backoffMs = 250;
        while (!stopping) {
            if (paused) {
                await new Promise<void>((r) => (resumed = r));
                continue;
            }
            if (inFlight >= options.concurrency) {
                await slotFreed();
                continue;
            }
            let messages: Message[];
            try {
                const receive = receiveBatch(options.sqs, options.queueUrl, options.batchSize, waitSeconds, (options.batchWindowSeconds ?? 0) * 1000);
                receiving = receive;
                messages = await receive.finally(() => (receiving = undefined));
                backoffMs = 250;
            } catch (err) {
                if (stopping) break;
                options.onError?.(err as Error, "receiving");
                await sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 5_000);
                continue;
            }
            if (messages.length === 0) continue;
            if (paused && !stopping) {
                // Paused while this receive was under way: what it returned goes back to the queue untouched (one
                // receive more on each), so nothing is processed after a pause was asked for.
                await delayRetry(options.sqs, options.queueUrl, messages, 0).catch((err: Error) => options.onError?.(err, "releasing messages received while pausing"));
                continue;
            }
            inFlight += 1;
            const batch = runBatch(messages).finally(() => {
                inFlight -= 1;
                running.delete(batch);
                wake?.();
            });
            running.add(batch);
        }
    }

    const looping = loop();
    return {
        get inFlight() {
            return inFlight;
        },
        get paused() {
            return paused;
        },
        async pause() {
            paused = true;
            // What a receive under way returns goes back to the queue (the loop releases it); the batches already
            // handed over finish, as Lambda finishes the batches it has.
            await receiving?.catch(() => undefined);
            // After every microtask: the loop has registered the batch that receive returned.
            await new Promise((r) => setImmediate(r));
            await Promise.all([...running]);
        },
        resume() {
            paused = false;
            resumed?.();
        },
        async stop() {
            stopping = true;
            wake?.();
            resumed?.();
            await looping;
            await Promise.all([...running]);
        },
    };
}
