/**
 * Queue pairs: a queue, its DLQ, and the DLQ's redrive allow policy (only its
 * own queue may redrive into it). The catch-all and every SQS lane get one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { QueueSettings } from "../model/constants";
import { autoName, fitName, NameLimits, stackNamePart } from "./naming";
import { keyed } from "./outputs";

export interface QueuePair {
    readonly queue: aws.sqs.Queue;
    readonly dlq: aws.sqs.Queue;
}

export interface QueuePairArgs {
    readonly fifo: boolean;
    readonly visibilityTimeoutSeconds: number;
    readonly maxReceiveCount: number;
    /** Seconds the queue keeps a message (a lane's `retentionDays`). @default QueueSettings.retentionSeconds */
    readonly retentionSeconds?: number;
}

export function createQueuePair(base: string, args: QueuePairArgs, parent: pulumi.Resource): QueuePair {
    const opts = { parent };
    // FIFO queues need an explicit `.fifo` name; others are auto-named (stack-unique), from a logical name short enough for the suffix.
    const fifoName = (suffix: string) => (args.fifo ? `${fitName(`${base}${suffix}-${stackNamePart(pulumi.getStack(), "alnum-underscore")}`, NameLimits.sqs - 5)}.fifo` : undefined);
    const logical = (suffix: string) => (args.fifo ? `${base}${suffix}` : autoName(`${base}${suffix}`, NameLimits.sqs));
    const dlq = new aws.sqs.Queue(logical("-dlq"), {
        name: fifoName("-dlq"),
        fifoQueue: args.fifo || undefined,
        sqsManagedSseEnabled: true,
        // Without it the queue takes 256 KiB (the provider's default); a message redriven from the DLQ must fit too.
        maxMessageSize: QueueSettings.maxMessageSizeBytes,
        messageRetentionSeconds: QueueSettings.dlqRetentionSeconds,
    }, opts);
    const queue = new aws.sqs.Queue(logical("-queue"), {
        name: fifoName(""),
        fifoQueue: args.fifo || undefined,
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
        maxMessageSize: QueueSettings.maxMessageSizeBytes,
        messageRetentionSeconds: args.retentionSeconds ?? QueueSettings.retentionSeconds,
        redrivePolicy: dlq.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: args.maxReceiveCount })),
    }, opts);
    new aws.sqs.RedriveAllowPolicy(`${base}-dlq-allow`, {
        queueUrl: dlq.url,
        redriveAllowPolicy: queue.arn.apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })),
    }, opts);
    return { queue, dlq };
}

/** Lane id -> queue URL, `catch-all` first. */
export function urlsByLane(catchAll: aws.sqs.Queue, lanes: [string, aws.sqs.Queue][]): pulumi.Output<Record<string, string>> {
    return keyed([["catch-all", catchAll.url], ...lanes.map(([id, q]): [string, pulumi.Output<string>] => [id, q.url])]);
}
