/** Reading and clearing a queue the way the deploy checks hand messages to an uploaded function. */
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

/** Receive until at least `atLeast` messages arrived (10 long polls of 1 s at most), with every attribute. */
export async function receiveAll(sqs: SQSClient, queueUrl: string, atLeast: number): Promise<Message[]> {
    const messages: Message[] = [];
    for (let i = 0; i < 10 && messages.length < atLeast; i++) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
        messages.push(...Messages);
    }
    return messages;
}

/** Delete received messages, ten per call. */
export async function deleteAll(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
    }
}
