/**
 * The pipeline model: one pure function from validated configuration to the
 * providers, lanes, routes and limits that both backends build. No Pulumi and
 * no AWS in here; the Pulumi component (components/) and the local pipeline
 * (scripts/local) map the same model onto their resources.
 */
import { getPlugin } from "../providers";
import { HmacSchemeOptions, PluginName } from "../providers/types";
import { destinationOf, DestinationConfig, hmacOptionsOf, LaneSettings, PipelineConfig, ProviderConfig } from "./config";
import { ApiDefaults, ArchiveDefaults, claimsExpirationDaysFor, LaneName, Limits, ProviderDefaults, QueueSettings, RouterDefaults } from "./constants";
import { backendsFor, DestinationBackend, DestinationDefaults, RetrySchedule } from "./delivery";

export type { RetrySchedule };

/** Where a lane delivers (an HTTP service of yours) instead of calling a handler module. No secret values: only how many there are. */
export interface DestinationModel {
    readonly url: string;
    readonly method: "POST" | "PUT" | "PATCH";
    /** Seconds one request may take. */
    readonly timeoutSeconds: number;
    /** Extra headers, as configured. */
    readonly headers: Readonly<Record<string, string>>;
    /** Header that carries the auth secret's value; undefined without `auth`. */
    readonly authHeader?: string;
    /** Standard Webhooks signing secrets declared (0: requests are not signed). */
    readonly signingSecretCount: number;
    /** Most delivery starts per second for the lane. undefined: no limit. */
    readonly rateLimitPerSecond?: number;
    /**
     * Milliseconds between two starts of one worker: each of the lane's
     * `concurrency` workers paces itself to floor(rate / concurrency) per second,
     * so the lane never starts more than `rateLimitPerSecond` in any second.
     */
    readonly paceMs?: number;
    /** Most starts of one worker in any window of `windowMs`: floor(rateLimitPerSecond / concurrency). undefined: no limit. */
    readonly startsPerWindow?: number;
    /** The window one worker's `startsPerWindow` is counted over: 1000 ms plus the guard (PaceGuard). undefined: no limit. */
    readonly windowMs?: number;
    /** Backends that can deliver to this URL: https on both; http to a loopback address only locally (`npm start`). */
    readonly backends: readonly DestinationBackend[];
}
import { isSecretArn, resolveLaneSettings, workerSettingsOf, WorkerSettingsModel } from "./worker-settings";

export type LaneKind = "sqs" | "kafka";

export interface LaneModel {
    /** `<provider>-<lane>`: unique across the pipeline, part of resource names. */
    readonly id: string;
    readonly provider: string;
    /** `default` or a name from the provider's `lanes`. */
    readonly name: string;
    readonly kind: LaneKind;
    /** FIFO (SQS) / keyed (Kafka) by the plugin's ordering key. Kafka lanes are always keyed. */
    readonly ordering: boolean;
    /** SQS: event source `maximumConcurrency`. Kafka: topic partitions = consumers. */
    readonly concurrency: number;
    readonly batchSize: number;
    /**
     * SQS lanes: seconds the event source mapping waits to fill a batch
     * (MaximumBatchingWindowInSeconds): 1 above 10 records, where AWS requires
     * a window, else 0. The local pipeline's poller waits the same.
     */
    readonly batchWindowSeconds: number;
    readonly maxReceiveCount: number;
    readonly timeoutSeconds: number;
    /** 6x the timeout, capped at 12 h. */
    readonly visibilityTimeoutSeconds: number;
    /**
     * The worker takes no messages: its event source mapping is created disabled (`npm start` does not poll
     * it) and messages wait in the queue or topic. The lane's `paused`, else the provider's.
     */
    readonly paused: boolean;
    /** Seconds the lane queue keeps a message (SQS lanes; `retentionDays`). Kafka lanes: unused (the topic's retention). */
    readonly retentionSeconds: number;
    /** Handler module in handlers/app/. */
    readonly handler: string;
    /** Kafka topic (Kafka lanes only). */
    readonly topic?: string;
    /** Set when the lane delivers to an HTTP destination; `handler` is then unused. */
    readonly destination?: DestinationModel;
    /** Retry schedule of failed messages. undefined: the queue's visibility timeout (SQS) or the runner's backoff (Kafka). */
    readonly retry?: RetrySchedule;
    /** The worker's memory, logs, tracing, environment, secrets (names only), extra IAM and VPC (model/worker-settings.ts). */
    readonly worker: WorkerSettingsModel;
}

export interface RouteRule {
    /** Event type pattern; `*` matches any run of characters. */
    readonly pattern: string;
    /** Lane ids, in the order configured (1+, distinct: a fan-out route names several), or `["drop"]`. */
    readonly targets: readonly string[];
}

