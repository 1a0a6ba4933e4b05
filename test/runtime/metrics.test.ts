/**
 * The metric the handler-failure alarms watch, as the workers really publish
 * it: Powertools writes CloudWatch EMF to stdout, and this test reads that
 * output while the SQS worker and the Kafka worker (both Lambda adapters,
 * idempotency in moto's DynamoDB) fail every record. Namespace, metric name
 * and the complete dimension set must be the ones in model/metrics.ts, which
 * the alarms use (test/components/*: the alarms name exactly these).
 */
import { expect } from "chai";
import type { MSKEvent } from "aws-lambda";
import { makeKafkaWorkerHandler } from "../../handlers/kafka/lambda";
import { createRouter } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { makeWorkerHandler } from "../../handlers/worker/lambda";
import { WorkerMetrics, workerMetricDimensions } from "../../model/metrics";
import { createRuntime, enqueue, lambdaContext, recordingHandler, routeCatchAll, RuntimeFixture, runWorker, signedWebhook, take } from "../support/runtime";

/** One metric value as an EMF record declares it. */
interface EmfMetric {
    readonly namespace: string;
    readonly dimensions: Record<string, string>;
    readonly value: number;
}

interface EmfDocument {
    _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    [key: string]: unknown;
}

/** Every metric in the EMF lines of `output`, by name (the CloudWatch view of it: namespace, declared dimensions with their values, value). */
function emfMetrics(output: string): Record<string, EmfMetric[]> {
    const out: Record<string, EmfMetric[]> = {};
    for (const line of output.split("\n")) {
        if (!line.startsWith("{")) continue;
        const doc = JSON.parse(line) as EmfDocument;
        for (const directive of doc._aws?.CloudWatchMetrics ?? []) {
            for (const set of directive.Dimensions) {
                const dimensions = Object.fromEntries(set.map((d) => [d, String(doc[d])]));
                for (const m of directive.Metrics) (out[m.Name] ??= []).push({ namespace: directive.Namespace, dimensions, value: Number(doc[m.Name]) });
            }
        }
    }
    return out;
}

/** Run `fn` with Powertools metrics enabled (the test environment disables them) and return what it wrote to stdout. */
async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
    const write = process.stdout.write;
    let output = "";
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        const callback = rest.find((r): r is () => void => typeof r === "function");
        callback?.();
        return true;
    }) as typeof process.stdout.write;
    try {
        return { result: await fn(), output };
    } finally {
        process.stdout.write = write;
    }
}

/** Create a worker with metrics on: Powertools reads POWERTOOLS_METRICS_DISABLED when the Metrics instance is made. */
function withMetricsEnabled<T>(make: () => T): T {
    const before = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = "false";
    try {
        return make();
    } finally {
        if (before === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
        else process.env.POWERTOOLS_METRICS_DISABLED = before;
    }
}

describe("runtime: workers publish HandlerFailures, the metric the alarms watch (moto, EMF on stdout)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    const laneId = "acme-default";

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "acme", plugin: "hmac", signature: { header: "X-Sig", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type" }] }, { suite: "metrics" });
    });

    /** Route `ids` through the real router into the lane queue (left there, visible). */
    async function routeEvents(ids: readonly string[]): Promise<void> {
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3: rt.clients.s3, secrets: cachedSecretReader(rt.clients.secrets) });
        const webhooks = ids.map((id) => signedWebhook(rt.provider("acme"), JSON.stringify({ id, type: "order.created" }), rt.secrets.acme[0]));
        await enqueue(rt.clients.sqs, rt.resources.catchAll.queue.url, webhooks.map((w) => w.message));
        expect((await routeCatchAll(route, rt.clients.sqs, rt.resources.catchAll)).result.failures).to.deep.equal([]);
    }

    const expected = (value: number): EmfMetric => ({ namespace: WorkerMetrics.namespace, dimensions: workerMetricDimensions({ lane: laneId, provider: "acme" }), value });

    it("GIVEN an SQS lane whose handler fails every record WHEN the worker runs a batch THEN it reports every record as a batch item failure (no Lambda error) and publishes HandlerFailures = the batch size with the alarm's namespace and exact dimensions", async () => {
        // Prepare: 3 events in the lane, a handler that always throws
        await routeEvents(["evt_m1", "evt_m2", "evt_m3"]);
        const recorder = recordingHandler({ fail: () => true });
        const worker = withMetricsEnabled(() => makeWorkerHandler(() => rt.resources.workers[laneId], recorder.handler));

        // Act
        const { result, output } = await captureStdout(() => runWorker(worker, rt.clients.sqs, rt.resources.lanes[laneId], "acme-worker"));

        // Assess: a normal return (the Lambda Errors metric stays 0), every record failed, and the metric says so
        expect(result.messages).to.have.length(3);
        expect(result.response.batchItemFailures).to.have.length(3);
        const metrics = emfMetrics(output);
        expect(metrics[WorkerMetrics.names.handlerFailures]).to.deep.equal([expected(3)]);
        expect(metrics[WorkerMetrics.names.handlerFailures][0].dimensions).to.deep.equal({ service: "worker", lane: "acme-default", provider: "acme" });
        expect(metrics[WorkerMetrics.names.processed]).to.deep.equal([expected(0)]);
        await take(rt.clients.sqs, rt.resources.lanes[laneId].queue.url);
    });

    it("GIVEN a Kafka lane worker whose handler fails WHEN the event source mapping invokes it THEN it returns the resume point (it never throws) and publishes HandlerFailures = 1 with the alarm's namespace and exact dimensions, on every invocation", async () => {
        // Prepare: two lane messages as the Kafka event source delivers them (one partition, base64 values)
        await routeEvents(["evt_k1", "evt_k2"]);
        const messages = await take(rt.clients.sqs, rt.resources.lanes[laneId].queue.url);
        expect(messages).to.have.length(2);
        const topic = "webhooks.acme.default";
        const event: MSKEvent = {
            eventSource: "aws:kafka",
            eventSourceArn: "arn:aws:kafka:us-east-1:123456789012:cluster/wp-kafka/abc-1",
            bootstrapServers: "boot-abc.kafka-serverless.us-east-1.amazonaws.com:9098",
            records: {
                [`${topic}-0`]: messages.map((m, i) => ({ topic, partition: 0, offset: 40 + i, timestamp: Date.now(), timestampType: "CREATE_TIME", key: "", value: Buffer.from(m.Body!).toString("base64"), headers: [] })),
            },
        };
        const recorder = recordingHandler({ fail: () => true });
        const worker = withMetricsEnabled(() => makeKafkaWorkerHandler(() => rt.resources.workers[laneId], recorder.handler));

        // Act: the mapping's first delivery and its retry
        const first = await captureStdout(() => worker(event, lambdaContext("acme-kafka-worker")));
        const retry = await captureStdout(() => worker(event, lambdaContext("acme-kafka-worker")));

        // Assess
        for (const { result, output } of [first, retry]) {
            expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 40 } }] });
            expect(emfMetrics(output)[WorkerMetrics.names.handlerFailures]).to.deep.equal([expected(1)]);
        }
        expect(recorder.attempts).to.have.length(2);
    });
});
