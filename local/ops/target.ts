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
 * `pause` and `resume` (pause.ts) reach the lanes' workers through `pauses`: locally the running
 * `npm start`'s admin route (POST /_control/pause), on AWS the workers' event source mappings
 * (`eventSourceMappings` in the outputs; Lambda GetEventSourceMapping / UpdateEventSourceMapping:
 * an operator needs lambda:GetEventSourceMapping and lambda:UpdateEventSourceMapping on them).
 *
 * `replay` and `redrive --catch-all` read the pipeline-internal key (model/seal.ts)
 * to vouch for what they send: an operator needs secretsmanager:GetSecretValue on it.
 */
import * as fs from "fs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { LambdaClient } from "@aws-sdk/client-lambda";
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

/** Every lane (SQS and Kafka) with what its pause needs. */
export interface TargetWorkerLane {
    readonly id: string;
    readonly provider: string;
    /** `paused` as the stack configures it (what the next deploy, or a restart of `npm start`, sets the lane to); undefined when unknown. */
    readonly configuredPaused?: boolean;
}

/** A lane's worker as paused or running now. */
export interface LanePause {
    readonly paused: boolean;
    /** AWS: the mapping's State (Enabled, Disabling, Disabled, Enabling, ...); local: paused or running. */
    readonly state: string;
    /** When the state last changed (ISO 8601): AWS, the mapping's LastModified; local, when the pause began. */
    readonly since?: string;
    /** Local, paused lanes: seconds since the first message routed to it after the pause (see local/status.ts). */
    readonly oldestHeldAgeSeconds?: number;
}

/** Reads and sets whether lanes' workers take messages. */
export interface LanePauses {
    get(lanes: readonly string[]): Promise<Record<string, LanePause>>;
    set(lanes: readonly string[], paused: boolean): Promise<Record<string, LanePause>>;
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
    /** Every lane's worker, SQS and Kafka (for pause and resume). */
    readonly workers?: readonly TargetWorkerLane[];
    /** Pause and resume lanes; undefined when the stack outputs predate it (no eventSourceMappings). */
    readonly pauses?: LanePauses;
    /** The stack file that configures `paused` (`Pulumi.<stack>.yaml`), when known. */
    readonly stackFile?: string;
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
        workers: state.lanes.map((l) => ({ id: l.id, provider: l.provider, configuredPaused: l.paused })),
        pauses: localPauses(state.url),
        stackFile: state.stackFile,
    };
}