export interface ProviderModel {
    readonly name: string;
    readonly plugin: PluginName;
    readonly hmac?: HmacSchemeOptions;
    /** `/webhooks/<name>` */
    readonly path: string;
    /** Lower-case headers the route maps into the envelope. */
    readonly headers: readonly string[];
    readonly signsUrl: boolean;
    readonly signsTimestamp: boolean;
    /**
     * `direct`: API Gateway sends to the catch-all queue itself (no code on the hot path).
     * `function`: a small ingress function answers the provider's handshake, keeps the
     * URL's query string (schemes that sign the URL) and any body's exact bytes, and enqueues.
     */
    readonly ingress: "direct" | "function";
    readonly toleranceSeconds: number;
    /** CIDR blocks requests must come from (`source-ip` quarantine otherwise); undefined: any address. */
    readonly allowedSourceIps?: readonly string[];
    /** Number of secrets declared in config (0: the secret is set outside Pulumi). */
    readonly secretCount: number;
    /** Ordered; the last rule is always `*` -> the default lane. */
    readonly routes: readonly RouteRule[];
    readonly lanes: readonly string[];
}

export interface PipelineModel {
    readonly name: string;
    readonly providers: readonly ProviderModel[];
    readonly lanes: readonly LaneModel[];
    readonly router: {
        readonly batchSize: number;
        readonly batchWindowSeconds: number;
        readonly concurrency: number;
        readonly timeoutSeconds: number;
        readonly visibilityTimeoutSeconds: number;
        readonly maxReceiveCount: number;
        readonly memorySize: number;
    };
    readonly api: { readonly throttleRateLimit: number; readonly throttleBurstLimit: number; readonly domain?: { readonly name: string; readonly certificateArn: string; readonly hostedZoneId?: string } };
    readonly archive: {
        readonly transitionDays: number;
        readonly expirationDays: number;
        readonly idempotencyDays: number;
        /** Days a claim-check body is kept: from the longest lane queue retention (model/constants.ts claimsExpirationDaysFor). */
        readonly claimsExpirationDays: number;
    };
    readonly kafka?: PipelineConfig["kafka"] & { readonly mode: "msk-serverless" | "external" };
    readonly usesKafka: boolean;
}

export function visibilityTimeoutFor(timeoutSeconds: number): number {
    return Math.min(timeoutSeconds * Limits.visibilityTimeoutFactor, Limits.maxVisibilityTimeoutSeconds);
}

/** Build the model from a validated configuration (see `parseConfig`). */
export function buildPipelineModel(config: PipelineConfig, name = "webhooks"): PipelineModel {
    const lanes: LaneModel[] = [];
    const providers = config.providers.map((p) => {
        const providerLanes = lanesOf(config.kafka?.topicPrefix ?? name, p);
        lanes.push(...providerLanes);
        return providerModel(p, providerLanes);
    });
    const r = config.router ?? {};
    const routerTimeout = r.timeoutSeconds ?? RouterDefaults.timeoutSeconds;
    const usesKafka = lanes.some((l) => l.kind === "kafka");
    return {
        name,
        providers,
        lanes,
        router: {
            batchSize: r.batchSize ?? RouterDefaults.batchSize,
            batchWindowSeconds: r.batchWindowSeconds ?? RouterDefaults.batchWindowSeconds,
            concurrency: r.concurrency ?? RouterDefaults.concurrency,
            timeoutSeconds: routerTimeout,
            visibilityTimeoutSeconds: visibilityTimeoutFor(routerTimeout),
            maxReceiveCount: RouterDefaults.maxReceiveCount,
            memorySize: r.memorySize ?? RouterDefaults.memorySize,
        },
        api: {
            throttleRateLimit: config.api?.throttleRateLimit ?? ApiDefaults.throttleRateLimit,
            throttleBurstLimit: config.api?.throttleBurstLimit ?? ApiDefaults.throttleBurstLimit,
            ...(config.api?.domain ? { domain: { ...config.api.domain } } : {}),
        },
        archive: {
            transitionDays: config.archive?.transitionDays ?? ArchiveDefaults.transitionDays,
            expirationDays: config.archive?.expirationDays ?? ArchiveDefaults.expirationDays,
            idempotencyDays: config.archive?.idempotencyDays ?? ArchiveDefaults.idempotencyDays,
            claimsExpirationDays: claimsExpirationDaysFor(Math.max(...lanes.filter((l) => l.kind === "sqs").map((l) => l.retentionSeconds), QueueSettings.retentionSeconds)),
        },
        kafka: usesKafka ? { ...config.kafka, mode: config.kafka?.mode ?? "msk-serverless" } : undefined,
        usesKafka,
    };
}

