/**
 * The stack configuration contract, validated before anything is created.
 *
 * `validateConfig` never throws on bad input: it returns every problem, each
 * as `<path>: <what is wrong> (<the fix>)`, so `pulumi preview` shows one
 * message listing all of them. Unknown keys are errors.
 */
import { z } from "zod";
import { getPlugin } from "../providers";
import { HmacSchemeOptions, PluginName } from "../providers/types";
import { parseCidr } from "./source-ip";
import { ArchiveDefaults, LaneName, Limits, ProviderDefaults, RouterDefaults } from "./constants";
import { backendsFor, DeliveryHeaderPrefix, DestinationDefaults, ReservedDestinationHeaders } from "./delivery";
import { laneWorkerProblems, resolveLaneSettings, vpcEndpointProblems, WorkerAt, workerSettingsProblems } from "./worker-settings";

const pluginNames = Object.values(PluginName) as [PluginName, ...PluginName[]];

const int = (min: number, max: number) =>
    z
        .number({ invalid_type_error: `must be a whole number between ${min} and ${max}` })
        .int(`must be a whole number between ${min} and ${max}`)
        .min(min, `must be between ${min} and ${max}`)
        .max(max, `must be between ${min} and ${max}`);

const headerName = z
    .string({ invalid_type_error: "must be a header name" })
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be a valid HTTP header name");

const dotPath = z
    .string({ invalid_type_error: "must be a dot path such as data.id" })
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, "must be a dot path such as data.id");

const secretValue = z.string({ invalid_type_error: "must be a string (set it with `pulumi config set --secret --path ...`)" }).min(1, "must not be empty");

/** A Standard Webhooks signing secret: `whsec_` and the base64 key (what `standardwebhooks` and Svix generate). */
const signingSecretValue = secretValue.regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, "must be a Standard Webhooks secret: whsec_ followed by a base64 key of at least 12 bytes (the value is not shown)");

/**
 * An HTTP endpoint of yours that receives the lane's verified events, in
 * place of a handler module. The URL and header rules are checked in
 * crossFieldProblems (they need the lane's other settings).
 */
const destinationSchema = z
    .object({
        /** https (http only to a loopback address, which only `npm start` can reach); no credentials in it. Redirects are never followed. */
        url: z.string({ required_error: "is required", invalid_type_error: "must be a URL" }).min(1, "must be a URL"),
        /** @default "POST" */
        method: z.enum(["POST", "PUT", "PATCH"], { errorMap: () => ({ message: "must be POST, PUT or PATCH" }) }).optional(),
        /** Seconds one request may take before it counts as failed (and is retried). Range 1..900. @default 10 */
        timeoutSeconds: int(1, Limits.maxTimeoutSeconds).optional(),
        /** Extra headers sent with every request (not the pipeline's own, not hop-by-hop). */
        headers: z.record(headerName, z.string({ invalid_type_error: "must be a string" }).regex(/^[\t\x20-\x7e\x80-\xff]*$/, "must not contain control characters")).optional(),
        /** A header whose value is a secret (`Authorization: Bearer ...`). */
        auth: z.object({ header: headerName, secret: secretValue }).strict().optional(),
        /** Sign every request with Standard Webhooks; a list during rotation (one signature per secret). Pulumi secrets. */
        signingSecret: z.union([signingSecretValue, z.array(signingSecretValue).min(1, "must list at least one secret").max(5, "must list at most 5 secrets")]).optional(),
        /** Most deliveries started per second for the lane, across all its workers. Range 1..10000. @default no limit */
        rateLimitPerSecond: int(1, 10000).optional(),
    })
    .strict();

/** When a failed message is delivered again; attempts stay `maxReceiveCount`. */
const retrySchema = z
    .object({
        backoff: z.enum(["exponential", "fixed"], { errorMap: () => ({ message: 'must be "exponential" or "fixed"' }) }),
        /** Delay before the second attempt, seconds. Range 1..43200 (SQS's 12 h visibility limit). */
        initialSeconds: int(1, Limits.maxVisibilityTimeoutSeconds),
        /** Longest delay, seconds. Range 1..43200. @default 900 */
        maxSeconds: int(1, Limits.maxVisibilityTimeoutSeconds).optional(),
    })
    .strict();

