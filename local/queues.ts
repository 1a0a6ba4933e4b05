/**
 * Queue depths, shared by `/_status` and `npm run ops -- status`: what
 * GetQueueAttributes says about a queue, and the age of its oldest message
 * where it can be seen without harm.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

export interface QueueDepth {
    /** ApproximateNumberOfMessages: waiting to be received. */
    readonly visible: number;
    /** ApproximateNumberOfMessagesNotVisible: received, being handled (or waiting out a failed attempt's visibility timeout). */
    readonly inFlight: number;
    /** ApproximateNumberOfMessagesDelayed. */
    readonly delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
    const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
    );
    return {
        visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
}

/**
 * Age in seconds of the oldest message among up to 10 visible ones, read by
 * receiving them with a visibility timeout of 0 (they stay available).
 * A receive counts toward `maxReceiveCount`, so only peek at queues without a
 * redrive policy (DLQs) unless the caller accepts that. Undefined when empty.
 */
export async function peekOldestAgeSeconds(sqs: SQSClient, queueUrl: string, now = Date.now()): Promise<number | undefined> {
    const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["SentTimestamp"] }),
    );
    const sent = Messages.map((m) => Number(m.Attributes?.SentTimestamp)).filter((t) => Number.isFinite(t) && t > 0);
    return sent.length ? Math.max(0, Math.round((now - Math.min(...sent)) / 1000)) : undefined;
}
