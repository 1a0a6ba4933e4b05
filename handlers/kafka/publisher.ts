/**
 * The router's Kafka publisher (`KafkaPublisher` from handlers/router/lanes.ts)
 * over a kafkajs idempotent producer:
 *
 * - `acks: -1` (all in-sync replicas) and `idempotent: true` with one request
 *   in flight per broker, so a retried produce can neither duplicate nor reorder
 *   messages; `publish` resolves only once the broker acknowledged every
 *   message, and only then does the router acknowledge the SQS record.
 * - Messages are keyed (the router passes the plugin's ordering key, or the
 *   event id): the Java-compatible murmur2 partitioner puts one key's events on
 *   one partition, in order.
 * - One produce call per topic per router batch (the router calls `publish`
 *   once per lane with all of that lane's messages).
 * - Connects lazily, once per container, and first makes sure the lane and
 *   dead-letter topics exist (handlers/kafka/topics.ts). A failed connect is
 *   forgotten, so the next batch tries again.
 *
 * Built in the router's `callbackFactory` (one per container): nothing here is
 * created at module level.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Kafka, Partitioners, Producer } from "kafkajs";
import type { KafkaRuntime, RouterRuntimeConfig } from "../../model/runtime-config";
import type { KafkaPublisher } from "../router/lanes";
import { HandlerLogger, silentLogger } from "../shared/logger";
import { createKafkaClient, KafkaClientDeps } from "./client";
import { KafkaDefaults } from "./constants";
import { ensureTopics, laneTopicSpecs, TopicSpec } from "./topics";

/** The client's settings (client.ts), with the producer's own defaults: clientId "webhook-pipeline-router", retries KafkaDefaults.producerRetries. */
export interface KafkaPublisherOptions extends KafkaClientDeps {
    readonly kafka: KafkaRuntime;
    /** Topics created (or grown) before the first publish. @default none */
    readonly topics?: readonly TopicSpec[];
}

export interface ClosablePublisher extends KafkaPublisher {
    /** Disconnect (tests, tools; the router keeps its producer for the container's life). */
    close(): Promise<void>;
}

/** The lane and dead-letter topics of every Kafka lane in a router config. */
export function topicSpecsOf(config: Pick<RouterRuntimeConfig, "lanes" | "kafka">): TopicSpec[] {
    const replication = config.kafka?.replicationFactor ?? KafkaDefaults.externalReplicationFactor;
    return Object.values(config.lanes)
        .filter((l) => l.kind === "kafka" && l.topic)
        .flatMap((l) => laneTopicSpecs(l.topic!, l.partitions ?? 1, replication));
}

export function createKafkaPublisher(options: KafkaPublisherOptions): ClosablePublisher {
    const logger = options.logger ?? silentLogger;
    const retry = options.retry ?? { retries: KafkaDefaults.producerRetries };
    let ready: Promise<Producer> | undefined;
    let kafka: Kafka | undefined;

    async function connect(): Promise<Producer> {
        kafka ??= await createKafkaClient(options.kafka, {
            secrets: options.secrets,
            credentials: options.credentials,
            logger,
            clientId: options.clientId ?? "webhook-pipeline-router",
            retry,
            connectionTimeoutMs: options.connectionTimeoutMs,
            requestTimeoutMs: options.requestTimeoutMs,
        });
        if (options.topics?.length) {
            const admin = kafka.admin({ retry });
            await admin.connect();
            try {
                await ensureTopics(admin, options.topics, logger);
            } finally {
                await admin.disconnect().catch(() => undefined);
            }
        }
        const producer = kafka.producer({
            idempotent: true,
            // One in-flight request per broker: retries keep the order of a partition's messages.
            maxInFlightRequests: 1,
            createPartitioner: Partitioners.DefaultPartitioner,
            retry,
        });
        await producer.connect();
        return producer;
    }

    function producer(): Promise<Producer> {
        if (!ready) {
            ready = connect();
            // A failed connect is not cached: the next batch tries again.
            ready.catch(() => {
                ready = undefined;
            });
        }
        return ready;
    }

    return {
        async publish(topic, messages) {
            if (messages.length === 0) return;
            const p = await producer();
            await p.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
        },
        async close() {
            const current = ready;
            ready = undefined;
            if (current) await (await current.catch(() => undefined))?.disconnect();
        },
    };
}

/**
 * The factory the router's Lambda takes (`makeRouterHandler(getConfig, routerKafkaPublisher)`):
 * publishes to the config's Kafka and creates its lanes' topics on first use.
 */
export function routerKafkaPublisher(config: RouterRuntimeConfig, deps: { secrets?: SecretsManagerClient; logger?: HandlerLogger } = {}): ClosablePublisher {
    if (!config.kafka) throw new Error("the router config has Kafka lanes but no kafka connection (brokers)");
    return createKafkaPublisher({
        kafka: config.kafka,
        topics: topicSpecsOf(config),
        secrets: deps.secrets,
        logger: deps.logger,
        retry: { retries: KafkaDefaults.routerProducerRetries },
        requestTimeoutMs: KafkaDefaults.routerRequestTimeoutMs,
    });
}
