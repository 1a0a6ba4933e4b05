/**
 * `redrive`: move a lane's DLQ back to its queue, so the messages are
 * processed again (once the handler is fixed).
 *
 * On AWS: SQS's own move task (StartMessageMoveTask), followed until done.
 * Where there is none (moto): a receive / send / delete loop that deletes a
 * message from the DLQ only after the queue took its copy, so a crash in the
 * middle duplicates at worst (the worker's idempotency absorbs that) and
 * never loses one. The loop moves at most the messages the DLQ held when it
 * began, so messages that fail again and return meanwhile are not chased.
 *
 * The catch-all DLQ always takes the loop, on AWS too: a move task makes each
 * message new, with a new SentTimestamp ("All redriven messages are considered
 * new messages with a new messageID and enqueueTime", Amazon SQS Developer
 * Guide, "Configuring a dead-letter queue redrive"), and the router measures
 * the timestamp tolerance of an unsealed request from SentTimestamp, so a
 * request that waited in the DLQ would turn stale. The loop gives each
 * unsealed message a `wp-redrive` attestation of the SentTimestamp the DLQ
 * shows (the original enqueue time: "When a message is moved to a dead-letter
 * queue, the enqueue timestamp is unchanged", same guide, "Setting-up
 * dead-letter queue retention", standard queues) in place of its
 * wp-received-at, so the attribute count stays the same. Sealed messages
 * (ingress function, replay) carry their time in the seal and go as they are.
 */
import {
    DeleteMessageBatchCommand,
    GetQueueAttributesCommand,
    ListMessageMoveTasksCommand,
    Message,
    ReceiveMessageCommand,
    SendMessageBatchCommand,
    SQSClient,
    StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { createHash } from "crypto";
import { queueDepth } from "../queues";
import { decodeEnvelope, EnvelopeAttribute, isEnvelopeError } from "../../model/envelope";
import { attestRedrive, checkRedrive } from "../../model/seal";
import type { Progress } from "./progress";
import { CatchAllLaneId, OpsTarget, sealKeyOf, TargetLane } from "./target";

export interface RedriveResult {
    readonly lane: string;
    readonly method: "move-task" | "receive-send-delete";
    /** Messages in the DLQ when the redrive began. */
    readonly found: number;
    readonly moved: number;
    readonly failed: number;
    readonly errors: readonly string[];
}

/** How long a message taken from the DLQ stays hidden while it is copied. */
const HoldSeconds = 60;

/** A new deduplication id: the original one would make a FIFO queue drop the copy as a resend. */
function redriveDeduplicationId(message: Message): string {
    return createHash("sha256").update(`redrive\n${message.Attributes?.MessageDeduplicationId ?? ""}\n${message.MessageId}`).digest("hex");
}

/** How a message taken from a DLQ is sent on: its attributes as they are, or with a catch-all redrive's attestation. */
type Attributes = Message["MessageAttributes"];

/**
 * A catch-all DLQ message's attributes for the way back: an unsealed request gets `wp-redrive`, vouching
 * for its SentTimestamp in the DLQ (a valid attestation from an earlier redrive is kept: the DLQ's
 * SentTimestamp is then the redrive's). Sealed or unreadable messages go as they are (the router judges them).
 */
export function catchAllRedriveAttributes(message: Message, key: string): Attributes {
    const attributes = { ...(message.MessageAttributes ?? {}) };
    const body = message.Body ?? "";
    let envelope;
    try {
        envelope = decodeEnvelope(body, attributes as Parameters<typeof decodeEnvelope>[1]);
    } catch (err) {
        if (isEnvelopeError(err)) return attributes;
        throw err;
    }
    if (envelope.seal !== undefined) return attributes;
    const fields = { provider: envelope.provider, requestId: envelope.requestId };
    if (envelope.redrive !== undefined && checkRedrive([key], envelope.redrive, fields, body).ok) return attributes;
    const sent = Number(message.Attributes?.SentTimestamp);
    if (!Number.isFinite(sent) || sent <= 0) return attributes;
    delete attributes[EnvelopeAttribute.ReceivedAt];
    attributes[EnvelopeAttribute.Redrive] = { DataType: "String", StringValue: attestRedrive(key, { ...fields, receivedAt: sent }, body) };
    return attributes;
}

async function loopRedrive(sqs: SQSClient, lane: TargetLane, progress?: Progress, rewrite: (m: Message) => Attributes = (m) => m.MessageAttributes): Promise<RedriveResult> {
    const start = await queueDepth(sqs, lane.dlqUrl);
    const found = start.visible;
    const fifo = lane.queueUrl.endsWith(".fifo");
    const errors: string[] = [];
    let moved = 0;
    let failed = 0;
    progress?.update(0, found);
    while (moved + failed < found) {
        const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: lane.dlqUrl,
                MaxNumberOfMessages: Math.min(10, found - moved - failed),
                VisibilityTimeout: HoldSeconds,
                WaitTimeSeconds: 1,
                MessageAttributeNames: ["All"],
                MessageSystemAttributeNames: ["All"],
            }),
        );
        if (Messages.length === 0) break;
        const sent = await sqs.send(
            new SendMessageBatchCommand({
                QueueUrl: lane.queueUrl,
                Entries: Messages.map((m, i) => ({
                    Id: String(i),
                    MessageBody: m.Body!,
                    MessageAttributes: rewrite(m),
                    ...(fifo ? { MessageGroupId: m.Attributes?.MessageGroupId ?? lane.provider, MessageDeduplicationId: redriveDeduplicationId(m) } : {}),
                })),
            }),
        );
        const notSent = new Set((sent.Failed ?? []).map((f) => Number(f.Id)));
        for (const f of sent.Failed ?? []) errors.push(`sending ${Messages[Number(f.Id)]?.MessageId} to ${lane.id}: ${f.Code} ${f.Message ?? ""}`);
        const copied = Messages.filter((_, i) => !notSent.has(i));
        if (copied.length) {
            const deleted = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: lane.dlqUrl, Entries: copied.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
            // A copy was made but the DLQ still holds the original: it will be processed twice at worst (idempotency skips the second).
            for (const f of deleted.Failed ?? []) errors.push(`deleting ${copied[Number(f.Id)]?.MessageId} from the DLQ of ${lane.id} (it was copied; idempotency will skip the duplicate): ${f.Code}`);
        }
        moved += copied.length;
        failed += notSent.size;
        progress?.update(moved + failed, found, failed ? `(${failed} failed)` : "");
    }
    progress?.finish();
    return { lane: lane.id, method: "receive-send-delete", found, moved, failed, errors };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    return Attributes!.QueueArn!;
}

