/**
 * One lane record on an SQS lane, as both the Lambda worker (lambda.ts) and
 * the local worker pool (local/lane-runners.ts) handle it, around the lane
 * processor:
 *
 * - A destination's permanent failure (DeliveryPermanentError: 4xx other than
 *   408/429, 3xx) is sent to the lane's DLQ at once, with its status and the
 *   answer's excerpt as message attributes, and the record then counts as
 *   handled (the batch deletes it): no retries. If that SendMessage fails the
 *   record fails and is retried, so nothing is lost; a crash between the send
 *   and the delete leaves a second copy in the DLQ, never a loss.
 * - Any other failure is retried. With a retry schedule (or a Retry-After
 *   from the destination) the message's visibility is set to the next delay
 *   (ChangeMessageVisibility) before the failure is reported, so it comes back
 *   then instead of after the queue's visibility timeout. A failed visibility
 *   change leaves the queue's own timeout: later, never lost.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { Limits } from "../../model/constants";
import type { WorkerRuntimeConfig } from "../../model/runtime-config";
import { asPermanent, asRetryable } from "../destination/outcome";
import { retryDelaySeconds } from "../destination/retry";
import type { LaneProcess } from "../kafka/consumer";
import { HandlerLogger, silentLogger } from "../shared/logger";
import type { Outcome } from "./worker";

/** Message attributes of a message a worker dead-lettered itself. */
export const DeadLetterAttribute = {
    /** Why: `destination answered 400: ...`. */
    Reason: "wp-dead-letter-reason",
    /** The destination's HTTP status. */
    Status: "wp-delivery-status",
} as const;

export type RecordOutcome = Outcome | "dead-lettered";

export interface SqsRecordDeps {
    readonly config: WorkerRuntimeConfig;
    /** A getter: the SQS client (and its package) is created on the first failure, not at a cold start. */
    readonly sqs: () => SQSClient;
    readonly process: LaneProcess;
    readonly logger?: HandlerLogger;
    /** Called when a failed message's retry delay was set (its visibility changed). */
    readonly onDelaySet?: (messageId: string, seconds: number) => void;
}

export function sqsRecordHandler(deps: SqsRecordDeps): (record: SQSRecord, lambdaContext?: Pick<Context, "getRemainingTimeInMillis">) => Promise<RecordOutcome> {
    const { config } = deps;
    const sqs = { send: ((command: never) => deps.sqs().send(command)) as SQSClient["send"] };
    const logger = deps.logger ?? silentLogger;
    // SQS lets a message's visibility be extended to 12 h in all from its receive: keep the worker's timeout in hand.
    // (Amazon SQS API Reference, ChangeMessageVisibility: "you can't extend the timeout of a message ... to more than a total visibility timeout of 12 hours".)
    const capSeconds = Limits.maxVisibilityTimeoutSeconds - (config.timeoutSeconds ?? Limits.maxTimeoutSeconds);
    // Loaded on the first failure: a worker whose records succeed never loads it for this.
    const sqsPackage = () => require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs");
    return async (record, lambdaContext) => {
        const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
        try {
            return await deps.process(record.body, { attempt, lambdaContext });
        } catch (err) {
            const permanent = asPermanent(err);
            if (permanent && config.dlqUrl) {
                const fifo = config.dlqUrl.endsWith(".fifo");
                await sqs.send(
                    new (sqsPackage().SendMessageCommand)({
                        QueueUrl: config.dlqUrl,
                        MessageBody: record.body,
                        MessageAttributes: {
                            [DeadLetterAttribute.Reason]: { DataType: "String", StringValue: permanent.message.slice(0, 1024) },
                            [DeadLetterAttribute.Status]: { DataType: "Number", StringValue: String(permanent.status) },
                        },
                        ...(fifo ? { MessageGroupId: record.attributes.MessageGroupId ?? "dead-letters", MessageDeduplicationId: record.messageId } : {}),
                    }),
                );
                logger.error("destination refused the event for good; it is in the lane's DLQ", { messageId: record.messageId, status: permanent.status, error: permanent.message, attempt });
                return "dead-lettered";
            }
            const delay = retryDelaySeconds(config.retry, attempt, { retryAfterSeconds: asRetryable(err)?.retryAfterSeconds, capSeconds });
            if (delay !== undefined && config.queueUrl && record.receiptHandle) {
                await sqs
                    .send(new (sqsPackage().ChangeMessageVisibilityCommand)({ QueueUrl: config.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay }))
                    .then(() => deps.onDelaySet?.(record.messageId, delay))
                    .catch((e: Error) => logger.warn("setting the retry delay failed; the queue's visibility timeout applies", { messageId: record.messageId, delay, error: e.message }));
            }
            throw err;
        }
    };
}