/** Limits that a lane may override; shared by a provider and each of its named lanes. */
const laneSettings = {
    /** Lane kind: an SQS queue + Lambda worker, or a Kafka topic + consumer group. @default "sqs" */
    lane: z.enum(["sqs", "kafka"], { errorMap: () => ({ message: 'must be "sqs" or "kafka"' }) }).optional(),
    /** Worker maximum concurrency (SQS) or partitions (Kafka). Range 2..1000. @default 5 */
    concurrency: int(Limits.minConcurrency, Limits.maxConcurrency).optional(),
    /** Records per worker invocation. Range 1..10000 (1..10 for ordered lanes). @default 10 */
    batchSize: int(1, Limits.maxBatchSize).optional(),
    /** Deliveries before a message moves to the lane DLQ. Range 1..1000. @default 5 */
    maxReceiveCount: int(1, Limits.maxReceiveCount).optional(),
    /** Worker timeout in seconds. Range 1..900; the queue visibility is 6x this. @default 30 */
    timeoutSeconds: int(1, Limits.maxTimeoutSeconds).optional(),
    /** FIFO lane keyed by the plugin's ordering key (Kafka lanes are keyed by it always). @default false */
    ordering: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
    /**
     * Hold the lane: its worker takes no messages (the event source mapping is created disabled, and
     * `npm start` does not poll it), while requests are still acknowledged, verified, archived and held in
     * the lane queue (SQS) or topic (Kafka). A named lane's value replaces the provider's. `npm run ops --
     * pause|resume` flips it for an emergency; the next `pulumi up` sets it back to this value. @default false
     */
    paused: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
    /**
     * Days the lane queue keeps a message (SQS lanes): a pause must end before this, or SQS deletes the oldest
     * messages (the archive keeps every request; `ops replay` recovers them). Range 1..14 (SQS's maximum).
     * Kafka lanes: refused (the topic's retention is the cluster's). @default 4
     */
    retentionDays: int(Limits.minRetentionDays, Limits.maxRetentionDays).optional(),
    /** Handler module in handlers/app/ that processes this lane. @default "log" */
    handler: z.string({ invalid_type_error: "must be a handler module name" }).regex(/^[a-z0-9-]+$/, "must be a handler module name (lowercase letters, digits, -)").optional(),
    /** Deliver to your HTTP service instead of a handler module. Conflicts with `handler`. A lane's own `handler` or `destination` replaces the provider's. @default none */
    destination: destinationSchema.optional(),
    /** Retry schedule of failed messages (handler and destination lanes). @default the queue's visibility timeout (SQS), the runner's backoff (Kafka) */
    retry: retrySchema.optional(),
    // Worker settings (docs/handlers.md): shapes here, ranges and refusals in model/worker-settings.ts.
    /** Worker memory in MB. Range 128..10240. @default 256 */
    memorySize: z.number({ invalid_type_error: "must be a whole number of MB between 128 and 10240" }).optional(),
    /** Days the worker's log group keeps events: a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ...), or 0 for never expire. @default 30 */
    logRetentionDays: z.number({ invalid_type_error: "must be a number of days CloudWatch Logs accepts" }).optional(),
    /** X-Ray active tracing on the worker. @default false */
    tracing: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
    /** Plain environment variables for the handler (never secrets: use `secrets`). Merged by name over the provider's on a named lane. */
    environment: z.record(z.string(), z.string({ invalid_type_error: "must be a string (quote numbers and booleans)" }), { invalid_type_error: "must be a map of names to strings" }).optional(),
    /** Handler secrets by name: a Pulumi secret value, or the full ARN of an existing Secrets Manager secret. Merged by name over the provider's on a named lane. */
    secrets: z.record(z.string(), secretValue, { invalid_type_error: "must be a map of names to secret values or secret ARNs" }).optional(),
    /** Extra IAM statements for this worker's role only. A named lane adds its own to the provider's. */
    permissions: z
        .array(
            z
                .object({
                    actions: z.array(z.string({ invalid_type_error: "must be an IAM action such as s3:GetObject" }), { required_error: "is required", invalid_type_error: "must be a list of IAM actions" }),
                    resources: z.array(z.string({ invalid_type_error: "must be an ARN" }), { required_error: "is required", invalid_type_error: "must be a list of ARNs" }),
                    effect: z.string({ invalid_type_error: 'must be "Allow"' }).optional(),
                })
                .strict(),
            { invalid_type_error: "must be a list of { actions, resources } statements" },
        )
        .optional(),
    /** Run the worker in your VPC (to reach a database in private subnets). Replaces the provider's on a named lane. @default no VPC */
    vpc: z
        .object({
            subnetIds: z.array(z.string({ invalid_type_error: "must be a subnet id (subnet-...)" }), { required_error: "is required", invalid_type_error: "must be a list of subnet ids" }),
            securityGroupIds: z.array(z.string({ invalid_type_error: "must be a security group id (sg-...)" }), { required_error: "is required", invalid_type_error: "must be a list of security group ids" }),
            /** Create the VPC endpoints the worker needs (S3 and DynamoDB gateways, Secrets Manager, X-Ray). @default false (your NAT or endpoints) */
            endpoints: z.boolean({ invalid_type_error: "must be true or false" }).optional(),
            /** Route tables of the subnets, for the S3 and DynamoDB gateway endpoints (with endpoints: true). */
            routeTableIds: z.array(z.string({ invalid_type_error: "must be a route table id (rtb-...)" }), { invalid_type_error: "must be a list of route table ids" }).optional(),
        })
        .strict()
        .optional(),
};

/**
 * A route's lanes: a lane name, or a list of them (fan-out). Checked by hand rather than as a zod union,
 * so that a bad list element is named by its own index (`routes["invoice.*"][1]`) and the other elements
 * are still checked against the declared lanes (crossFieldProblems).
 */