async function moveTaskRedrive(sqs: SQSClient, lane: TargetLane, progress?: Progress, pollMs = 2_000): Promise<RedriveResult> {
    const [source, destination] = await Promise.all([queueArn(sqs, lane.dlqUrl), queueArn(sqs, lane.queueUrl)]);
    const found = (await queueDepth(sqs, lane.dlqUrl)).visible;
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source, DestinationArn: destination }));
    for (;;) {
        const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source, MaxResults: 10 }));
        const task = Results.find((r) => r.TaskHandle === TaskHandle) ?? Results[0];
        const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
        progress?.update(moved, task?.ApproximateNumberOfMessagesToMove ?? found);
        if (task && task.Status !== "RUNNING") {
            progress?.finish();
            const ok = task.Status === "COMPLETED";
            return { lane: lane.id, method: "move-task", found, moved, failed: ok ? 0 : Math.max(0, found - moved), errors: ok ? [] : [`move task ${task.Status}: ${task.FailureReason ?? "no reason given"}`] };
        }
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

/** Redrive every SQS lane of `lanes`, one after another (the catch-all by the attesting loop, see above). */
export async function redrive(target: OpsTarget, lanes: readonly TargetLane[], progress?: (lane: TargetLane) => Progress | undefined): Promise<RedriveResult[]> {
    const results: RedriveResult[] = [];
    for (const lane of lanes) {
        if (lane.id === CatchAllLaneId) {
            const key = await sealKeyOf(target);
            results.push(await loopRedrive(target.sqs, lane, progress?.(lane), (m) => catchAllRedriveAttributes(m, key)));
        } else {
            results.push(await (target.moveTask ? moveTaskRedrive : loopRedrive)(target.sqs, lane, progress?.(lane)));
        }
    }
    return results;
}
