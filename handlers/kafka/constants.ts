/**
 * Names and defaults of the Kafka side of the pipeline, resolved in one place.
 * Every name here is permanent once deployed: topics, consumer groups and the
 * IAM resource ARNs derived from them.
 */

/** Suffixes the pipeline appends to a lane's topic. */
export const KafkaNames = {
    /** `<topic>.dlq`: where a message goes after `maxReceiveCount` failed attempts (consumer runner and Lambda's on-failure destination). */
    deadLetterSuffix: ".dlq",
    /** `<topic>.workers`: the consumer group of the kafkajs consumer runner (on your machines). */
    runnerGroupSuffix: ".workers",
    /** `<topic>.lambda`: the consumer group of the Lambda event source mapping. */
    lambdaGroupSuffix: ".lambda",
    /** `<topic>.replay-<time>`: a fresh group for `npm run kafka:replay`. */
    replayGroupInfix: ".replay-",
} as const;

export function deadLetterTopicOf(topic: string): string {
    return `${topic}${KafkaNames.deadLetterSuffix}`;
}

export function runnerGroupOf(topic: string): string {
    return `${topic}${KafkaNames.runnerGroupSuffix}`;
}

export function lambdaGroupOf(topic: string): string {
    return `${topic}${KafkaNames.lambdaGroupSuffix}`;
}

/** Defaults of the producer, the consumer runner and topic creation. */
export const KafkaDefaults = {
    /** Replication factor on MSK (Serverless requires 3). */
    mskReplicationFactor: 3,
    /** Replication factor for brokers you run: the broker's own `default.replication.factor`. */
    externalReplicationFactor: -1,
    /** Partitions of a dead-letter topic: order does not matter there and traffic is low. */
    deadLetterPartitions: 1,
    /** Milliseconds to open a broker connection. */
    connectionTimeoutMs: 3_000,
    /** Milliseconds a broker request may take. */
    requestTimeoutMs: 30_000,
    /**
     * Produce retries before a batch is reported as failed (its catch-all records
     * are then redelivered by SQS). kafkajs' idempotent default is "forever",
     * which would hang the router until its timeout while a broker is down.
     */
    producerRetries: 5,
    /**
     * The router's publisher: a request that takes longer than this is retried (a connection left
     * dead by a frozen Lambda container shows up as a timeout), and it gives up after
     * `routerProducerRetries`, well within the router's 60 s default timeout.
     */
    routerRequestTimeoutMs: 10_000,
    routerProducerRetries: 3,
    /** First backoff between a failed handler call and its retry, doubled per attempt. */
    retryInitialMs: 500,
    /** Backoff cap. */
    retryMaxMs: 10_000,
    /**
     * While another consumer holds the event's idempotency record (in progress),
     * poll this often; the record expires after the lane's timeout.
     */
    inProgressPollMs: 250,
    /** Resolved offsets committed after this many messages (1: after every message; the fewest redeliveries after a crash). */
    commitEveryMessages: 1,
    /** Consumer session timeout: a dead consumer's partitions move after this long. */
    sessionTimeoutMs: 30_000,
    /** Longest wait for a fetch to fill. */
    maxWaitTimeMs: 500,
    /** Characters of an error message kept in a dead-letter header. */
    errorHeaderChars: 1_000,
} as const;

/** Headers a dead-lettered message carries (its key and value are the original ones). */
export const DeadLetterHeader = {
    Error: "error",
    ErrorName: "error-name",
    Attempts: "attempts",
    OriginalTopic: "original-topic",
    OriginalPartition: "original-partition",
    OriginalOffset: "original-offset",
    OriginalTimestamp: "original-timestamp",
    ConsumerGroup: "consumer-group",
    FailedAt: "failed-at",
} as const;