function lanesOf(topicPrefix: string, p: ProviderConfig): LaneModel[] {
    const named: [string, LaneSettings][] = [[LaneName.Default, {}], ...Object.entries(p.lanes ?? {})];
    return named.map(([laneName, own]) => {
        const kind = own.lane ?? p.lane ?? ProviderDefaults.lane;
        const timeoutSeconds = own.timeoutSeconds ?? p.timeoutSeconds ?? ProviderDefaults.timeoutSeconds;
        const id = `${p.name}-${laneName}`;
        const batchSize = own.batchSize ?? p.batchSize ?? ProviderDefaults.batchSize;
        const concurrency = own.concurrency ?? p.concurrency ?? ProviderDefaults.concurrency;
        const destination = destinationOf(p, laneName === LaneName.Default ? p : own);
        const retry = own.retry ?? p.retry;
        return {
            id,
            provider: p.name,
            name: laneName,
            kind,
            ordering: kind === "kafka" ? true : (own.ordering ?? p.ordering ?? ProviderDefaults.ordering),
            concurrency,
            batchSize,
            batchWindowSeconds: batchSize > Limits.maxFifoBatchSize ? 1 : 0,
            maxReceiveCount: own.maxReceiveCount ?? p.maxReceiveCount ?? ProviderDefaults.maxReceiveCount,
            timeoutSeconds,
            visibilityTimeoutSeconds: visibilityTimeoutFor(timeoutSeconds),
            paused: own.paused ?? p.paused ?? ProviderDefaults.paused,
            retentionSeconds: (own.retentionDays ?? p.retentionDays ?? ProviderDefaults.retentionDays) * 86400,
            handler: own.handler ?? p.handler ?? ProviderDefaults.handler,
            topic: kind === "kafka" ? `${topicPrefix}.${p.name}.${laneName}` : undefined,
            ...(destination ? { destination: destinationModel(destination, concurrency) } : {}),
            ...(retry ? { retry: { backoff: retry.backoff, initialSeconds: retry.initialSeconds, maxSeconds: retry.maxSeconds ?? Math.max(retry.initialSeconds, DestinationDefaults.retryMaxSeconds) } } : {}),
            worker: workerSettingsOf(laneName === LaneName.Default ? p : resolveLaneSettings(p, own)),
        };
    });
}

function destinationModel(d: DestinationConfig, concurrency: number): DestinationModel {
    const rate = d.rateLimitPerSecond;
    return {
        url: d.url,
        method: d.method ?? DestinationDefaults.method,
        timeoutSeconds: d.timeoutSeconds ?? DestinationDefaults.timeoutSeconds,
        headers: { ...(d.headers ?? {}) },
        ...(d.auth ? { authHeader: d.auth.header } : {}),
        signingSecretCount: signingSecretsOf(d).length,
        ...(rate !== undefined ? { rateLimitPerSecond: rate, ...paceLimitFor(rate, concurrency) } : {}),
        backends: backendsFor(new URL(d.url)),
    };
}

/**
 * A window 5% longer than a second: a worker's `startsPerWindow` starts are
 * counted over 1050 ms, and a start counts from its answer minus these 50 ms
 * when the answer took longer (handlers/destination/pace.ts has the
 * argument). So the destination, which sees arrivals rather than starts,
 * never gets more than the limit in a second however the network delay
 * varies, and a destination that answers within 50 ms costs only the guard:
 * the lane runs at up to 1 / 1.05 = 95% of the limit. (A 5% guard on spacing
 * alone, without the answers, let the benchmark see 21 arrivals in one
 * second at 20/s: docs/benchmarks.md.)
 */
export const PaceGuard = 1.05;

/** The window a worker's share of a rate limit is counted over (PaceGuard), in ms. */
export const PaceWindowMs = Math.ceil(1000 * PaceGuard);

/**
 * One worker's share of the lane's `rate` over `concurrency` workers:
 * floor(rate / concurrency) starts in any window of PaceWindowMs, at least
 * paceMs apart. Equal shares, because no worker knows which of the
 * `concurrency` slots it holds (a Lambda invocation is not told), so a split
 * of the remainder (rate mod concurrency) could not be made without a
 * coordinator: those starts are left unused (validated: rate >= concurrency).
 */
export function paceLimitFor(rate: number, concurrency: number): { paceMs: number; startsPerWindow: number; windowMs: number } {
    return { paceMs: paceMsFor(rate, concurrency), startsPerWindow: Math.max(1, Math.floor(rate / concurrency)), windowMs: PaceWindowMs };
}

