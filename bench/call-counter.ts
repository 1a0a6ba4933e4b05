/**
 * Counting every AWS call a router makes, with a middleware on its SDK
 * clients: what goes over the wire is what is counted, whichever code path
 * made the call. Besides calls by operation it keeps what billing needs:
 * SQS requests in 64 KiB chunks per queue type, and bytes written to S3.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";

/** SQS bills each 64 KiB chunk of a request's payload as one request. */
export const SqsBillingChunkBytes = 64 * 1024;

export interface CallCounts {
    /** Logical calls by `Service.Operation`, e.g. `S3.PutObject`. */
    readonly calls: Record<string, number>;
    /** HTTP attempts (calls plus SDK retries). */
    attempts: number;
    /** SQS billed requests (64 KiB chunks) by queue type. */
    readonly sqsBilled: { standard: number; fifo: number };
    /** Bytes of object bodies written by PutObject. */
    s3PutBytes: number;
}

export function emptyCounts(): CallCounts {
    return { calls: {}, attempts: 0, sqsBilled: { standard: 0, fifo: 0 }, s3PutBytes: 0 };
}

export function totalCalls(counts: CallCounts): number {
    return Object.values(counts.calls).reduce((a, b) => a + b, 0);
}

/** The slice of the SDK's middleware stack we use (the clients' own types differ per service). */
interface MiddlewareStackLike {
    add(
        middleware: (next: (args: { input: Record<string, any> }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: Record<string, any> }) => Promise<unknown>,
        options: { step: "initialize" | "finalizeRequest"; name: string; priority?: "high" | "normal" | "low" },
    ): void;
}

function byteLength(body: unknown): number {
    if (body === undefined || body === null) return 0;
    if (typeof body === "string") return Buffer.byteLength(body);
    if (body instanceof Uint8Array) return body.byteLength;
    throw new Error("call counter: PutObject body is a stream; the benchmark only writes buffers and strings");
}

function attributeBytes(attributes: Record<string, { StringValue?: string; DataType?: string }> | undefined): number {
    let bytes = 0;
    for (const [name, a] of Object.entries(attributes ?? {})) bytes += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? "") + Buffer.byteLength(a.StringValue ?? "");
    return bytes;
}

/** Payload bytes of an SQS send as SQS bills it: bodies plus message attributes. */
export function sqsPayloadBytes(operation: string, input: Record<string, any>): number {
    if (operation === "SendMessage") return Buffer.byteLength(input.MessageBody ?? "") + attributeBytes(input.MessageAttributes);
    if (operation === "SendMessageBatch") {
        return (input.Entries as { MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }> }[]).reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? "") + attributeBytes(e.MessageAttributes), 0);
    }
    return 0;
}

/** Count every call `client` makes into `counts`, under `service` (e.g. "S3"). Returns the client. */
export function countCalls<C extends SQSClient | S3Client | SecretsManagerClient | DynamoDBClient>(client: C, service: string, counts: CallCounts): C {
    const stack = client.middlewareStack as unknown as MiddlewareStackLike;
    stack.add(
        (next, context) => async (args) => {
            const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
            const key = `${service}.${operation}`;
            counts.calls[key] = (counts.calls[key] ?? 0) + 1;
            if (service === "SQS") {
                const bytes = sqsPayloadBytes(operation, args.input);
                const chunks = Math.max(1, Math.ceil(bytes / SqsBillingChunkBytes));
                const fifo = typeof args.input.QueueUrl === "string" && args.input.QueueUrl.endsWith(".fifo");
                counts.sqsBilled[fifo ? "fifo" : "standard"] += chunks;
            }
            if (service === "S3" && operation === "PutObject") counts.s3PutBytes += byteLength(args.input.Body);
            return next(args);
        },
        { step: "initialize", name: "benchCallCounter" },
    );
    // The retry middleware sits in finalizeRequest at high priority: a low-priority one runs once per attempt.
    stack.add(
        (next) => async (args) => {
            counts.attempts += 1;
            return next(args);
        },
        { step: "finalizeRequest", name: "benchAttemptCounter", priority: "low" },
    );
    return client;
}

export interface CountedClients {
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretsManagerClient;
    readonly dynamo: DynamoDBClient;
    readonly counts: CallCounts;
}

/** Fresh clients for the emulator at `endpoint`, all counted into one `CallCounts`. */
export function countedClients(endpoint: string): CountedClients {
    const counts = emptyCounts();
    const common = { endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    return {
        sqs: countCalls(new SQSClient(common), "SQS", counts),
        s3: countCalls(new S3Client({ ...common, forcePathStyle: true }), "S3", counts),
        secrets: countCalls(new SecretsManagerClient(common), "SecretsManager", counts),
        dynamo: countCalls(new DynamoDBClient(common), "DynamoDB", counts),
        counts,
    };
}

/** Calls and their total wall time by `Service.Operation` (SDK retries included in a call's time). */
export type CallTimings = Record<string, { calls: number; totalMs: number }>;

/**
 * Wall time during which at least one call was in flight: calls that overlap
 * (the worker's legacy-key GetItem runs beside its PutItem) count once, so
 * "time in DynamoDB" can be taken out of an elapsed time without going negative.
 */
export class BusyClock {
    private inFlight = 0;
    private since = 0;
    public totalMs = 0;
    public enter(): void {
        if (this.inFlight++ === 0) this.since = performance.now();
    }
    public leave(): void {
        if (--this.inFlight === 0) this.totalMs += performance.now() - this.since;
    }
    public reset(): void {
        this.totalMs = 0;
        if (this.inFlight > 0) this.since = performance.now();
    }
}

/**
 * Time every call `client` makes into `timings`, under `service`. Returns the
 * client. Concurrent calls each count their own wall time, so the total can
 * exceed the elapsed time. A ReceiveMessage that returned no message (a long
 * poll on an empty queue: waiting, not work) is kept apart, under
 * `SQS.ReceiveMessage (empty)`. `busy`, when given, also gets the wall time
 * during which any of them was in flight.
 */
export function timeCalls<C extends SQSClient | S3Client | SecretsManagerClient | DynamoDBClient>(client: C, service: string, timings: CallTimings, busy?: BusyClock): C {
    const stack = client.middlewareStack as unknown as MiddlewareStackLike;
    stack.add(
        (next, context) => async (args) => {
            const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
            const started = performance.now();
            busy?.enter();
            let empty = false;
            try {
                const result = (await next(args)) as { output?: { Messages?: unknown[] } };
                empty = operation === "ReceiveMessage" && !result.output?.Messages?.length;
                return result;
            } finally {
                const t = (timings[`${service}.${operation}${empty ? " (empty)" : ""}`] ??= { calls: 0, totalMs: 0 });
                t.calls += 1;
                t.totalMs += performance.now() - started;
                busy?.leave();
            }
        },
        { step: "initialize", name: "benchCallTimer" },
    );
    return client;
}