/** The running `npm start`'s lanes, through its admin routes (GET /_status to read, POST /_control/pause to set). */
export function localPauses(url: string): LanePauses {
    const ask = async (path: string, init?: RequestInit) => {
        let res: Response;
        try {
            res = await fetch(`${url}${path}`, init);
        } catch (err) {
            throw new Error(`cannot reach the local pipeline at ${url} (${(err as Error).message}): is \`npm start\` running?`);
        }
        const body = (await res.json().catch(() => ({}))) as { error?: string };
        if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${path}: HTTP ${res.status}${body.error ? `: ${body.error}` : ""}`);
        return body;
    };
    type Reported = { paused: boolean; pausedAt?: string; oldestHeldAgeSeconds?: number };
    const asPause = (l: Reported): LanePause => ({
        paused: l.paused,
        state: l.paused ? "paused" : "running",
        ...(l.pausedAt ? { since: l.pausedAt } : {}),
        ...(l.oldestHeldAgeSeconds !== undefined ? { oldestHeldAgeSeconds: l.oldestHeldAgeSeconds } : {}),
    });
    return {
        async get(lanes) {
            const status = (await ask("/_status")) as { providers: Record<string, { lanes: Record<string, Reported> }> };
            const all = Object.assign({}, ...Object.values(status.providers).map((p) => p.lanes)) as Record<string, Reported>;
            return Object.fromEntries(lanes.filter((id) => all[id]).map((id) => [id, asPause(all[id])]));
        },
        async set(lanes, paused) {
            const out = (await ask("/_control/pause", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ lanes, paused }) })) as { lanes: Record<string, Reported> };
            return Object.fromEntries(Object.entries(out.lanes).map(([id, l]) => [id, asPause(l)]));
        },
    };
}

/**
 * The lanes' event source mappings on AWS (Lambda GetEventSourceMapping / UpdateEventSourceMapping `Enabled`).
 * "Updates an event source mapping. You can change the function that Lambda invokes, or pause invocation and
 * resume later from the same location." (AWS Lambda API Reference, UpdateEventSourceMapping).
 * Unverified here: how long AWS takes from Disabling to Disabled (moto answers Disabled at once).
 * Disabling a mapping stops Lambda polling: the messages wait in the queue, a Kafka group keeps its offsets.
 * The call returns at once with State "Disabling" or "Enabling"; Lambda finishes the change within moments.
 */
export function awsPauses(mappings: Readonly<Record<string, string>>, lambda: () => LambdaClient): LanePauses {
    const sdk = () => require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
    const uuidOf = (lane: string) => {
        const uuid = mappings[lane];
        if (!uuid) throw new Error(`stack outputs: lane ${lane} has no event source mapping in eventSourceMappings`);
        return uuid;
    };
    const asPause = (m: { State?: string; LastModified?: Date }): LanePause => ({
        paused: m.State === "Disabled" || m.State === "Disabling",
        state: m.State ?? "unknown",
        ...(m.LastModified ? { since: new Date(m.LastModified).toISOString() } : {}),
    });
    return {
        async get(lanes) {
            const { GetEventSourceMappingCommand } = sdk();
            return Object.fromEntries(await Promise.all(lanes.map(async (id) => [id, asPause(await lambda().send(new GetEventSourceMappingCommand({ UUID: uuidOf(id) })))] as const)));
        },
        async set(lanes, paused) {
            const { UpdateEventSourceMappingCommand } = sdk();
            return Object.fromEntries(await Promise.all(lanes.map(async (id) => [id, asPause(await lambda().send(new UpdateEventSourceMappingCommand({ UUID: uuidOf(id), Enabled: !paused })))] as const)));
        },
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
    /** Lane id -> its worker's event source mapping UUID (stacks deployed before pause existed lack it). */
    readonly eventSourceMappings?: Readonly<Record<string, string>>;
    /** Lane id -> `paused` as configured. */
    readonly lanePaused?: Readonly<Record<string, boolean>>;
}

export const CatchAllLaneId = "catch-all";

/** The provider a lane id (`<provider>-<lane>`) belongs to: the longest provider name it starts with. */
export function providerOfLane(laneId: string, providers: readonly string[]): string | undefined {
    return [...providers].sort((a, b) => b.length - a.length).find((p) => laneId.startsWith(`${p}-`));
}

export function targetFromOutputs(outputs: StackOutputs, clients = awsClients(), lambda?: LambdaClient): OpsTarget {
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
        workers: Object.keys({ ...outputs.eventSourceMappings, ...outputs.lanePaused }).flatMap((id) => {
            const provider = providerOfLane(id, providers);
            return provider ? [{ id, provider, configuredPaused: outputs.lanePaused?.[id] }] : [];
        }),
        pauses: outputs.eventSourceMappings ? awsPauses(outputs.eventSourceMappings, () => (lambda ??= new (require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda")).LambdaClient({}))) : undefined,
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

/** Every lane of a provider, SQS and Kafka (all, or the one named: `billing` or `<provider>-billing`); throws naming the choices. */
export function workerLanesOf(target: OpsTarget, provider: string, lane?: string): TargetWorkerLane[] {
    if (!target.providers.includes(provider)) throw new Error(`unknown provider "${provider}" (configured: ${target.providers.join(", ")})`);
    const own = (target.workers ?? []).filter((l) => l.provider === provider);
    if (lane === undefined) return own;
    const picked = own.filter((l) => l.id === lane || l.id === `${provider}-${lane}`);
    if (picked.length === 0) throw new Error(`provider ${provider} has no lane "${lane}" (lanes: ${own.map((l) => l.id).join(", ") || "none"})`);
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
