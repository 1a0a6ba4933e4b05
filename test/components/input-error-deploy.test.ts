/**
 * Deploy check for the errors bad input raises in the router's and the
 * worker's uploaded code (the code Pulumi serialized): an envelope that cannot
 * be read (EnvelopeError, model/envelope.ts), a claim-check pointer that cannot
 * be right (ClaimPointerError, handlers/router/router.ts) and a lane message
 * that is not one (LaneMessageError, model/lane-message.ts). What a user sees
 * is asserted: the router quarantines each request as malformed-envelope with
 * the error's message as the detail, in the archive and in its log line; the
 * worker fails the record (retried, then the lane's DLQ) and its log line
 * carries the error's name and message. (As classes extending Error these
 * did not survive serialization: the serialized constructor made objects that
 * were not Errors, with no name and no message.)
 */
import { expect } from "chai";
import { Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { bundleOf, loadBundle } from "../../scripts/bundles";
import { motoProvisioner } from "../support/moto-provisioner";
import { deleteAll as deleteAllFrom, receiveAll as receiveAllFrom } from "../support/queue-io";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { encodeEnvelope, EnvelopeAttribute } from "../../model/envelope";
import { toLambdaEvent } from "../../local/sqs-event";
import { getPlugin } from "../../providers";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import type { WebhookPipeline } from "../../components";
import { lambdaContext, readArchive } from "../support/runtime";

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** Load a bundle with Powertools logging on (the test environment silences it): the Logger reads its level when the bundle makes it. */
function loadLogging<H>(bundle: Parameters<typeof loadBundle>[0]): H {
    const before = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = "INFO";
    try {
        return loadBundle<H>(bundle);
    } finally {
        if (before === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
        else process.env.POWERTOOLS_LOG_LEVEL = before;
    }
}

/** Run `fn` and return the JSON log lines it wrote to stdout and stderr (Powertools writes errors to stderr). */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; logs: Record<string, unknown>[] }> {
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((s) => s.write);
    let output = "";
    for (const s of streams) {
        s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
            output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
            rest.find((r): r is () => void => typeof r === "function")?.();
            return true;
        }) as typeof s.write;
    }
    try {
        const result = await fn();
        const logs = output
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        return { result, logs };
    } finally {
        streams.forEach((s, i) => (s.write = writes[i]));
    }
}

describe("deploy check: bad input in the serialized router and worker is quarantined or failed with its error's message", function () {
    this.timeout(180_000);
    const sqs = new SQSClient({});
    const secret = "input-error-secret";
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let queueUrls: Record<string, string>;

    const receiveAll = (queueUrl: string, atLeast: number) => receiveAllFrom(sqs, queueUrl, atLeast);
    const fn = (name: string) => session.byType("aws:lambda/function:Function").find((f) => f.name === name)!;

    before(async () => {
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("iec", { providers: [{ name: "github", plugin: "github", secret }] });
        queueUrls = await valueOf(pipeline.queueUrls);
        await settled();
    });

    it("GIVEN envelopes without a provider, with an unknown encoding and with a sealed claim-check pointer into another bucket WHEN the router's uploaded code handles them THEN each is quarantined as malformed-envelope with the error's message, in the archive and the log", async () => {
        // GIVEN three messages in the catch-all queue whose envelopes cannot be used
        const github = getPlugin("github");
        const now = Date.now();
        const body = github.sample(now);
        const headers = Object.fromEntries(Object.entries(github.sign(body, secret, now, "https://example.com/webhooks/github")).map(([k, v]) => [k.toLowerCase(), v]));
        const valid = encodeEnvelope({ provider: "github", requestId: "r-valid", receivedAt: now, sourceIp: "203.0.113.7", headers, body }, github.headers);
        const noProvider = { ...valid, MessageAttributes: { ...valid.MessageAttributes } };
        delete (noProvider.MessageAttributes as Record<string, unknown>)[EnvelopeAttribute.Provider];
        const badEncoding = { ...valid, MessageAttributes: { ...valid.MessageAttributes, [EnvelopeAttribute.Encoding]: { DataType: "String" as const, StringValue: "rot13" } } };
        // A claim-check pointer comes only from the ingress function, sealed with the pipeline's internal key.
        const [sealKey] = await cachedSecretReader(new SecretsManagerClient({}))(await valueOf(pipeline.internalKeySecretArn));
        const pointer = Buffer.from(`{"bucket":"someone-elses","key":"claims/ingress/github/x"}`);
        const badPointer = encodeEnvelope({ provider: "github", requestId: "r-pointer", receivedAt: now, sourceIp: "203.0.113.7", headers, body: pointer, encoding: "s3" }, github.headers, { sealKey });
        for (const message of [noProvider, badEncoding, badPointer]) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...message }));
        const inbound = await receiveAll(queueUrls["catch-all"], 3);
        expect(inbound).to.have.length(3);

        // WHEN the router's uploaded code handles the batch
        const router = loadLogging<SqsHandler>(await bundleOf(fn("iec-router-fn")));
        const { result, logs } = await captureLogs(() => router(toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"), lambdaContext("iec-router-fn")));
        await deleteAllFrom(sqs, queueUrls["catch-all"], inbound);

        // THEN nothing is retried: each request is quarantined with the error's message as its detail
        const bucket = await valueOf(pipeline.bucketName);
        const details = {
            "no-provider": "message attribute wp-provider is missing",
            "bad-encoding": 'message attribute wp-encoding has unknown value "rot13"',
            "bad-pointer": `the claim-check pointer must name s3://${bucket}/claims/ingress/...`,
        };
        expect(result).to.deep.equal({ batchItemFailures: [] });
        const lines = await readArchive(new S3Client({ forcePathStyle: true }), bucket, "quarantine/");
        expect(lines.map((l) => [l.reason, l.detail]).sort()).to.deep.equal(Object.values(details).map((d) => ["malformed-envelope", d]).sort());
        const quarantined = logs.filter((l) => l.message === "webhook quarantined");
        expect(quarantined.map((l) => [l.reason, l.detail]).sort()).to.deep.equal(Object.values(details).map((d) => ["malformed-envelope", d]).sort());
        expect(logs.filter((l) => l.level === "ERROR"), "no record is retried").to.deep.equal([]);
    });

    it("GIVEN a lane message that is not one WHEN the worker's uploaded code handles it THEN the record is failed (retried, then the DLQ) and the log line carries LaneMessageError and its message", async () => {
        // GIVEN a message in the lane queue that is not JSON
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["github-default"], MessageBody: "not a lane message" }));
        const lane: Message[] = await receiveAll(queueUrls["github-default"], 1);
        expect(lane).to.have.length(1);

        // WHEN the worker's uploaded code handles it
        const worker = loadLogging<SqsHandler>(await bundleOf(fn("iec-github-default-worker-fn")));
        const { result, logs } = await captureLogs(() => worker(toLambdaEvent(lane, "arn:aws:sqs:us-east-1:123456789012:github-default"), lambdaContext("iec-github-default-worker-fn")));
        await deleteAllFrom(sqs, queueUrls["github-default"], lane);

        // THEN the record is reported failed and the log line names the error and its message
        expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: lane[0].MessageId }] });
        const failed = logs.filter((l) => l.message === "handler failed; the message will be retried");
        expect(failed).to.have.length(1);
        const error = failed[0].error as Record<string, unknown>;
        expect({ name: error.name, message: error.message }).to.deep.equal({ name: "LaneMessageError", message: "lane message is not JSON" });
        expect(String(error.stack).split("\n")[0]).to.equal("LaneMessageError: lane message is not JSON");
    });
});
