/**
 * What the operations commands work on: a pipeline's queues and archive
 * bucket, with clients for where they live. One shape for both places, so
 * `replay`, `redrive` and `status` are the same code locally and on AWS:
 *
 * - local: the state file of the running `npm start` (moto's endpoint and the
 *   resource names);
 * - AWS: the stack outputs (`pulumi stack output --json > outputs.json`):
 *   `queueUrls` and `dlqUrls` by lane id (`catch-all` included), `bucketName`
 *   `webhookUrls` (its keys are the provider names), `internalKeySecretArn` and
 *   `idempotencyTable` (trace and dlq read the workers' records), with the
 *   SDK's usual credentials and region.
 *
 * `replay` and `redrive --catch-all` read the pipeline-internal key (model/seal.ts)
 * to vouch for what they send: an operator needs secretsmanager:GetSecretValue on it.
 */
import * as fs from "fs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { awsClients } from "../../handlers/shared/clients";
import { localClients } from "../resources";
import type { LocalState } from "../state";

export interface TargetLane {
    readonly id: string;
    readonly provider: string;
    readonly queueUrl: string;
    readonly dlqUrl: string;
}

export interface OpsTarget {
    readonly where: "local" | "aws";
    readonly sqs: SQSClient;
    readonly s3: S3Client;
    readonly secrets: SecretsManagerClient;
    /** The idempotency table's client (trace, dlq). */
    readonly dynamo?: DynamoDBClient;
    /** The workers' idempotency table (Powertools records and the last errors; stacks whose outputs lack it: trace and dlq say so). */
    readonly idempotencyTable?: string;
    /** The pipeline-internal key's secret (replay seals with it, a catch-all redrive attests with it). */
    readonly sealSecretId?: string;
    readonly bucket: string;
    readonly providers: readonly string[];
    readonly catchAll: { readonly queueUrl: string; readonly dlqUrl: string };
    /** SQS lanes (Kafka lanes have no queues). */
    readonly lanes: readonly TargetLane[];
    /** SQS StartMessageMoveTask is available (AWS; moto has none). */
    readonly moveTask: boolean;
}

export function targetFromLocalState(state: LocalState): OpsTarget {
    const clients = localClients(state.endpoint, state.region);
    return {
        where: "local",
        sqs: clients.sqs,
        s3: clients.s3,
        secrets: clients.secrets,
        dynamo: clients.dynamo,
        idempotencyTable: state.table,
        sealSecretId: state.sealSecretId,
        bucket: state.bucket,
        providers: state.providers.map((p) => p.name),
        catchAll: { queueUrl: state.catchAll.queue.url, dlqUrl: state.catchAll.dlq.url },
        lanes: state.lanes.flatMap((l) => (l.queue && l.dlq ? [{ id: l.id, provider: l.provider, queueUrl: l.queue.url, dlqUrl: l.dlq.url }] : [])),
        moveTask: false,
    };
}

/** `pulumi stack output --json` of a stack built by index.ts. */
export interface StackOutputs {
    readonly queueUrls: Readonly<Record<string, string>>;
    readonly dlqUrls: Readonly<Record<string, string>>;
    readonly bucketName: string;
    readonly webhookUrls: Readonly<Record<string, string>>;
    /** The pipeline-internal key's secret (stacks deployed before it existed lack it). */
    readonly internalKeySecretArn?: string;
    /** The idempotency table's name (trace and dlq read it). */
    readonly idempotencyTable?: string;
}

export const CatchAllLaneId = "catch-all";

/** The provider a lane id (`<provider>-<lane>`) belongs to: the longest provider name it starts with. */
export function providerOfLane(laneId: string, providers: readonly string[]): string | undefined {
    return [...providers].sort((a, b) => b.length - a.length).find((p) => laneId.startsWith(`${p}-`));
}

