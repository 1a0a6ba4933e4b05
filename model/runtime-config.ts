/**
 * What the router and workers need at run time, derived from the pipeline
 * model plus the names/URLs of the resources a backend created. The Pulumi
 * component captures it as an Output read with `.get()` in the function; the
 * local pipeline passes it directly. Never holds a secret value: only where to
 * read secrets from.
 */
import { HmacSchemeOptions, PluginName } from "../providers/types";
import { LaneKind, RouteRule } from "./pipeline";

export interface ProviderRuntime {
    readonly name: string;
    readonly plugin: PluginName;
    readonly hmac?: HmacSchemeOptions;
    readonly toleranceSeconds: number;
    /** Secrets Manager secret id (ARN or name). Its value is JSON: `{"secrets": ["...", "..."]}`. */
    readonly secretId: string;
    readonly routes: readonly RouteRule[];
}

export interface LaneRuntime {
    readonly id: string;
    readonly provider: string;
    readonly kind: LaneKind;
    /** FIFO queue / keyed topic. */
    readonly ordering: boolean;
    /** SQS lanes. */
    readonly queueUrl?: string;
    /** Kafka lanes. */
    readonly topic?: string;
}

export interface RouterRuntimeConfig {
    /** Archive bucket: raw/, quarantine/, claims/ prefixes. */
    readonly bucket: string;
    readonly providers: Readonly<Record<string, ProviderRuntime>>;
    readonly lanes: Readonly<Record<string, LaneRuntime>>;
    /** Bodies above this many bytes travel to lanes as a claim check. */
    readonly inlineBodyBytes: number;
}

export interface WorkerRuntimeConfig {
    /** Lane id this worker serves. */
    readonly lane: string;
    readonly provider: string;
    /** Archive bucket (claim-check bodies are read from it). */
    readonly bucket: string;
    /** DynamoDB idempotency table. */
    readonly idempotencyTable: string;
    /** Seconds an idempotency record is kept. */
    readonly idempotencyTtlSeconds: number;
    /** FIFO lane: stop at the first failure of a batch so order holds. @default false */
    readonly ordering?: boolean;
}

/** The secret value format stored in Secrets Manager for a provider. */
export interface ProviderSecretValue {
    readonly secrets: readonly string[];
}
