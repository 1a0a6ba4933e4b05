/**
 * Platform limits and defaults, resolved in one place. Every default that a
 * user can override is listed here and asserted by the "defaults" test in test/model/config.test.ts.
 */

/** Hard limits of AWS that shape the design (see shared/DESIGN.md). */
export const Limits = {
    /**
     * SQS maximum message size (body + attributes): 1 MiB since 2025 ("Amazon SQS increases maximum
     * message payload size to 1 MiB", AWS What's New, and the AWS Compute Blog "More room to build:
     * serverless services now support payloads up to 1 MB"). A queue only takes that much when it is
     * created with it: the Pulumi AWS provider's `maxMessageSize` defaults to 262144 (256 KiB)
     * (Pulumi registry, aws.sqs.Queue, maxMessageSize). Every queue is created with
     * `QueueSettings.maxMessageSizeBytes`, which is this value.
     */
    sqsMaxMessageBytes: 1024 * 1024,
    /** SQS bills per 64 KiB chunk; lane messages above this go through the claim check. */
    laneInlineBodyBytes: 192 * 1024,
    /** SQS allows at most 10 message attributes; the envelope uses 4 of them. */
    sqsMaxAttributes: 10,
    /** Attributes the envelope itself uses (provider, request id, received time, source ip). */
    envelopeAttributes: 4,
    /** Lambda SQS event source `maximumConcurrency` bounds. */
    minConcurrency: 2,
    maxConcurrency: 1000,
    /** SQS event source batch size bounds (standard queue; FIFO allows at most 10). */
    maxBatchSize: 10000,
    maxFifoBatchSize: 10,
    /** Lambda timeout bound. */
    maxTimeoutSeconds: 900,
    /** AWS rejects a mapping whose queue visibility is below the function timeout; we keep 6x (AWS guidance). */
    visibilityTimeoutFactor: 6,
    /** SQS visibility timeout maximum (12 h). */
    maxVisibilityTimeoutSeconds: 43200,
    /** SQS maxReceiveCount bounds. */
    maxReceiveCount: 1000,
    /**
     * Lane queue retention bounds in days (`retentionDays`): "By default, a message is retained for 4 days.
     * The minimum is 60 seconds (1 minute). The maximum is 1,209,600 seconds (14 days)." (Amazon SQS
     * Developer Guide, "Quotas related to messages", Message retention:
     * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
     * Whole days from 1: a pause is measured in days, and the age alarm warns a day before (monitoring.ts).
     */
    minRetentionDays: 1,
    maxRetentionDays: 14,
    /** Provider names become part of resource names (Lambda/IAM 64, SQS 80 chars; longer names are hashed to fit). */
    maxProviderNameLength: 24,
    maxLaneNameLength: 16,
    /** The component's name (`new WebhookPipeline(name, ...)`) starts every resource name (components/naming.ts). */
    maxPipelineNameLength: 40,
    /** S3 refuses a lifecycle transition to STANDARD_IA sooner than 30 days after creation (Amazon S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle"). */
    minStandardIaTransitionDays: 30,
    /** Lambda memory bounds in MB (Lambda quotas: "Function memory allocation: 128 MB to 10,240 MB"). */
    minMemorySize: 128,
    maxMemorySize: 10240,
    /**
     * Lambda: "Environment variables: 4 KB, for all environment variables associated with the function, in aggregate"
     * (Lambda quotas page, not adjustable). Lambda measures the variables as one JSON object
     * (its error says "exceeded the 4KB limit. String measured: {...}"), so we count JSON.stringify's bytes.
     */
    maxEnvironmentBytes: 4096,
    /** API Gateway HTTP API payload limit. */
    apiMaxPayloadBytes: 10 * 1024 * 1024,
} as const;

/**
 * What every SQS queue of the pipeline is created with (catch-all, lanes and their DLQs), in both
 * backends: components/queues.ts and local/resources.ts. The code that sends (the ingress function,
 * the router's claim-check threshold) assumes `maxMessageSizeBytes`; the claim-check expiry is
 * derived from the retention periods (`claimsExpirationDays`).
 */
export const QueueSettings = {
    /** Every queue accepts what the code sends: `Limits.sqsMaxMessageBytes`. */
    maxMessageSizeBytes: Limits.sqsMaxMessageBytes,
    /** How long a message may wait in the catch-all queue, and in a lane queue without `retentionDays` (the SQS default, 4 days). */
    retentionSeconds: 4 * 24 * 3600,
    /** How long a message may wait in a DLQ: the SQS maximum, 14 days, for inspection and redrive. */
    dlqRetentionSeconds: 14 * 24 * 3600,
} as const;

/** Days added to the longest life of a queued message before its claim-check body may expire. */
export const ClaimCheckMarginDays = 3;

