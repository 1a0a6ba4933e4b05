/**
 * Turn SQS ReceiveMessage results into the records Lambda's SQS event source
 * delivers, so the same handler code runs under the local pipeline and tests.
 */
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";

export function toLambdaRecord(message: Message, queueArn: string, region = process.env.AWS_REGION ?? "us-east-1"): SQSRecord {
    const attributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        attributes[name] = {
            dataType: value.DataType ?? "String",
            stringValue: value.StringValue,
            stringListValues: [],
            binaryListValues: [],
        };
    }
    const system = message.Attributes ?? {};
    return {
        messageId: message.MessageId ?? "",
        receiptHandle: message.ReceiptHandle ?? "",
        body: message.Body ?? "",
        attributes: {
            ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
            SentTimestamp: system.SentTimestamp ?? String(Date.now()),
            SenderId: system.SenderId ?? "local",
            ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
            MessageGroupId: system.MessageGroupId,
            MessageDeduplicationId: system.MessageDeduplicationId,
            SequenceNumber: system.SequenceNumber,
        },
        messageAttributes: attributes,
        md5OfBody: message.MD5OfBody ?? "",
        eventSource: "aws:sqs",
        eventSourceARN: queueArn,
        awsRegion: region,
    };
}

export function toLambdaEvent(messages: readonly Message[], queueArn: string): SQSEvent {
    return { Records: messages.map((m) => toLambdaRecord(m, queueArn)) };
}
