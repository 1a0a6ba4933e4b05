/**
 * What each function runs: the factory handed to createCallback and the
 * runtime config it reads. The closure serializer writes each factory's text
 * into the zip, import aliases included (`lambda_4.makeWorkerHandler`), so the
 * four handler modules are imported here, once and in this order: moving a
 * factory to another module changes every function's uploaded code.
 * Each factory captures only an Output (read with `.get()` at run time) and
 * plain functions: never a component, a Map or a secret.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WebhookHandler } from "../handlers/app/types";
import type { IngressRuntimeConfig } from "../handlers/ingress/ingress";
import { makeIngressHandler } from "../handlers/ingress/lambda";
import { makeKafkaWorkerHandler } from "../handlers/kafka/lambda";
import { KafkaPublisherFactory, makeRouterHandler } from "../handlers/router/lambda";
import { makeWorkerHandler } from "../handlers/worker/lambda";
import { ProviderDefaults } from "../model/constants";
import type { LaneModel, PipelineModel, ProviderModel } from "../model/pipeline";
import type { ProviderRuntime, RouterRuntimeConfig, WorkerRuntimeConfig } from "../model/runtime-config";

export function ingressFactory(ingressConfig: pulumi.Output<IngressRuntimeConfig>) {
    return () => makeIngressHandler(() => ingressConfig.get());
}

export function kafkaWorkerFactory(workerConfig: pulumi.Output<WorkerRuntimeConfig>, handler: WebhookHandler) {
    return () => makeKafkaWorkerHandler(() => workerConfig.get(), handler);
}

/** `makeKafka` only for a pipeline with Kafka lanes (so only then is kafkajs captured and zipped). */
export function routerFactory(routerConfig: pulumi.Output<RouterRuntimeConfig>, makeKafka: KafkaPublisherFactory | undefined) {
    return () => makeRouterHandler(() => routerConfig.get(), makeKafka);
}

export function workerFactory(workerConfig: pulumi.Output<WorkerRuntimeConfig>, handler: WebhookHandler) {
    return () => makeWorkerHandler(() => workerConfig.get(), handler);
}

export function providerRuntime(p: ProviderModel, secretId: string): ProviderRuntime {
    // Written out, not providerRuntimeOf: this module's imports are the handler modules only (see above).
    return { name: p.name, plugin: p.plugin, hmac: p.hmac, toleranceSeconds: p.toleranceSeconds, secretId, routes: p.routes, ingress: p.ingress, ...(p.allowedSourceIps ? { allowedSourceIps: p.allowedSourceIps } : {}) };
}

/** Where a lane's worker finds its queue pair and destination secrets (absent ones are left out). */
export interface WorkerResources {
    /** SQS lanes: the lane queue and its DLQ. */
    readonly queue?: { readonly url: pulumi.Input<string> };
    readonly dlq?: { readonly url: pulumi.Input<string> };
    readonly signingSecretArn?: pulumi.Input<string>;
    readonly authSecretArn?: pulumi.Input<string>;
    /** Handler secrets: name -> Secrets Manager ARN (never a value). */
    readonly handlerSecrets?: pulumi.Input<Record<string, string>>;
}

/** What a lane's worker reads at run time (SQS and Kafka lanes alike). Never a secret value: only where to read it. */
export function workerConfigOf(lane: LaneModel, bucket: aws.s3.Bucket, table: aws.dynamodb.Table, model: PipelineModel, resources: WorkerResources = {}): pulumi.Output<WorkerRuntimeConfig> {
    return pulumi
        .all([bucket.bucket, table.name, resources.queue?.url, resources.dlq?.url, resources.signingSecretArn, resources.authSecretArn, resources.handlerSecrets ?? {}])
        .apply(([bucketName, tableName, queueUrl, dlqUrl, signingSecretId, authSecretId, secrets]) => {
            const d = lane.destination;
            const config: WorkerRuntimeConfig = {
                lane: lane.id,
                provider: lane.provider,
                bucket: bucketName,
                idempotencyTable: tableName,
                idempotencyTtlSeconds: model.archive.idempotencyDays * 24 * 3600,
                ordering: lane.ordering,
                // Names -> secret ARNs (not secrets) and plain values: what context.secrets and context.env read.
                ...(Object.keys(secrets).length ? { secrets, secretMaxAgeSeconds: ProviderDefaults.secretMaxAgeSeconds } : {}),
                ...(Object.keys(lane.worker.environment).length ? { environment: { ...lane.worker.environment } } : {}),
                // Retry schedules and destinations need where to set a delay and where to dead-letter; lanes without keep the config they had.
                ...(lane.retry || d ? { timeoutSeconds: lane.timeoutSeconds, ...(queueUrl ? { queueUrl } : {}), ...(lane.retry ? { retry: lane.retry } : {}) } : {}),
                ...(d
                    ? {
                          ...(dlqUrl ? { dlqUrl } : {}),
                          destination: {
                              url: d.url,
                              method: d.method,
                              timeoutSeconds: d.timeoutSeconds,
                              headers: d.headers,
                              ...(d.authHeader ? { authHeader: d.authHeader, ...(authSecretId ? { authSecretId } : {}) } : {}),
                              ...(signingSecretId ? { signingSecretId } : {}),
                              ...(d.paceMs ? { paceMs: d.paceMs, startsPerWindow: d.startsPerWindow, windowMs: d.windowMs } : {}),
                          },
                      }
                    : {}),
            };
            return config;
        });
}