/**
 * Days a claim-check body (`claims/`) is kept: the longest a message that points at it can live,
 * plus a margin. A message can wait `queueRetentionSeconds` in its queue (the longest retention of any
 * lane: `retentionDays` may raise it to SQS's 14 days, so a paused lane's held message keeps its body)
 * and then `dlqRetentionSeconds` in its DLQ counted anew: moving to a FIFO DLQ resets the enqueue
 * timestamp (Amazon SQS Developer Guide, "Setting-up dead-letter queue retention in Amazon SQS"; for
 * standard queues the original timestamp is kept, so the same bound holds with room to spare). S3
 * rounds an expiry up to the next midnight UTC, so an object lives at least this long. A redrive from
 * a DLQ restarts the clock: a message redriven late can outlive its claim (see docs/claim-checks.md).
 * One rule covers every lane's claims, so it is derived from the longest retention configured.
 */
export function claimsExpirationDaysFor(queueRetentionSeconds: number = QueueSettings.retentionSeconds): number {
    return Math.ceil((Math.max(queueRetentionSeconds, QueueSettings.retentionSeconds) + QueueSettings.dlqRetentionSeconds) / 86400) + ClaimCheckMarginDays;
}

/** The claim-check expiry of a pipeline whose lanes keep the default retention (4 + 14 days, plus the margin: 21). */
export const claimsExpirationDays = claimsExpirationDaysFor();

/** Defaults for everything a provider or lane may override. */
export const ProviderDefaults = {
    /** Worker `maximumConcurrency`: how many handler invocations may run at once for a lane. */
    concurrency: 5,
    /** Records per worker invocation. */
    batchSize: 10,
    /** Deliveries before a lane message moves to the lane DLQ. */
    maxReceiveCount: 5,
    /** Worker timeout in seconds. */
    timeoutSeconds: 30,
    /** Timestamp tolerance for schemes that sign a timestamp, in seconds. */
    toleranceSeconds: 300,
    /** Lane kind. */
    lane: "sqs",
    /** Handler module from handlers/app/ that processes the lane's events. */
    handler: "log",
    /** Whether the lane is FIFO, keyed by the plugin's ordering key. */
    ordering: false,
    /** Whether the lane's worker is paused (its event source mapping disabled; messages are held). */
    paused: false,
    /** Days a lane queue keeps a message (QueueSettings.retentionSeconds in days). */
    retentionDays: QueueSettings.retentionSeconds / 86400,
    /** Worker memory in MB. */
    memorySize: 256,
    /** Days the worker's log group keeps events. */
    logRetentionDays: 30,
    /** X-Ray active tracing on the worker. */
    tracing: false,
    /** Seconds a handler secret read through `context.secrets` is cached before it is read again (a rotation shows within this). */
    secretMaxAgeSeconds: 300,
} as const;

export const RouterDefaults = {
    /**
     * Catch-all records per router invocation: the router writes one archive
     * object per provider and hour and one SendMessageBatch per 10 messages of
     * a lane, so bigger batches mean fewer calls (measured: 194 calls per 1,000
     * mixed webhooks at 100, 120 at 500). It adds no latency: the event source
     * invokes when the batching window ends, the batch is full, or 6 MB are read.
     */
    batchSize: 500,
    /** Seconds the event source waits to fill a router batch. */
    batchWindowSeconds: 1,
    /** Router `maximumConcurrency`. */
    concurrency: 10,
    /** Router timeout in seconds. */
    timeoutSeconds: 60,
    /** Deliveries of a catch-all message before it moves to the catch-all DLQ. */
    maxReceiveCount: 10,
    /** Memory of the router function in MB. */
    memorySize: 512,
} as const;

export const ApiDefaults = {
    /** Stage steady-state requests per second. */
    throttleRateLimit: 1000,
    /** Stage burst. */
    throttleBurstLimit: 2000,
} as const;

export const ArchiveDefaults = {
    /** Days before archived requests move to a cheaper storage class. */
    transitionDays: 30,
    /** Days before archived requests are deleted; 0 keeps them forever. */
    expirationDays: 0,
    /** Days idempotency keys are kept. Providers retry for up to 3 days; keep longer. */
    idempotencyDays: 7,
} as const;

/** Route targets with a special meaning. */
export const LaneName = {
    /** The provider's main lane: unmatched events go here. */
    Default: "default",
    /** Archived and counted, never processed. */
    Drop: "drop",
} as const;

/** S3 key prefixes in the archive bucket. */
export const ArchivePrefix = {
    /** Accepted requests, batched NDJSON objects, Hive-partitioned by provider and hour. */
    Raw: "raw",
    /** Rejected requests (forged, stale, unverifiable), with the reason. */
    Quarantine: "quarantine",
    /** Claim-check bodies too large for a lane message. */
    Claims: "claims",
} as const;