const routeTarget = z.custom<string | string[]>((value) => value !== undefined, { message: "is required" }).superRefine((value, ctx) => {
    if (typeof value === "string") return;
    if (!Array.isArray(value)) {
        const kind = value === null ? "null" : typeof value === "object" ? "an object" : undefined;
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a lane name or a list of lane names${kind ? `, got ${kind}` : ""}` });
        return;
    }
    if (value.length === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "must list at least one lane (or route to drop)" });
    value.forEach((lane, j) => {
        if (typeof lane !== "string") ctx.addIssue({ code: z.ZodIssueCode.custom, path: [j], message: "must be a lane name" });
    });
});

const signatureSchema = z
    .object({
        header: headerName,
        algorithm: z.enum(["sha1", "sha256", "sha512"], { errorMap: () => ({ message: "must be sha1, sha256 or sha512" }) }),
        encoding: z.enum(["hex", "base64"], { errorMap: () => ({ message: "must be hex or base64" }) }),
        prefix: z.string({ invalid_type_error: "must be a string" }).optional(),
        timestampHeader: headerName.optional(),
    })
    .strict();

const providerSchema = z
    .object({
        /** Lowercase letters, digits and `-`; unique; the URL is `/webhooks/<name>`. */
        name: z
            .string({ required_error: "is required", invalid_type_error: "must be a string" })
            .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and '-', starting and ending with a letter or digit")
            .max(Limits.maxProviderNameLength, `must be at most ${Limits.maxProviderNameLength} characters (it becomes part of AWS resource names)`),
        plugin: z.enum(pluginNames, { errorMap: () => ({ message: `must be one of ${pluginNames.join(", ")}` }) }),
        /** Signing secret, or a list of secrets during rotation (any may match). A Pulumi secret. */
        secret: z.union([secretValue, z.array(secretValue).min(1, "must list at least one secret").max(5, "must list at most 5 secrets")]).optional(),
        /** Timestamp tolerance in seconds for schemes that sign a timestamp. Range 1..3600. @default 300 */
        toleranceSeconds: int(1, 3600).optional(),
        /**
         * Event type pattern (`*` matches anything) -> lane name, or a list of 1+ distinct lane names (fan-out:
         * each lane gets the event once, with its own idempotency). First match wins; unmatched events go to
         * `default`. `drop` archives without processing and cannot be combined with lanes in a list.
         */
        routes: z.record(z.string().min(1, "pattern must not be empty"), routeTarget).optional(),
        /** Named lanes other than `default`, each overriding the provider's settings. */
        lanes: z.record(z.string(), z.object(laneSettings).strict()).optional(),
        /**
         * `direct`: API Gateway sends to the catch-all queue itself; `function`: a small ingress function
         * does (exact bytes for any body, the full URL with its query string, handshakes).
         * @default `function` for plugins with a handshake (Slack) or that sign the URL (Twilio), else `direct`
         */
        ingress: z.enum(["direct", "function"], { errorMap: () => ({ message: 'must be "direct" or "function"' }) }).optional(),
        /**
         * CIDR blocks (IPv4 or IPv6) the provider sends from; a request from any other address is quarantined
         * as `source-ip`. The address is the connection's, never X-Forwarded-For. @default any address
         */
        allowedSourceIps: z
            .array(z.string({ invalid_type_error: "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/32" }), { invalid_type_error: "must be a list of CIDR blocks" })
            .min(1, "must list at least one CIDR block (remove it to accept any address)")
            .optional(),
        signature: signatureSchema.optional(),
        eventIdPath: dotPath.optional(),
        eventTypePath: dotPath.optional(),
        eventIdHeader: headerName.optional(),
        eventTypeHeader: headerName.optional(),
        orderingKeyPath: dotPath.optional(),
        ...laneSettings,
    })
    .strict();

const kafkaSchema = z
    .object({
        /** `msk-serverless` creates a cluster with IAM auth; `external` uses brokers you run. @default "msk-serverless" */
        mode: z.enum(["msk-serverless", "external"], { errorMap: () => ({ message: 'must be "msk-serverless" or "external"' }) }).optional(),
        brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, "must be host:port")).min(1, "must list at least one broker").optional(),
        sasl: z
            .object({
                mechanism: z.enum(["scram-sha-512", "scram-sha-256", "aws-iam"], { errorMap: () => ({ message: "must be scram-sha-512, scram-sha-256 or aws-iam" }) }),
                username: z.string().optional(),
                password: secretValue.optional(),
            })
            .strict()
            .optional(),
        tls: z.boolean().optional(),
        vpcId: z.string().optional(),
        subnetIds: z.array(z.string()).min(2, "must list at least two subnets in different availability zones").optional(),
        securityGroupIds: z.array(z.string()).optional(),
        /** First part of every topic name, `<topicPrefix>.<provider>.<lane>`: give each stack its own when stacks share a cluster. @default the pipeline's name */
        topicPrefix: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "must be 1 to 100 letters, digits, '.', '_' or '-' (Kafka topic characters)").optional(),
        /** external mode: replication factor of the topics the router creates. @default the brokers' default.replication.factor */
        replicationFactor: int(1, 32).optional(),
    })
    .strict();

export const configSchema = z
    .object({
        providers: z.array(providerSchema, { required_error: "is required: declare at least one provider", invalid_type_error: "must be a list of providers" }).min(1, "must declare at least one provider"),
        router: z
            .object({
                batchSize: int(1, Limits.maxBatchSize).optional(),
                batchWindowSeconds: int(0, 300).optional(),
                concurrency: int(Limits.minConcurrency, Limits.maxConcurrency).optional(),
                timeoutSeconds: int(1, Limits.maxTimeoutSeconds).optional(),
                memorySize: int(128, 10240).optional(),
            })
            .strict()
            .optional(),
        api: z
            .object({
                throttleRateLimit: int(1, 100000).optional(),
                throttleBurstLimit: int(1, 100000).optional(),
                /**
                 * A custom domain for the API (API Gateway regional endpoint, TLS 1.2): `name` (a host name),
                 * `certificateArn` (an ACM certificate for it, in the stack's region), `hostedZoneId` (optional:
                 * a Route 53 alias record is created there). `url` and `webhookUrls` then use it.
                 */
                domain: z
                    .object({
                        name: z.string({ required_error: "is required", invalid_type_error: "must be a host name such as hooks.example.com" }),
                        certificateArn: z.string({ required_error: "is required", invalid_type_error: "must be an ACM certificate ARN" }),
                        hostedZoneId: z.string({ invalid_type_error: "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ" }).optional(),
                    })
                    .strict()
                    .optional(),
            })
            .strict()
            .optional(),
        archive: z
            .object({
                /**
                 * Days before archived requests move to STANDARD_IA. Range 30..3650: S3 refuses a transition to
                 * STANDARD_IA sooner than 30 days after creation (Amazon S3 User Guide, "Transitioning objects using
                 * Amazon S3 Lifecycle", constraints). @default 30
                 */
                transitionDays: int(Limits.minStandardIaTransitionDays, 3650).optional(),
                /** Days before archived requests are deleted; 0 keeps them. Must be greater than transitionDays (S3 rejects a rule otherwise). @default 0 */
                expirationDays: int(0, 36500).optional(),
                idempotencyDays: int(1, 365).optional(),
            })
            .strict()
            .optional(),
        kafka: kafkaSchema.optional(),
        /** SNS topic ARN that alarms notify. @default none (alarms only show in the console) */
        alarmTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:/, "must be an SNS topic ARN").optional(),
    })
    .strict();

export type PipelineConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type LaneSettings = z.infer<z.ZodObject<typeof laneSettings>>;
export type KafkaConfig = z.infer<typeof kafkaSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;

/** Every problem with a configuration, collected. */
export class ConfigError extends Error {
    public readonly name = "ConfigError";
    constructor(public readonly problems: readonly string[]) {
        super(`invalid webhook-pipeline configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    }
}

export type ValidationResult = { ok: true; config: PipelineConfig } | { ok: false; problems: string[] };

/**
 * `["providers", 2, "concurrency"]` -> `providers[2].concurrency`. Given the config as `root`, a provider's
 * index carries its name: `providers[2] (shopify).concurrency`, which is how a reader finds it in the stack file.
 */
export function formatPath(path: readonly (string | number)[], root?: unknown): string {
    return path.reduce<string>((out, part, at) => {
        if (typeof part === "number") return `${out}[${part}]${at === 1 && path[0] === "providers" ? nameTag(providerNameAt(root, part)) : ""}`;
        // Route patterns and lane names are keys too: `routes["invoice.*"]`, never `routes.invoice.*`.
        if (!plainPathKey.test(part)) return `${out}[${JSON.stringify(part)}]`;
        return out ? `${out}.${part}` : part;
    }, "");
}

/** Keys printed after a dot; any other key (empty, dots, '*', spaces, quotes) is printed quoted in brackets. */
const plainPathKey = /^[A-Za-z0-9_$-]+$/;

function providerNameAt(root: unknown, index: number): unknown {
    const providers = isRecord(root) ? root.providers : undefined;
    const provider = Array.isArray(providers) ? providers[index] : undefined;
    return isRecord(provider) ? provider.name : undefined;
}

/** ` (shopify)` beside an index; nothing for a missing name or one that would garble the path (parentheses, spaces, very long). */
function nameTag(name: unknown): string {
    return typeof name === "string" && /^[^()\s]{1,64}$/.test(name) ? ` (${name})` : "";
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Known handler modules are passed in so validation stays pure. */
export interface ValidateOptions {
    /** Names of handler modules available in handlers/app/. Unchecked when omitted. */
    readonly handlers?: readonly string[];
    /** The stack's AWS region (`aws:region`), when known: api.domain's certificate must be in it. */
    readonly region?: string;
}

/**
 * Validate raw configuration (as read from stack config: `providers`, `router`, ...).
 * Returns all problems, each naming the path, the bad value where useful, and the fix.
 *
 * Schema problems do not hide the cross-field ones (duplicate names, routes to undeclared lanes, ...):
 * those run on what remains of the input once every value the schema refused is set aside, so one
 * run lists everything a user has to fix.
 */
export function validateConfig(raw: unknown, options: ValidateOptions = {}): ValidationResult {
    const parsed = configSchema.safeParse(raw);
    if (parsed.success) {
        const problems = crossFieldProblems(parsed.data, options);
        return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
    }
    const seen = new Set<string>();
    const schemaProblems: string[] = [];
    for (const issue of parsed.error.issues) {
        // One problem per refused value: 1.5 for a concurrency is "not a whole number", not also "below the minimum".
        const key = issue.code === z.ZodIssueCode.unrecognized_keys ? `${issue.path.join("\0")}\0keys` : issue.path.join("\0");
        if (seen.has(key)) continue;
        seen.add(key);
        schemaProblems.push(describeIssue(issue, raw));
    }
    const rest = crossFieldProblems(withoutRefused(raw, parsed.error.issues), options);
    return { ok: false, problems: [...schemaProblems, ...rest.filter((p) => !schemaProblems.includes(p))] };
}

/** Like validateConfig but throws a ConfigError listing every problem. */
export function parseConfig(raw: unknown, options: ValidateOptions = {}): PipelineConfig {
    const result = validateConfig(raw, options);
    if (!result.ok) throw new ConfigError(result.problems);
    return result.config;
}

/**
 * A copy of `raw` without the values the schema refused, for the cross-field checks. What is left
 * is of the schema's types except that required fields may be missing (see LooseConfig). A list
 * that is too short or too long keeps its elements: each is checked on its own.
 */
function withoutRefused(raw: unknown, issues: readonly z.ZodIssue[]): LooseConfig {
    const copy: unknown = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
    if (!isRecord(copy)) return {};
    for (const issue of issues) {
        if (issue.code === z.ZodIssueCode.unrecognized_keys) continue;
        if ((issue.code === z.ZodIssueCode.too_small || issue.code === z.ZodIssueCode.too_big) && issue.type === "array") continue;
        if (issue.path.length === 0) return {};
        let parent: unknown = copy;
        for (const part of issue.path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | undefined)?.[part];
        const last = issue.path[issue.path.length - 1];
        if (Array.isArray(parent) && typeof last === "number") parent[last] = undefined; // keep the indexes the messages name
        else if (isRecord(parent)) delete parent[last];
    }
    return copy as LooseConfig;
}

/** The configuration as the cross-field checks see it: schema types, but a refused required field may be missing. */
interface LooseConfig {
    readonly providers?: readonly (LooseProvider | undefined)[];
    readonly router?: PipelineConfig["router"];
    readonly archive?: PipelineConfig["archive"];
    readonly api?: { readonly domain?: { readonly name?: unknown; readonly certificateArn?: unknown; readonly hostedZoneId?: unknown } };
    readonly kafka?: Omit<KafkaConfig, "sasl"> & { readonly sasl?: Partial<NonNullable<KafkaConfig["sasl"]>> };
}
type LooseProvider = Partial<Omit<ProviderConfig, "signature">> & { readonly signature?: Partial<NonNullable<ProviderConfig["signature"]>> };

/** A refused value as it may be shown: never a secret's, never a whole object. */
function shown(path: readonly (string | number)[], value: unknown): string | undefined {
    // Anything under a key that names a secret (provider `secret`, handler `secrets.*`, a destination's
    // `signingSecret` and `auth.secret`, Kafka's `sasl.password`) is never echoed back.
    if (path.some((part) => typeof part === "string" && /secret|password/i.test(part))) return undefined;
    if (value === undefined) return undefined;
    if (value === null || typeof value === "object") return undefined; // a list or an object: its path says where
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
    let at: unknown = root;
    for (const part of path) {
        if (at === null || typeof at !== "object") return undefined;
        at = (at as Record<string | number, unknown>)[part];
    }
    return at;
}

function describeIssue(issue: z.ZodIssue, raw: unknown): string {
    const where = formatPath(issue.path, raw) || "(config)";
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
        return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling against the README's config reference)`;
    }
    if (issue.code === z.ZodIssueCode.invalid_type && issue.received === "undefined") {
        return `${where}: is required`;
    }
    const value = shown(issue.path, valueAt(raw, issue.path));
    if (issue.code === z.ZodIssueCode.invalid_union) {
        // zod's own text here is "Invalid input": say what the alternative of the value's kind wants (a list's element),
        // or else the first alternative (a secret: a string).
        const alternatives = issue.unionErrors.map((e) => e.issues[0]).filter(Boolean);
        const first = (alternatives.find((i) => i.code !== z.ZodIssueCode.invalid_type) ?? alternatives[0])?.message;
        if (first) return `${where}: ${first}${value === undefined ? "" : `, got ${value}`}`;
    }
    if (value !== undefined && (issue.code === z.ZodIssueCode.too_small || issue.code === z.ZodIssueCode.too_big) && issue.type === "number") {
        const bound = issue.code === z.ZodIssueCode.too_small ? `below the minimum of ${issue.minimum}` : `above the maximum of ${issue.maximum}`;
        return `${where}: ${value} is ${bound} (${issue.message})`;
    }
    if (value !== undefined && issue.code === z.ZodIssueCode.invalid_type && issue.expected === "integer") {
        return `${where}: ${value} is not a whole number (${issue.message})`;
    }
    // zod's default text for a wrong type ("Expected object, received null") says it less plainly than ours.
    if (issue.code === z.ZodIssueCode.invalid_type) {
        const message = issue.message.startsWith("Expected") ? `must be ${kindNames[issue.expected] ?? issue.expected}` : issue.message;
        return `${where}: ${message}, got ${value ?? kindNames[issue.received] ?? issue.received}`;
    }
    return value === undefined ? `${where}: ${issue.message}` : `${where}: ${issue.message}, got ${value}`;
}

const kindNames: Partial<Record<string, string>> = { object: "an object", array: "a list", string: "a string", number: "a number", boolean: "true or false", null: "null" };

/** Headers a provider's plugin reads; hmac headers come from config. Needed for the 10-attribute limit. */
export function hmacOptionsOf(provider: ProviderConfig): HmacSchemeOptions | undefined {
    if (provider.plugin !== PluginName.Hmac || !provider.signature) return undefined;
    return {
        signature: provider.signature,
        eventIdPath: provider.eventIdPath,
        eventTypePath: provider.eventTypePath,
        eventIdHeader: provider.eventIdHeader,
        eventTypeHeader: provider.eventTypeHeader,
        orderingKeyPath: provider.orderingKeyPath,
    };
}

const hmacOnlyKeys = ["signature", "eventIdPath", "eventTypePath", "eventIdHeader", "eventTypeHeader", "orderingKeyPath"] as const;

/** The destination a lane delivers to: its own, else the provider's unless the lane names a handler of its own. */
export function destinationOf(provider: ProviderConfig, lane: LaneSettings): DestinationConfig | undefined {
    if (lane === provider) return provider.destination;
    return lane.destination ?? (lane.handler ? undefined : provider.destination);
}

/** Destination and retry rules of one settings object (the provider's, or a named lane's with the provider's as fallback). */
function deliveryProblems(where: string, p: ProviderConfig, s: LaneSettings): string[] {
    const problems: string[] = [];
    if (s.destination && s.handler) problems.push(`${where}.destination: conflicts with ${where}.handler (a lane ends in a handler module or a destination; remove one)`);
    if (s.retry && s.retry.maxSeconds !== undefined && s.retry.maxSeconds < s.retry.initialSeconds) {
        problems.push(`${where}.retry.maxSeconds: must be at least retry.initialSeconds (${s.retry.initialSeconds}), got ${s.retry.maxSeconds}`);
    }
    const d = destinationOf(p, s);
    if (!d) return problems;
    // A lane inheriting the provider's destination: the URL and headers were checked at the provider; the pace check still depends on the lane.
    const own = s.destination !== undefined;
    const at = `${where}.destination`;
    if (own) {
        let url: URL | undefined;
        try {
            url = new URL(d.url);
        } catch {
            problems.push(`${at}.url: must be an absolute URL such as https://api.internal.example.com/hooks, got "${d.url}"`);
        }
        if (url) {
            if (url.username || url.password) problems.push(`${at}.url: must not carry credentials (put them in destination.auth, a Pulumi secret; the URL is shown in logs and the console)`);
            else if (backendsFor(url).length === 0) {
                problems.push(
                    url.protocol === "http:"
                        ? `${at}.url: must be https (http is allowed only to a loopback address, for npm start), got "${d.url}"`
                        : `${at}.url: must be an https URL, got "${d.url}"`,
                );
            }
        }
        const auth = d.auth?.header.toLowerCase();
        for (const name of Object.keys(d.headers ?? {})) {
            const lower = name.toLowerCase();
            if (ReservedDestinationHeaders.includes(lower) || lower.startsWith(DeliveryHeaderPrefix)) {
                problems.push(`${keyPath(`${at}.headers`, name)}: is set by the pipeline or is a hop-by-hop header (remove it)`);
            } else if (lower === auth) {
                problems.push(`${keyPath(`${at}.headers`, name)}: conflicts with destination.auth.header (the auth header's value comes from its secret; remove it here)`);
            }
        }
        if (auth && (ReservedDestinationHeaders.includes(auth) || auth.startsWith(DeliveryHeaderPrefix))) problems.push(`${at}.auth.header: "${d.auth!.header}" is set by the pipeline or is a hop-by-hop header (use Authorization or a header of your own)`);
    }
    const rate = d.rateLimitPerSecond;
    if (rate !== undefined) {
        const concurrency = s.concurrency ?? p.concurrency ?? ProviderDefaults.concurrency;
        const batch = s.batchSize ?? p.batchSize ?? ProviderDefaults.batchSize;
        const timeout = s.timeoutSeconds ?? p.timeoutSeconds ?? ProviderDefaults.timeoutSeconds;
        const destinationTimeout = d.timeoutSeconds ?? DestinationDefaults.timeoutSeconds;
        if (rate < concurrency) {
            problems.push(
                `${at}.rateLimitPerSecond: must be at least the lane's concurrency (${concurrency}), got ${rate}: each of the ${concurrency} workers paces itself to rateLimitPerSecond / concurrency, and needs at least one start per second (lower concurrency to ${rate} or raise the limit)`,
            );
        } else {
            const perWorker = Math.floor(rate / concurrency);
            const needed = Math.ceil(batch / perWorker + destinationTimeout);
            if (needed > timeout) {
                problems.push(
                    `${where}.timeoutSeconds: a batch of ${batch} at ${perWorker} starts per second per worker (rateLimitPerSecond ${rate} / concurrency ${concurrency}) plus the destination timeout of ${destinationTimeout} s needs ${needed} s, the worker timeout is ${timeout} s (raise timeoutSeconds to at least ${needed}, or lower batchSize to ${Math.max(1, Math.floor((timeout - destinationTimeout) * perWorker))})`,
                );
            }
        }
    } else {
        const timeout = s.timeoutSeconds ?? p.timeoutSeconds ?? ProviderDefaults.timeoutSeconds;
        const destinationTimeout = d.timeoutSeconds ?? DestinationDefaults.timeoutSeconds;
        if (destinationTimeout >= timeout) problems.push(`${at}.timeoutSeconds: must be below the worker timeout (${timeout} s), got ${destinationTimeout} (raise ${where}.timeoutSeconds or lower the destination's)`);
    }
    return problems;
}

/** `base.key`, or `base["key"]` for a key that is not plain. */
function keyPath(base: string, key: string): string {
    return plainPathKey.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function crossFieldProblems(config: LooseConfig, options: ValidateOptions): string[] {
    const problems: string[] = [];
    const seen = new Map<string, number>();
    const workers: WorkerAt[] = [];
    (config.providers ?? []).forEach((p, i) => {
        if (!p) return; // refused as a whole (not an object): already reported
        const at = formatPath(["providers", i], config);
        const pathOf = (...rest: string[]) => formatPath(["providers", i, ...rest], config);
        const full = p as ProviderConfig;
        const name = p.name ?? `#${i}`;
        const first = p.name === undefined ? undefined : seen.get(p.name);
        if (p.ingress === "direct" && p.plugin !== undefined && p.plugin !== PluginName.Hmac && getPlugin(p.plugin).handshake) {
            problems.push(`${at}.ingress: plugin ${p.plugin} answers a handshake, which only the ingress function can do (remove ingress or set it to function)`);
        }
        if (p.name === "ingress") problems.push(`${at}.name: "ingress" is reserved (claims/ingress/ holds the ingress functions' claim checks; pick another name)`);
        if (first !== undefined) problems.push(`${at}.name: "${p.name}" is already used by providers[${first}] (names must be unique; they are the URL path)`);
        else if (p.name !== undefined) seen.set(p.name, i);

        (p.allowedSourceIps ?? []).forEach((cidr, j) => {
            if (typeof cidr === "string" && !parseCidr(cidr)) {
                problems.push(`${formatPath(["providers", i, "allowedSourceIps", j], config)}: "${cidr}" is not a CIDR block (an IPv4 or IPv6 address with an optional /prefix, such as 203.0.113.0/24 or 2001:db8::/32)`);
            }
        });

        if (p.plugin === PluginName.Hmac) {
            if (!p.signature) problems.push(`${at}.signature: is required when plugin is hmac (header, algorithm, encoding)`);
            if (p.eventIdPath && p.eventIdHeader) problems.push(`${at}.eventIdHeader: conflicts with eventIdPath (set one of them)`);
            if (p.eventTypePath && p.eventTypeHeader) problems.push(`${at}.eventTypeHeader: conflicts with eventTypePath (set one of them)`);
            const delivers = [p, ...Object.values(p.lanes ?? {})].some((s) => destinationOf(full, s));
            const headers = new Set([p.signature?.header, p.signature?.timestampHeader, p.eventIdHeader, p.eventTypeHeader, delivers ? "content-type" : undefined].filter(Boolean).map((h) => h!.toLowerCase()));
            // A direct route with an allowlist carries a second copy of the source IP (EnvelopeAttribute.SourceIpEnd).
            const room = Limits.sqsMaxAttributes - Limits.envelopeAttributes - (p.allowedSourceIps && p.ingress !== "function" ? 1 : 0);
            if (headers.size > room) problems.push(`${at}: declares ${headers.size} headers, at most ${room} fit in SQS message attributes`);
        } else if (p.plugin !== undefined) {
            for (const key of hmacOnlyKeys) {
                if (p[key] !== undefined) problems.push(`${at}.${key}: only applies to plugin hmac (plugin is ${p.plugin}; remove it)`);
            }
        }

        const named = Object.keys(p.lanes ?? {});
        const laneNames = new Set<string>([LaneName.Default, ...named]);
        for (const name of named) {
            const lanePath = pathOf("lanes", name);
            if (name === LaneName.Default || name === LaneName.Drop) problems.push(`${lanePath}: "${name}" is reserved (configure the default lane on the provider itself)`);
            else if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) || name.length > Limits.maxLaneNameLength) {
                problems.push(`${lanePath}: lane names must be lowercase letters, digits and '-', at most ${Limits.maxLaneNameLength} characters`);
            }
        }
        for (const [pattern, value] of Object.entries(p.routes ?? {})) {
            // A refused list element is set aside as undefined (withoutRefused): it was reported already.
            const list = Array.isArray(value) ? value : undefined;
            const entries: [string, string][] = list ? list.flatMap((lane, j) => (typeof lane === "string" ? [[formatPath(["providers", i, "routes", pattern, j], config), lane] as [string, string]] : [])) : typeof value === "string" ? [[pathOf("routes", pattern), value]] : [];
            const firstAt = new Map<string, string>();
            for (const [where, lane] of entries) {
                if (list && lane === LaneName.Drop) {
                    if (list.length > 1) problems.push(`${where}: "drop" cannot be combined with lanes (a dropped event is archived and not processed; route ${JSON.stringify(pattern)} to drop alone, or list lanes only)`);
                    continue;
                }
                const seenAt = firstAt.get(lane);
                if (seenAt !== undefined) {
                    problems.push(`${where}: lane "${lane}" is already listed at ${seenAt} (each lane gets the event once; remove the repeat)`);
                    continue;
                }
                firstAt.set(lane, where);
                if (lane === LaneName.Drop || laneNames.has(lane)) continue;
                problems.push(
                    named.length === 0
                        ? `${where}: lane "${lane}" is not declared: this provider has no named lanes, only default (declare it under ${pathOf("lanes", lane)}, or route to default or drop)`
                        : `${where}: lane "${lane}" is not declared (use default, drop, or one of ${at}.lanes: ${[...laneNames].join(", ")})`,
                );
            }
        }
        const settings: [string, LaneSettings][] = [[at, p], ...Object.entries(p.lanes ?? {}).map(([n, l]) => [pathOf("lanes", n), l] as [string, LaneSettings])];
        for (const [where, s] of settings) {
            const ordering = s.ordering ?? p.ordering ?? ProviderDefaults.ordering;
            const batch = s.batchSize ?? p.batchSize;
            const kind = s.lane ?? p.lane ?? ProviderDefaults.lane;
            if (ordering && kind === "sqs" && batch !== undefined && batch > Limits.maxFifoBatchSize) {
                problems.push(`${where}.batchSize: must be at most ${Limits.maxFifoBatchSize} on an ordered (FIFO) lane, got ${batch}`);
            }
            // retentionDays sizes an SQS lane queue; on the provider it counts if the default lane or any named lane inherits it as an SQS lane.
            if (s.retentionDays !== undefined && kind === "kafka" && (s !== p || !Object.values(p.lanes ?? {}).some((l) => l.retentionDays === undefined && (l.lane ?? kind) === "sqs"))) {
                problems.push(`${where}.retentionDays: only applies to SQS lanes (this lane is a Kafka lane: its topic keeps what the cluster's retention says; remove it), got ${s.retentionDays}`);
            }
            const handler = s.handler;
            if (handler && options.handlers && !options.handlers.includes(handler)) {
                problems.push(`${where}.handler: "${handler}" is not a module in handlers/app (known: ${options.handlers.join(", ")})`);
            }
            // What the schema refused is gone from `p` (already reported); these checks read only optional fields.
            problems.push(...deliveryProblems(where, full, s));
            problems.push(...workerSettingsProblems(where, name, s));
        }
        problems.push(...laneWorkerProblems(full, settings));
        workers.push(...settings.map(([where, s], n) => ({ where, provider: name, settings: n === 0 ? s : resolveLaneSettings(full, s) })));
    });
    const a = config.archive;
    const transitionDays = a?.transitionDays ?? ArchiveDefaults.transitionDays;
    const expirationDays = a?.expirationDays ?? ArchiveDefaults.expirationDays;
    if (expirationDays !== 0 && expirationDays <= transitionDays) {
        // One lifecycle rule both transitions and expires: S3 requires the expiration to come after the transition.
        problems.push(
            `archive.expirationDays: must be 0 (keep forever) or greater than archive.transitionDays (${transitionDays}${a?.transitionDays === undefined ? ", the default" : ""}), got ${expirationDays}`,
        );
    }
    problems.push(...vpcEndpointProblems(workers));
    const r = config.router;
    if (r?.batchWindowSeconds === 0 && (r.batchSize ?? RouterDefaults.batchSize) > Limits.maxFifoBatchSize) {
        problems.push(`router.batchWindowSeconds: must be at least 1 when router.batchSize is above ${Limits.maxFifoBatchSize} (AWS requires a batching window there; batchSize is ${r.batchSize ?? RouterDefaults.batchSize})`);
    }
    problems.push(...domainProblems(config.api?.domain, options.region));
    const k = config.kafka;
    if (k?.mode === "external" && !k.brokers) problems.push(`kafka.brokers: is required when kafka.mode is external`);
    if (k && k.mode !== "external" && k.brokers) problems.push(`kafka.brokers: only applies when kafka.mode is external (mode is ${k.mode ?? "msk-serverless"})`);
    if (k?.replicationFactor !== undefined && k.mode !== "external") problems.push(`kafka.replicationFactor: only applies when kafka.mode is external (MSK Serverless sets its own)`);
    if (k?.vpcId && !k.subnetIds) problems.push(`kafka.subnetIds: is required when kafka.vpcId is set`);
    if (k?.sasl?.mechanism && k.sasl.mechanism !== "aws-iam" && (!k.sasl.username || !k.sasl.password)) problems.push(`kafka.sasl: username and password are required for ${k.sasl.mechanism}`);
    return problems;
}

