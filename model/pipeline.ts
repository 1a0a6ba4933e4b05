/**
 * The pipeline model: one pure function from validated configuration to the
 * providers, lanes, routes and limits that both backends build. No Pulumi and
 * no AWS in here; the Pulumi component (components/) and the local pipeline
 * (scripts/local) map the same model onto their resources.
 */
import { getPlugin } from "../providers";
import { HmacSchemeOptions, PluginName } from "../providers/types";
import { hmacOptionsOf, LaneSettings, PipelineConfig, ProviderConfig } from "./config";
import { ApiDefaults, ArchiveDefaults, LaneName, Limits, ProviderDefaults, RouterDefaults } from "./constants";
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
    /** Handler module in handlers/app/. */
    readonly handler: string;
    /** Kafka topic (Kafka lanes only). */
    readonly topic?: string;
    /** The worker's memory, logs, tracing, environment, secrets (names only), extra IAM and VPC (model/worker-settings.ts). */
    readonly worker: WorkerSettingsModel;
}

export interface RouteRule {
    /** Event type pattern; `*` matches any run of characters. */
    readonly pattern: string;
    /** Lane id, or `drop`. */
    readonly target: string;
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
    readonly api: { readonly throttleRateLimit: number; readonly throttleBurstLimit: number };
    readonly archive: { readonly transitionDays: number; readonly expirationDays: number; readonly idempotencyDays: number };
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
        },
        archive: {
            transitionDays: config.archive?.transitionDays ?? ArchiveDefaults.transitionDays,
            expirationDays: config.archive?.expirationDays ?? ArchiveDefaults.expirationDays,
            idempotencyDays: config.archive?.idempotencyDays ?? ArchiveDefaults.idempotencyDays,
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
        return {
            id,
            provider: p.name,
            name: laneName,
            kind,
            ordering: kind === "kafka" ? true : (own.ordering ?? p.ordering ?? ProviderDefaults.ordering),
            concurrency: own.concurrency ?? p.concurrency ?? ProviderDefaults.concurrency,
            batchSize,
            batchWindowSeconds: batchSize > Limits.maxFifoBatchSize ? 1 : 0,
            maxReceiveCount: own.maxReceiveCount ?? p.maxReceiveCount ?? ProviderDefaults.maxReceiveCount,
            timeoutSeconds,
            visibilityTimeoutSeconds: visibilityTimeoutFor(timeoutSeconds),
            handler: own.handler ?? p.handler ?? ProviderDefaults.handler,
            topic: kind === "kafka" ? `${topicPrefix}.${p.name}.${laneName}` : undefined,
            worker: workerSettingsOf(laneName === LaneName.Default ? p : resolveLaneSettings(p, own)),
        };
    });
}

function providerModel(p: ProviderConfig, lanes: readonly LaneModel[]): ProviderModel {
    const hmac = hmacOptionsOf(p);
    const plugin = getPlugin(p.plugin, hmac);
    const laneId = (name: string) => (name === LaneName.Drop ? LaneName.Drop : `${p.name}-${name}`);
    const routes: RouteRule[] = Object.entries(p.routes ?? {}).map(([pattern, lane]) => ({ pattern, target: laneId(lane) }));
    routes.push({ pattern: "*", target: laneId(LaneName.Default) });
    const secrets = p.secret === undefined ? [] : Array.isArray(p.secret) ? p.secret : [p.secret];
    return {
        name: p.name,
        plugin: p.plugin,
        hmac,
        path: `/webhooks/${p.name}`,
        headers: plugin.headers,
        signsUrl: plugin.signsUrl,
        signsTimestamp: plugin.signsTimestamp,
        ingress: p.ingress ?? (plugin.handshake || plugin.signsUrl ? "function" : "direct"),
        toleranceSeconds: p.toleranceSeconds ?? ProviderDefaults.toleranceSeconds,
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
 * Compile a provider's rules once into a router: event type -> lane id or `drop`.
 * First match wins; rules always end with `*`, so every event has a target.
 */
export function compileRoutes(routes: readonly RouteRule[]): (eventType: string) => string {
    const compiled = routes.map((rule) => ({ test: compilePattern(rule.pattern), target: rule.target }));
    const fallback = routes[routes.length - 1].target;
    return (eventType) => compiled.find((rule) => rule.test.test(eventType))?.target ?? fallback;
}
