/**
 * What the router and workers need at run time, derived from the pipeline
 * model plus the names/URLs of the resources a backend created. The Pulumi
 * component captures it as an Output read with `.get()` in the function; the
 * local pipeline passes it directly. Never holds a secret value: only where to
 * read secrets from.
 */
import { HmacSchemeOptions, PluginName } from "../providers/types";
import type { RetrySchedule } from "./delivery";
import { LaneKind, RouteRule } from "./pipeline";

export interface ProviderRuntime {
    readonly name: string;
    readonly plugin: PluginName;
    readonly hmac?: HmacSchemeOptions;
    readonly toleranceSeconds: number;
    /** Secrets Manager secret id (ARN or name). Its value is JSON: `{"secrets": ["...", "..."]}`. */
    readonly secretId: string;
    readonly routes: readonly RouteRule[];
    /** How requests reach the catch-all queue: `function` providers' requests are all sealed by their ingress function, so an unsealed one did not come from it. */
    readonly ingress: "direct" | "function";
    /** CIDR blocks requests must come from; a request from elsewhere is quarantined as `source-ip`. undefined: any address. */
    readonly allowedSourceIps?: readonly string[];
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
    /** Kafka lanes: partitions of the topic (= the lane's concurrency); the router creates or grows the topic to this. */
    readonly partitions?: number;
}

/** SASL for Kafka: MSK IAM (OAUTHBEARER with a SigV4-signed token) or SCRAM with the credentials in Secrets Manager. */
export type KafkaSaslRuntime =
    | {
          readonly mechanism: "aws-iam";
          /** Region the token is signed for. @default process.env.AWS_REGION */
          readonly region?: string;
      }
    | {
          readonly mechanism: "scram-sha-256" | "scram-sha-512";
          /** Secrets Manager secret whose value is JSON `{"username": "...", "password": "..."}` (the format Lambda's Kafka event source reads too). */
          readonly secretId: string;
      };

/** How to reach Kafka (pipelines with Kafka lanes). Never holds a password: only where to read it. */
export interface KafkaRuntime {
    /** Bootstrap brokers, `host:port`. */
    readonly brokers: readonly string[];
    /** TLS to the brokers (always on MSK Serverless). */
    readonly ssl: boolean;
    readonly sasl?: KafkaSaslRuntime;
    /** Replication factor of the topics the pipeline creates; -1 means the broker's `default.replication.factor`. */
    readonly replicationFactor: number;
}

export interface RouterRuntimeConfig {
    /** Archive bucket: raw/, quarantine/, claims/ prefixes. */
    readonly bucket: string;
    readonly providers: Readonly<Record<string, ProviderRuntime>>;
    readonly lanes: Readonly<Record<string, LaneRuntime>>;
    /** Bodies above this many bytes travel to lanes as a claim check. */
    readonly inlineBodyBytes: number;
    /** Set when a lane is a Kafka lane: where the router publishes. */
    readonly kafka?: KafkaRuntime;
    /** Secrets Manager secret holding the pipeline-internal key that seals trusted envelopes (model/seal.ts), `{"secrets": [...]}`: the first seals, any opens. */
    readonly sealSecretId: string;
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
    /** SQS lanes: the lane's queue (a retry delay is set on a failed message's visibility there). */
    readonly queueUrl?: string;
    /** SQS lanes: the lane's DLQ (a destination's permanent failure is sent there at once). */
    readonly dlqUrl?: string;
    /** Worker timeout, seconds (bounds a retry delay: SQS counts 12 h of visibility from the receive). */
    readonly timeoutSeconds?: number;
    /** Retry schedule of failed messages. @default none: the queue's visibility timeout */
    readonly retry?: RetrySchedule;
    /** Set when the lane delivers to an HTTP destination instead of calling a handler module. */
    readonly destination?: DestinationRuntime;
    /** Handler secrets: name -> Secrets Manager secret id (an ARN; never a value). @default none */
    readonly secrets?: Readonly<Record<string, string>>;
    /** The lane's plain `environment`, handed to the handler as `context.env`. @default none */
    readonly environment?: Readonly<Record<string, string>>;
    /** Seconds a handler secret is cached (context.secrets). @default 300 */
    readonly secretMaxAgeSeconds?: number;
}

/** A lane's destination at run time. Never holds a secret value: only where to read it. */
export interface DestinationRuntime {
    readonly url: string;
    readonly method: "POST" | "PUT" | "PATCH";
    readonly timeoutSeconds: number;
    readonly headers: Readonly<Record<string, string>>;
    /** Header carrying the auth secret's value. */
    readonly authHeader?: string;
    /** Secrets Manager secret holding the auth header's value (`{"secrets": ["..."]}`; the first is sent). */
    readonly authSecretId?: string;
    /** Secrets Manager secret holding the Standard Webhooks signing secrets (`{"secrets": ["whsec_...", ...]}`; one signature each). */
    readonly signingSecretId?: string;
    /** Milliseconds between two starts of this worker (the lane's rate limit / concurrency). undefined: no limit. */
    readonly paceMs?: number;
    /** Most starts of this worker in any window of `windowMs` (floor(rate limit / concurrency)); see handlers/destination/pace.ts. undefined: no limit. */
    readonly startsPerWindow?: number;
    /** The window of `startsPerWindow`, in ms: 1000 plus the guard. */
    readonly windowMs?: number;
}

/** Build a provider's runtime entry from its model (both backends). */
export function providerRuntimeOf(p: { name: string; plugin: PluginName; hmac?: HmacSchemeOptions; toleranceSeconds: number; routes: readonly RouteRule[]; ingress: "direct" | "function"; allowedSourceIps?: readonly string[] }, secretId: string): ProviderRuntime {
    return { name: p.name, plugin: p.plugin, hmac: p.hmac, toleranceSeconds: p.toleranceSeconds, secretId, routes: p.routes, ingress: p.ingress, ...(p.allowedSourceIps ? { allowedSourceIps: p.allowedSourceIps } : {}) };
}

/** The secret value format stored in Secrets Manager for a provider. */
export interface ProviderSecretValue {
    readonly secrets: readonly string[];
}