/** A DNS host name: labels of letters, digits and inner `-`, at least two labels, at most 253 characters. */
const hostName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** `arn:aws:acm:<region>:<account>:certificate/<id>` (any partition). */
const acmArn = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/[A-Za-z0-9-]+$/;

/** api.domain: a host name, an ACM certificate ARN in the stack's region (when known), a hosted zone id. */
function domainProblems(domain: { name?: unknown; certificateArn?: unknown; hostedZoneId?: unknown } | undefined, region: string | undefined): string[] {
    if (!domain) return [];
    const problems: string[] = [];
    if (typeof domain.name === "string" && !hostName.test(domain.name)) problems.push(`api.domain.name: must be a lowercase host name such as hooks.example.com, got "${domain.name}"`);
    if (typeof domain.certificateArn === "string") {
        const m = acmArn.exec(domain.certificateArn);
        if (!m) problems.push(`api.domain.certificateArn: must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got "${domain.certificateArn}"`);
        // A regional custom domain needs its certificate in the API's own region ("Setting up a regional custom domain name in API Gateway").
        else if (region && m[1] !== region) problems.push(`api.domain.certificateArn: the certificate is in ${m[1]} but the stack deploys to ${region} (aws:region); a regional API needs a certificate in its own region, got "${domain.certificateArn}"`);
    }
    if (typeof domain.hostedZoneId === "string" && !/^Z[A-Z0-9]{1,31}$/.test(domain.hostedZoneId)) problems.push(`api.domain.hostedZoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got "${domain.hostedZoneId}"`);
    return problems;
}
