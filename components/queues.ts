/**
 * Queue pairs: a queue, its DLQ, and the DLQ's redrive allow policy (only its
 * own queue may redrive into it). The catch-all and every SQS lane get one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitName, NameLimits } from "./naming";
import { keyed } from "./outputs";

export interface QueuePair {
    readonly queue: aws.sqs.Queue;
    readonly dlq: aws.sqs.Queue;
}

export interface QueuePairArgs {
    readonly fifo: boolean;
    readonly visibilityTimeoutSeconds: number;
    readonly maxReceiveCount: number;
}

export function createQueuePair(base: string, args: QueuePairArgs, parent: pulumi.Resource): QueuePair {
    const opts = { parent };
    // FIFO queues need an explicit `.fifo` name; others are auto-named (stack-unique).
    const fifoName = (suffix: string) => (args.fifo ? `${fitName(`${base}${suffix}-${pulumi.getStack()}`, NameLimits.sqs - 5)}.fifo` : undefined);
    const dlq = new aws.sqs.Queue(`${base}-dlq`, {
        name: fifoName("-dlq"),
        fifoQueue: args.fifo || undefined,
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 14 * 24 * 3600,
    }, opts);
    const queue = new aws.sqs.Queue(`${base}-queue`, {
        name: fifoName(""),
        fifoQueue: args.fifo || undefined,
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
        messageRetentionSeconds: 4 * 24 * 3600,
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