export function targetFromOutputs(outputs: StackOutputs, clients = awsClients()): OpsTarget {
    const problems = (["queueUrls", "dlqUrls", "bucketName", "webhookUrls"] as const).filter((k) => !outputs[k]);
    if (problems.length) throw new Error(`stack outputs lack ${problems.join(", ")}: pass the JSON of \`pulumi stack output --json\` for a stack of this program`);
    const providers = Object.keys(outputs.webhookUrls);
    const lanes: TargetLane[] = [];
    for (const [id, queueUrl] of Object.entries(outputs.queueUrls)) {
        if (id === CatchAllLaneId) continue;
        const provider = providerOfLane(id, providers);
        const dlqUrl = outputs.dlqUrls[id];
        if (!provider || !dlqUrl) throw new Error(`stack outputs: lane ${id} has ${provider ? "no DLQ URL" : "no provider in webhookUrls"}`);
        lanes.push({ id, provider, queueUrl, dlqUrl });
    }
    return {
        where: "aws",
        sqs: clients.sqs,
        s3: clients.s3,
        secrets: clients.secrets,
        dynamo: clients.dynamo,
        idempotencyTable: outputs.idempotencyTable,
        sealSecretId: outputs.internalKeySecretArn,
        bucket: outputs.bucketName,
        providers,
        catchAll: { queueUrl: outputs.queueUrls[CatchAllLaneId], dlqUrl: outputs.dlqUrls[CatchAllLaneId] },
        lanes,
        moveTask: true,
    };
}

export function readStackOutputs(file: string): StackOutputs {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as StackOutputs;
    } catch (err) {
        throw new Error(`cannot read stack outputs from ${file} (${(err as Error).message}); write them with \`pulumi stack output --json > ${file}\``);
    }
}

/** The catch-all queue as a lane (its DLQ holds requests the router failed maxReceiveCount times). */
export function catchAllLane(target: OpsTarget): TargetLane {
    return { id: CatchAllLaneId, provider: CatchAllLaneId, queueUrl: target.catchAll.queueUrl, dlqUrl: target.catchAll.dlqUrl };
}

/** The lanes of a provider (all, or the one named); throws naming the choices. */
export function lanesOf(target: OpsTarget, provider: string, lane?: string): TargetLane[] {
    if (!target.providers.includes(provider)) throw new Error(`unknown provider "${provider}" (configured: ${target.providers.join(", ")})`);
    const own = target.lanes.filter((l) => l.provider === provider);
    if (lane === undefined) return own;
    const picked = own.filter((l) => l.id === lane || l.id === `${provider}-${lane}`);
    if (picked.length === 0) throw new Error(`provider ${provider} has no SQS lane "${lane}" (lanes: ${own.map((l) => l.id).join(", ") || "none"})`);
    return picked;
}

/** The key replay and a catch-all redrive vouch with (the first of the internal key's list); throws saying what is missing. */
export async function sealKeyOf(target: OpsTarget): Promise<string> {
    if (!target.sealSecretId) {
        throw new Error(
            target.where === "aws"
                ? "stack outputs lack internalKeySecretArn: deploy this version of the program (`pulumi up`), then write the outputs again"
                : "the local pipeline's state names no internal key: restart `npm start` with this version",
        );
    }
    const [key] = await cachedSecretReader(target.secrets)(target.sealSecretId);
    if (!key) throw new Error(`the pipeline-internal key ${target.sealSecretId} holds no key: put {"secrets":["<random key>"]} into it`);
    return key;
}

/** The idempotency table trace and dlq read, and its client; throws saying how to get them. */
export function idempotencyTableOf(target: OpsTarget): { dynamo: DynamoDBClient; table: string } {
    if (!target.idempotencyTable || !target.dynamo) {
        throw new Error(
            target.where === "aws"
                ? "stack outputs lack idempotencyTable: write them again with `pulumi stack output --json > outputs.json` (this program exports it)"
                : "the local pipeline's state names no idempotency table: restart `npm start` with this version",
        );
    }
    return { dynamo: target.dynamo, table: target.idempotencyTable };
}
