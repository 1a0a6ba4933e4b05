/**
 * Looking at a queue's messages without taking them, for `trace` and `dlq`.
 *
 * SQS has no "browse": a message is seen only by receiving it. A receive with
 * a visibility timeout of 0 leaves it visible, but then every receive may
 * return the same few messages, so a queue cannot be listed that way. Here
 * the messages are received with a short hold (so each receive returns new
 * ones), then all released at once (ChangeMessageVisibility to 0): they are
 * visible again as soon as the listing ends, or after the hold if releasing
 * fails. Nothing is deleted.
 *
 * What it costs: each message's ApproximateReceiveCount goes up by one. On a
 * queue with a redrive policy that counts toward maxReceiveCount (a lane
 * queue: "If the ReceiveCount for a message exceeds the maximum receive count
 * for the queue, Amazon SQS moves the message to the dead-letter-queue",
 * Amazon SQS Developer Guide, "Using dead-letter queues in Amazon SQS"), so
 * callers peek at lane queues only when asked. The pipeline's DLQs have no
 * redrive policy (components/queues.ts, local/resources.ts): there it is
 * harmless. While held, a message is not delivered: a worker polling the queue
 * sees it at most the hold later.
 *
 * A FIFO queue returns no further messages of a group while one of its
 * messages is held ("you can't receive additional messages with the same
 * message group ID while the messages are in flight", Amazon SQS Developer
 * Guide, "FIFO queue delivery logic"): a listing of a FIFO queue can be short;
 * `complete` says so.
 */
import { ChangeMessageVisibilityBatchCommand, Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { QueueDepth, queueDepth } from "../queues";

/** Seconds a peeked message is held while the listing runs. */
export const PeekHoldSeconds = 20;

/** Messages listed per queue at most. */
export const PeekLimit = 1000;

export interface Peeked {
    /** The queue's depth before the listing. */
    readonly depth: QueueDepth;
    readonly messages: readonly Message[];
    /** Every visible message was listed (false: the limit was reached, or a FIFO group held the rest back). */
    readonly complete: boolean;
}

export async function peekMessages(sqs: SQSClient, queueUrl: string, options: { limit?: number; holdSeconds?: number } = {}): Promise<Peeked> {
    const limit = options.limit ?? PeekLimit;
    const depth = await queueDepth(sqs, queueUrl);
    const seen = new Map<string, Message>();
    let empty = 0;
    try {
        // Stop at the depth counted first: messages that arrive meanwhile are not chased.
        while (seen.size < Math.min(limit, depth.visible) && empty < 2) {
            const { Messages = [] } = await sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: Math.min(10, limit - seen.size),
                    VisibilityTimeout: options.holdSeconds ?? PeekHoldSeconds,
                    // A long poll asks every server: a short poll samples some and may answer empty while messages remain.
                    WaitTimeSeconds: 1,
                    MessageAttributeNames: ["All"],
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            empty = Messages.length ? 0 : empty + 1;
            for (const m of Messages) if (!seen.has(m.MessageId!)) seen.set(m.MessageId!, m);
        }
    } finally {
        await release(sqs, queueUrl, [...seen.values()]);
    }
    return { depth, messages: [...seen.values()], complete: seen.size >= depth.visible };
}

/** Make held messages visible again; a failure leaves them to come back after the hold. */
async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
        await sqs
            .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }))
            .catch(() => undefined);
    }
}
