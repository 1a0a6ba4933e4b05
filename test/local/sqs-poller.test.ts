/**
 * The local event source mapping (local/sqs-poller.ts) against moto: batch
 * size, the batching window, the concurrency bound, and partial batch
 * failures left on the queue until the redrive policy moves them to the DLQ.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { CreateQueueCommand, GetQueueAttributesCommand, Message, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { queueDepth } from "../../local/queues";
import { localClients } from "../../local/resources";
import { receiveBatch, startPoller } from "../../local/sqs-poller";
import { services } from "../support/services";

async function queueWithDlq(maxReceiveCount: number) {
    const { sqs } = localClients(services.awsEndpoint);
    const name = `poller-${randomBytes(4).toString("hex")}`;
    const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
    const { QueueUrl: queueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "30", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount }) } }),
    );
    return { sqs, queueUrl: queueUrl!, dlqUrl: dlqUrl! };
}

async function sendBodies(sqs: ReturnType<typeof localClients>["sqs"], queueUrl: string, bodies: string[]) {
    for (let i = 0; i < bodies.length; i += 10) {
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
    }
}

/** A poller (one batch at a time) that records the size of each batch it hands over. */
function batchSizesOf(sqs: ReturnType<typeof localClients>["sqs"], queueUrl: string, batchSize: number, batchWindowSeconds: number | undefined) {
    const sizes: number[] = [];
    const poller = startPoller({
        sqs,
        queueUrl,
        batchSize,
        concurrency: 1,
        batchWindowSeconds,
        waitSeconds: 1,
        async handle(messages: Message[]) {
            sizes.push(messages.length);
            return [];
        },
    });
    return { sizes, poller };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000) {
    const started = Date.now();
    while (!(await check())) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

describe("local SQS poller", function () {
    this.timeout(30_000);

    it("GIVEN 25 messages, batch size 5 and concurrency 2 WHEN polled THEN batches hold at most 5, two run at once and never more, and all are deleted", async () => {
        // Prepare
        const { sqs, queueUrl } = await queueWithDlq(5);
        await sendBodies(sqs, queueUrl, Array.from({ length: 25 }, (_, i) => `m${i}`));
        const sizes: number[] = [];
        const seen = new Set<string>();
        let active = 0;
        let peak = 0;
        let secondStarted: () => void = () => undefined;
        const second = new Promise<void>((r) => (secondStarted = r));

        // Act
        const poller = startPoller({
            sqs,
            queueUrl,
            batchSize: 5,
            concurrency: 2,
            async handle(messages: Message[]) {
                active += 1;
                peak = Math.max(peak, active);
                sizes.push(messages.length);
                messages.forEach((m) => seen.add(m.Body!));
                // The first batch holds its slot until a second batch runs beside it.
                if (sizes.length === 1) await Promise.race([second, new Promise((r) => setTimeout(r, 10_000))]);
                else secondStarted();
                active -= 1;
                return [];
            },
        });
        await until(() => seen.size === 25, "all 25 messages");
        await poller.stop();

        // Assess
        expect(Math.max(...sizes)).to.be.at.most(5);
        expect(sizes.reduce((a, b) => a + b, 0)).to.equal(25);
        expect(peak).to.equal(2);
        expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it("GIVEN a handler that reports one message as failed WHEN polled with a 0 s retry delay THEN the rest are deleted once and the failed one is retried, then moved to the DLQ", async () => {
        // Prepare
        const { sqs, queueUrl, dlqUrl } = await queueWithDlq(2);
        await sendBodies(sqs, queueUrl, ["good-1", "bad", "good-2"]);
        const deliveries: string[] = [];

        // Act
        const poller = startPoller({
            sqs,
            queueUrl,
            batchSize: 10,
            concurrency: 1,
            retryDelaySeconds: 0,
            waitSeconds: 1,
            async handle(messages) {
                deliveries.push(...messages.map((m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`));
                return messages.filter((m) => m.Body === "bad").map((m) => m.MessageId!);
            },
        });
        await until(async () => (await queueDepth(sqs, dlqUrl)).visible === 1, "the failed message in the DLQ");
        await poller.stop();

        // Assess
        expect([...deliveries].sort()).to.deep.equal(["bad#1", "bad#2", "good-1#1", "good-2#1"]);
        expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it("GIVEN messages that trickle in one every 100 ms WHEN polled with a batching window THEN they make one full batch, and without one several", async () => {
        const trickle = async (batchWindowSeconds: number | undefined) => {
            const { sqs, queueUrl } = await queueWithDlq(5);
            const { sizes, poller } = batchSizesOf(sqs, queueUrl, 12, batchWindowSeconds);
            for (let i = 0; i < 12; i++) {
                await sendBodies(sqs, queueUrl, [`t${i}`]);
                await new Promise((r) => setTimeout(r, 100));
            }
            await until(() => sizes.reduce((a, b) => a + b, 0) === 12, "all 12 messages");
            await poller.stop();
            return sizes;
        };
        // The batch is full at 12, long before the 10 s window ends.
        expect(await trickle(10)).to.deep.equal([12]);
        expect((await trickle(undefined)).length).to.be.greaterThan(1);
    });

    it("GIVEN a steady stream that never empties the queue WHEN polled with a 1 s window and a large batch THEN batches close at the window, not when full", async () => {
        const { sqs, queueUrl } = await queueWithDlq(5);
        const { sizes, poller } = batchSizesOf(sqs, queueUrl, 10_000, 1);
        // About 3.5 s of sends, 10 at a time: more than any one window can hold back.
        let sent = 0;
        const until_ = Date.now() + 3_500;
        while (Date.now() < until_) {
            await sendBodies(sqs, queueUrl, Array.from({ length: 10 }, (_, i) => `s${sent + i}`));
            sent += 10;
        }
        await until(() => sizes.reduce((a, b) => a + b, 0) === sent, `all ${sent} messages`);
        await poller.stop();
        expect(sizes.length, `batches ${sizes.join(",")}`).to.be.at.least(3);
        expect(sizes.every((n) => n < sent)).to.equal(true);
    });
    it("GIVEN a receive that fails after the batch has messages WHEN a batch is gathered THEN the messages already received are handed over, not left hidden", async () => {
        const { sqs, queueUrl } = await queueWithDlq(5);
        await sendBodies(sqs, queueUrl, Array.from({ length: 15 }, (_, i) => `p${i}`));
        // The emulator is real; the second ReceiveMessage is made to fail as a connection reset would.
        let receives = 0;
        sqs.middlewareStack.add(
            (next, context) => async (args) => {
                if (context.commandName === "ReceiveMessageCommand" && ++receives === 2) throw Object.assign(new Error("socket hang up"), { name: "ECONNRESET" });
                return next(args);
            },
            { step: "initialize", name: "failSecondReceive" },
        );
        const batch = await receiveBatch(sqs, queueUrl, 50, 1, 2_000);
        expect(batch.map((m) => m.Body).length).to.equal(10);
        // The other 5 were never received, so they are still there for the next batch.
        expect((await receiveBatch(sqs, queueUrl, 50, 0, 0)).map((m) => m.Body).sort()).to.have.length(5);
    });
});