/** Milliseconds between one worker's starts so that `concurrency` workers never start more than `rate` in a second (rate >= concurrency, validated). */
export function paceMsFor(rate: number, concurrency: number): number {
    return Math.ceil((1000 / Math.max(1, Math.floor(rate / concurrency))) * PaceGuard);
}

/** A destination's signing secrets as declared (plain values; handle as secrets). */
export function signingSecretsOf(d: Pick<DestinationConfig, "signingSecret">): string[] {
    return d.signingSecret === undefined ? [] : Array.isArray(d.signingSecret) ? d.signingSecret : [d.signingSecret];
}

/** The destination secrets of every lane, by lane id (plain values; handle as secrets). Lanes without a destination are absent. */
export function destinationSecretsOf(config: PipelineConfig): Record<string, { readonly signing: readonly string[]; readonly auth?: string }> {
    const out: Record<string, { signing: readonly string[]; auth?: string }> = {};
    for (const p of config.providers) {
        const named: [string, LaneSettings][] = [[LaneName.Default, p], ...Object.entries(p.lanes ?? {})];
        for (const [laneName, settings] of named) {
            const d = destinationOf(p, settings);
            if (d) out[`${p.name}-${laneName}`] = { signing: signingSecretsOf(d), ...(d.auth ? { auth: d.auth.secret } : {}) };
        }
    }
    return out;
}

function providerModel(p: ProviderConfig, lanes: readonly LaneModel[]): ProviderModel {
    const hmac = hmacOptionsOf(p);
    const plugin = getPlugin(p.plugin, hmac);
    const laneId = (name: string) => (name === LaneName.Drop ? LaneName.Drop : `${p.name}-${name}`);
    const delivers = lanes.some((l) => l.destination);
    const routes: RouteRule[] = Object.entries(p.routes ?? {}).map(([pattern, lanes]) => ({ pattern, targets: (Array.isArray(lanes) ? lanes : [lanes]).map(laneId) }));
    routes.push({ pattern: "*", targets: [laneId(LaneName.Default)] });
    const secrets = p.secret === undefined ? [] : Array.isArray(p.secret) ? p.secret : [p.secret];
    return {
        name: p.name,
        plugin: p.plugin,
        hmac,
        path: `/webhooks/${p.name}`,
        // A destination gets the original Content-Type: the edge maps it beside the plugin's headers.
        headers: delivers && !plugin.headers.includes("content-type") ? [...plugin.headers, "content-type"] : plugin.headers,
        signsUrl: plugin.signsUrl,
        signsTimestamp: plugin.signsTimestamp,
        ingress: p.ingress ?? (plugin.handshake || plugin.signsUrl ? "function" : "direct"),
        toleranceSeconds: p.toleranceSeconds ?? ProviderDefaults.toleranceSeconds,
        ...(p.allowedSourceIps ? { allowedSourceIps: [...p.allowedSourceIps] } : {}),
        secretCount: secrets.length,
        routes,
        lanes: lanes.map((l) => l.id),
    };
}

/** The provider's secrets as declared in config (plain values; handle as secrets). */
export function secretsOf(p: ProviderConfig): string[] {
    return p.secret === undefined ? [] : Array.isArray(p.secret) ? p.secret : [p.secret];
}

/**
 * The handler secret values a lane's worker gets from config (name -> value; plain values, handle as
 * secrets), without the ones given as existing secrets' ARNs. Empty for a lane without secrets.
 */
export function handlerSecretValuesOf(config: PipelineConfig, lane: Pick<LaneModel, "provider" | "name">): Record<string, string> {
    const p = config.providers.find((x) => x.name === lane.provider);
    if (!p) return {};
    const settings = lane.name === LaneName.Default ? p : resolveLaneSettings(p, p.lanes?.[lane.name] ?? {});
    return Object.fromEntries(Object.entries(settings.secrets ?? {}).filter(([, value]) => !isSecretArn(value)));
}

/** Compile an event-type glob (`invoice.*`) to a RegExp anchored at both ends. */
export function compilePattern(pattern: string): RegExp {
    const source = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${source}$`);
}

/**
 * Compile a provider's rules once into a router: event type -> lane ids (several for a fan-out route)
 * or `["drop"]`. First match wins; rules always end with `*`, so every event has a target.
 */
export function compileRoutes(routes: readonly RouteRule[]): (eventType: string) => readonly string[] {
    const compiled = routes.map((rule) => ({ test: compilePattern(rule.pattern), targets: rule.targets }));
    const fallback = routes[routes.length - 1].targets;
    return (eventType) => compiled.find((rule) => rule.test.test(eventType))?.targets ?? fallback;
}
