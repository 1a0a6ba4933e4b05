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
import { LaneName, Limits, ProviderDefaults, RouterDefaults } from "./constants";

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
    /** Handler module in handlers/app/ that processes this lane. @default "log" */
    handler: z.string({ invalid_type_error: "must be a handler module name" }).regex(/^[a-z0-9-]+$/, "must be a handler module name (lowercase letters, digits, -)").optional(),
};

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
        /** Event type pattern (`*` matches anything) -> lane name. First match wins; unmatched events go to `default`. `drop` archives without processing. */
        routes: z.record(z.string().min(1, "pattern must not be empty"), z.string({ invalid_type_error: "must be a lane name" })).optional(),
        /** Named lanes other than `default`, each overriding the provider's settings. */
        lanes: z.record(z.string(), z.object(laneSettings).strict()).optional(),
        /**
         * `direct`: API Gateway sends to the catch-all queue itself; `function`: a small ingress function
         * does (exact bytes for any body, the full URL with its query string, handshakes).
         * @default `function` for plugins with a handshake (Slack) or that sign the URL (Twilio), else `direct`
         */
        ingress: z.enum(["direct", "function"], { errorMap: () => ({ message: 'must be "direct" or "function"' }) }).optional(),
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
            })
            .strict()
            .optional(),
        archive: z
            .object({
                transitionDays: int(1, 3650).optional(),
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
    readonly kafka?: Omit<KafkaConfig, "sasl"> & { readonly sasl?: Partial<NonNullable<KafkaConfig["sasl"]>> };
}
type LooseProvider = Partial<Omit<ProviderConfig, "signature">> & { readonly signature?: Partial<NonNullable<ProviderConfig["signature"]>> };

/** A refused value as it may be shown: never a secret's, never a whole object. */
function shown(path: readonly (string | number)[], value: unknown): string | undefined {
    if (path.some((part) => part === "secret" || part === "password")) return undefined;
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

function crossFieldProblems(config: LooseConfig, options: ValidateOptions): string[] {
    const problems: string[] = [];
    const seen = new Map<string, number>();
    (config.providers ?? []).forEach((p, i) => {
        if (!p) return; // refused as a whole (not an object): already reported
        const at = formatPath(["providers", i], config);
        const pathOf = (...rest: string[]) => formatPath(["providers", i, ...rest], config);
        const first = p.name === undefined ? undefined : seen.get(p.name);
        if (p.ingress === "direct" && p.plugin !== undefined && p.plugin !== PluginName.Hmac && getPlugin(p.plugin).handshake) {
            problems.push(`${at}.ingress: plugin ${p.plugin} answers a handshake, which only the ingress function can do (remove ingress or set it to function)`);
        }
        if (p.name === "ingress") problems.push(`${at}.name: "ingress" is reserved (claims/ingress/ holds the ingress functions' claim checks; pick another name)`);
        if (first !== undefined) problems.push(`${at}.name: "${p.name}" is already used by providers[${first}] (names must be unique; they are the URL path)`);
        else if (p.name !== undefined) seen.set(p.name, i);

        if (p.plugin === PluginName.Hmac) {
            if (!p.signature) problems.push(`${at}.signature: is required when plugin is hmac (header, algorithm, encoding)`);
            if (p.eventIdPath && p.eventIdHeader) problems.push(`${at}.eventIdHeader: conflicts with eventIdPath (set one of them)`);
            if (p.eventTypePath && p.eventTypeHeader) problems.push(`${at}.eventTypeHeader: conflicts with eventTypePath (set one of them)`);
            const headers = new Set([p.signature?.header, p.signature?.timestampHeader, p.eventIdHeader, p.eventTypeHeader].filter(Boolean).map((h) => h!.toLowerCase()));
            const room = Limits.sqsMaxAttributes - Limits.envelopeAttributes;
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
        for (const [pattern, lane] of Object.entries(p.routes ?? {})) {
            if (lane === LaneName.Drop || laneNames.has(lane)) continue;
            problems.push(
                named.length === 0
                    ? `${pathOf("routes", pattern)}: lane "${lane}" is not declared: this provider has no named lanes, only default (declare it under ${pathOf("lanes", lane)}, or route to default or drop)`
                    : `${pathOf("routes", pattern)}: lane "${lane}" is not declared (use default, drop, or one of ${at}.lanes: ${[...laneNames].join(", ")})`,
            );
        }
        const settings: [string, LaneSettings][] = [[at, p], ...Object.entries(p.lanes ?? {}).map(([n, l]) => [pathOf("lanes", n), l] as [string, LaneSettings])];
        for (const [where, s] of settings) {
            const ordering = s.ordering ?? p.ordering ?? ProviderDefaults.ordering;
            const batch = s.batchSize ?? p.batchSize;
            const kind = s.lane ?? p.lane ?? ProviderDefaults.lane;
            if (ordering && kind === "sqs" && batch !== undefined && batch > Limits.maxFifoBatchSize) {
                problems.push(`${where}.batchSize: must be at most ${Limits.maxFifoBatchSize} on an ordered (FIFO) lane, got ${batch}`);
            }
            const handler = s.handler;
            if (handler && options.handlers && !options.handlers.includes(handler)) {
                problems.push(`${where}.handler: "${handler}" is not a module in handlers/app (known: ${options.handlers.join(", ")})`);
            }
        }
    });
    const r = config.router;
    if (r?.batchWindowSeconds === 0 && (r.batchSize ?? RouterDefaults.batchSize) > Limits.maxFifoBatchSize) {
        problems.push(`router.batchWindowSeconds: must be at least 1 when router.batchSize is above ${Limits.maxFifoBatchSize} (AWS requires a batching window there; batchSize is ${r.batchSize ?? RouterDefaults.batchSize})`);
    }
    const k = config.kafka;
    if (k?.mode === "external" && !k.brokers) problems.push(`kafka.brokers: is required when kafka.mode is external`);
    if (k && k.mode !== "external" && k.brokers) problems.push(`kafka.brokers: only applies when kafka.mode is external (mode is ${k.mode ?? "msk-serverless"})`);
    if (k?.replicationFactor !== undefined && k.mode !== "external") problems.push(`kafka.replicationFactor: only applies when kafka.mode is external (MSK Serverless sets its own)`);
    if (k?.vpcId && !k.subnetIds) problems.push(`kafka.subnetIds: is required when kafka.vpcId is set`);
    if (k?.sasl?.mechanism && k.sasl.mechanism !== "aws-iam" && (!k.sasl.username || !k.sasl.password)) problems.push(`kafka.sasl: username and password are required for ${k.sasl.mechanism}`);
    return problems;
}
