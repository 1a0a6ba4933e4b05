/**
 * The router on the catch-all queue, as its event source mapping runs it on
 * AWS: batches of up to `router.batchSize`, at most `router.concurrency`
 * batches at once, the records the router reports as failed left on the
 * queue to come back after the visibility timeout (and to the catch-all DLQ
 * after `maxReceiveCount`). The router is handlers/router/router.ts itself.
 */
import { routerKafkaPublisher } from "../handlers/kafka/publisher";
import { createRouter, InboundRecord, RouterReport } from "../handlers/router/router";
import { cachedSecretReader } from "../handlers/shared/secrets";
import type { PipelineModel } from "../model/pipeline";
import type { LocalLogger } from "./log";
import type { LocalClients, LocalResources } from "./resources";
import { Poller, startPoller } from "./sqs-poller";

/** Where the router's batch reports go: the pipeline's counters, or (router in its own process) the pipeline that shows them. */
export interface RouterReportSink {
    onRouterBatch(report: RouterReport): void;
}

export interface RouterRunnerOptions {
    readonly model: PipelineModel;
    readonly resources: LocalResources;
    readonly clients: LocalClients;
    readonly stats: RouterReportSink;
    readonly logger: LocalLogger;
    /** See PollerOptions.retryDelaySeconds. */
    readonly retryDelaySeconds?: number;
}

export function startRouterRunner({ model, resources, clients, stats, logger, retryDelaySeconds }: RouterRunnerOptions): Pick<Poller, "inFlight" | "stop"> {
    const log = logger.child("router");
    // Kafka lanes: the router's own publisher (creates the lanes' topics on first use).
    const kafka = model.usesKafka ? routerKafkaPublisher(resources.router, { secrets: clients.secrets, logger: log }) : undefined;
    const route = createRouter({ config: resources.router, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets), kafka, logger: log });
    const poller = startPoller({
        sqs: clients.sqs,
        queueUrl: resources.catchAll.queue.url,
        batchSize: model.router.batchSize,
        batchWindowSeconds: model.router.batchWindowSeconds,
        concurrency: model.router.concurrency,
        retryDelaySeconds,
        onError: (err, what) => log.error(`${what} failed`, err),
        async handle(messages) {
            const { failures, report } = await route(messages.map((m) => ({ messageId: m.MessageId!, body: m.Body ?? "", attributes: m.MessageAttributes as InboundRecord["attributes"], sentTimestamp: Number(m.Attributes?.SentTimestamp) })));
            stats.onRouterBatch(report);
            log.debug("batch routed", { received: report.received, accepted: report.accepted, failed: report.failed, routed: report.routed });
            return failures;
        },
    });
    return {
        get inFlight() {
            return poller.inFlight;
        },
        async stop() {
            await poller.stop();
            await kafka?.close();
        },
    };
}
