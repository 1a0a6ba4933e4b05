/**
 * Worker settings: what a lane's worker gets besides its limits (memory, log
 * retention, tracing, environment, secrets, extra IAM, VPC), how a named lane
 * overrides its provider's, and every refusal, each naming the path, the
 * provider and the value. Pure: config.ts calls these, pipeline.ts resolves
 * them into the lane model. docs/handlers.md is the user's reference.
 *
 * Overrides on a named lane: `environment` and `secrets` merge by name over
 * the provider's (the lane's value wins), `permissions` add to the
 * provider's, everything else (`vpc` included) replaces the provider's.
 */
import { WorkerMetrics } from "./metrics";
import type { LaneSettings, ProviderConfig } from "./config";
import { Limits, ProviderDefaults } from "./constants";

/**
 * Retention values CloudWatch Logs accepts ("Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150,
 * 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653": CloudWatch Logs API reference,
 * PutRetentionPolicy), plus 0, which the Pulumi LogGroup takes as "never expire".
 */
export const LogRetentionDays = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * Environment names a handler may not set, and why. Lambda reserves these and rejects a function that sets
 * them ("Defined runtime environment variables", Lambda developer guide: _HANDLER, _X_AMZN_TRACE_ID,
 * AWS_DEFAULT_REGION, AWS_REGION, AWS_EXECUTION_ENV, AWS_LAMBDA_* , AWS_ACCESS_KEY(_ID), AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TZ); we refuse every AWS_ name (AWS_ENDPOINT_URL*
 * and AWS_PROFILE would redirect the pipeline's own SDK clients), POWERTOOLS_ (the pipeline sets the
 * service name and metrics namespace, and its idempotency and batch code read the rest), WEBHOOK_ (the
 * pipeline's own), and NODE_OPTIONS: it changes how the pipeline's own code runs (`--require` loads code
 * before the worker), and `npm start` runs every lane in one process, where it cannot apply per lane.
 */
export const ReservedEnvironment = {
    prefixes: [
        ["AWS_", "reserved by Lambda and the AWS SDK"],
        ["LAMBDA_", "reserved by Lambda"],
        ["POWERTOOLS_", "set by the pipeline for its own Powertools logger, metrics, idempotency and batch code"],
        ["WEBHOOK_", "the pipeline's own variables"],
    ],
    names: [
        ["TZ", "reserved by Lambda"],
        ["NODE_OPTIONS", "it changes how the pipeline's own code runs, and npm start runs every lane in one process"],
    ],
} as const;

/** Lambda VpcConfig: "SubnetIds ... Maximum number of 16 items", "SecurityGroupIds ... Maximum number of 5 items" (Lambda API reference, VpcConfig). */
export const VpcLimits = { maxSubnets: 16, maxSecurityGroups: 5 } as const;

/** A Secrets Manager secret's full ARN: IAM matches the whole ARN, with the 6 characters Secrets Manager appends to the name. */
const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const secretNamePattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Lambda API reference, Environment: "Key Pattern: [a-zA-Z]([a-zA-Z0-9_])+". */
const environmentKeyPattern = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const actionPattern = /^[a-z0-9-]+:[A-Za-z0-9]+$/;
const ids = { subnet: /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, sg: /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, rtb: /^rtb-[0-9a-f]{8}([0-9a-f]{9})?$/ } as const;

export function isSecretArn(value: string): boolean {
    return secretArnPattern.test(value);
}

export interface WorkerPermission {
    readonly actions: readonly string[];
    readonly resources: readonly string[];
}

export interface WorkerVpc {
    readonly subnetIds: readonly string[];
    readonly securityGroupIds: readonly string[];
    /** The pipeline creates the endpoints the worker needs (see components/worker-network.ts). */
    readonly endpoints: boolean;
    readonly routeTableIds: readonly string[];
}

/** A handler secret as the model sees it: a name, and the ARN when it is an existing secret (values stay in config). */
export interface HandlerSecretModel {
    readonly name: string;
    /** An existing secret's ARN; undefined when the pipeline creates the secret from a value in config. */
    readonly arn?: string;
}

/** A lane's worker settings, defaults resolved. */
export interface WorkerSettingsModel {
    readonly memorySize: number;
    readonly logRetentionDays: number;
    readonly tracing: boolean;
    readonly environment: Readonly<Record<string, string>>;
    readonly secrets: readonly HandlerSecretModel[];
    readonly permissions: readonly WorkerPermission[];
    readonly vpc?: WorkerVpc;
}

/** A named lane's settings over its provider's (the default lane is the provider's own). */
export function resolveLaneSettings(p: ProviderConfig, own: LaneSettings): LaneSettings {
    return {
        ...p,
        ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)),
        environment: p.environment || own.environment ? { ...p.environment, ...own.environment } : undefined,
        secrets: p.secrets || own.secrets ? { ...p.secrets, ...own.secrets } : undefined,
        permissions: p.permissions || own.permissions ? [...(p.permissions ?? []), ...(own.permissions ?? [])] : undefined,
    };
}

/** The worker settings of a lane whose settings are already resolved (resolveLaneSettings). */
export function workerSettingsOf(s: LaneSettings): WorkerSettingsModel {
    return {
        memorySize: s.memorySize ?? ProviderDefaults.memorySize,
        logRetentionDays: s.logRetentionDays ?? ProviderDefaults.logRetentionDays,
        tracing: s.tracing ?? ProviderDefaults.tracing,
        environment: { ...s.environment },
        secrets: Object.entries(s.secrets ?? {}).map(([name, value]) => (isSecretArn(value) ? { name, arn: value } : { name })),
        permissions: (s.permissions ?? []).map((p) => ({ actions: [...p.actions], resources: [...p.resources] })),
        vpc: s.vpc ? { subnetIds: [...s.vpc.subnetIds], securityGroupIds: [...s.vpc.securityGroupIds], endpoints: s.vpc.endpoints ?? false, routeTableIds: [...(s.vpc.routeTableIds ?? [])] } : undefined,
    };
}

/** Variables the pipeline sets on every worker (counted in the 4 KB with the handler's). */
export function pipelineWorkerEnvironment(laneId: string): Record<string, string> {
    return { POWERTOOLS_SERVICE_NAME: `webhook-worker-${laneId}`, POWERTOOLS_METRICS_NAMESPACE: WorkerMetrics.namespace };
}

const q = (v: unknown) => JSON.stringify(v);

/** Problems with one provider's or lane's own worker settings (`where` is its path). */
export function workerSettingsProblems(where: string, provider: string, s: LaneSettings): string[] {
    const problems: string[] = [];
    const of = `(provider ${provider})`;
    if (s.memorySize !== undefined && (!Number.isInteger(s.memorySize) || s.memorySize < Limits.minMemorySize || s.memorySize > Limits.maxMemorySize)) {
        problems.push(`${where}.memorySize: must be a whole number of MB between ${Limits.minMemorySize} and ${Limits.maxMemorySize}, got ${s.memorySize} ${of}`);
    }
    if (s.logRetentionDays !== undefined && !(LogRetentionDays as readonly number[]).includes(s.logRetentionDays)) {
        problems.push(`${where}.logRetentionDays: CloudWatch Logs accepts only ${LogRetentionDays.filter(Boolean).join(", ")} (or 0: never expire), got ${s.logRetentionDays} ${of}`);
    }
    for (const [key] of Object.entries(s.environment ?? {})) {
        const at = `${where}.environment.${key}`;
        if (!environmentKeyPattern.test(key)) {
            problems.push(`${where}.environment[${q(key)}]: must start with a letter and hold at least 2 letters, digits or '_' (Lambda's key pattern), got ${q(key)} ${of}`);
            continue;
        }
        const upper = key.toUpperCase();
        const prefix = ReservedEnvironment.prefixes.find(([p]) => upper.startsWith(p));
        const name = ReservedEnvironment.names.find(([n]) => upper === n);
        if (prefix) problems.push(`${at}: names starting with ${prefix[0]} are refused (${prefix[1]}), got ${q(key)} ${of}; pick another name`);
        else if (name) problems.push(`${at}: ${q(key)} is refused (${name[1]}) ${of}`);
    }
    for (const [name, value] of Object.entries(s.secrets ?? {})) {
        if (!secretNamePattern.test(name)) {
            problems.push(`${where}.secrets[${q(name)}]: a secret name must be a letter then up to 63 letters, digits or '_', got ${q(name)} ${of}`);
        } else if (value.startsWith("arn:") && !isSecretArn(value)) {
            problems.push(
                `${where}.secrets.${name}: ${q(value)} is not a Secrets Manager secret's full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>; IAM matches the full ARN) ${of}`,
            );
        }
    }
    (s.permissions ?? []).forEach((statement, i) => {
        // A statement or field the schema refused is gone here, and already reported ("is required", ...).
        if (!statement) return;
        const at = `${where}.permissions[${i}]`;
        if (statement.effect !== undefined && statement.effect !== "Allow") {
            problems.push(`${at}.effect: only "Allow" (the worker's role grants nothing else, so a Deny has nothing to take away), got ${q(statement.effect)} ${of}`);
        }
        if (statement.actions?.length === 0) problems.push(`${at}.actions: must list at least one action ${of}`);
        (statement.actions ?? []).forEach((action, j) => {
            if (/[*?]/.test(action)) problems.push(`${at}.actions[${j}]: wildcard actions are refused (list the exact actions, e.g. s3:GetObject), got ${q(action)} ${of}`);
            else if (!actionPattern.test(action)) problems.push(`${at}.actions[${j}]: must be an IAM action such as s3:GetObject (service:Action), got ${q(action)} ${of}`);
        });
        if (statement.resources?.length === 0) problems.push(`${at}.resources: must list at least one resource ARN ${of}`);
        (statement.resources ?? []).forEach((resource, j) => {
            if (resource !== "*" && !resource.startsWith("arn:")) problems.push(`${at}.resources[${j}]: must be an ARN (arn:...) or "*", got ${q(resource)} ${of}`);
        });
    });
    const vpc = s.vpc;
    if (vpc) {
        const list = (field: "subnetIds" | "securityGroupIds" | "routeTableIds", pattern: RegExp, example: string, max?: number) => {
            const values = vpc[field] ?? [];
            // A missing list is the schema's "is required"; an empty one is ours.
            if (field !== "routeTableIds" && vpc[field] !== undefined && values.length === 0) problems.push(`${where}.vpc.${field}: must list at least one (${example}) ${of}`);
            if (max !== undefined && values.length > max) problems.push(`${where}.vpc.${field}: Lambda takes at most ${max}, got ${values.length} ${of}`);
            values.forEach((id, j) => {
                if (!pattern.test(id)) problems.push(`${where}.vpc.${field}[${j}]: must be an id like ${example}, got ${q(id)} ${of}`);
            });
            const dupes = values.filter((id, j) => values.indexOf(id) !== j);
            if (dupes.length) problems.push(`${where}.vpc.${field}: lists ${[...new Set(dupes)].map(q).join(", ")} more than once ${of}`);
        };
        list("subnetIds", ids.subnet, "subnet-0123456789abcdef0", VpcLimits.maxSubnets);
        list("securityGroupIds", ids.sg, "sg-0123456789abcdef0", VpcLimits.maxSecurityGroups);
        list("routeTableIds", ids.rtb, "rtb-0123456789abcdef0");
        if (vpc.endpoints && !vpc.routeTableIds?.length) {
            problems.push(`${where}.vpc.routeTableIds: is required with vpc.endpoints: true (the S3 and DynamoDB gateway endpoints are routes in the subnets' route tables) ${of}`);
        }
        if (!vpc.endpoints && vpc.routeTableIds !== undefined) problems.push(`${where}.vpc.routeTableIds: only applies with vpc.endpoints: true ${of}`);
    }
    return problems;
}

/**
 * Problems of a provider's lanes once a named lane's settings are merged over the provider's:
 * the environment's 4 KB (with the pipeline's own variables). `settings[0]` is the provider's (its default lane).
 */
export function laneWorkerProblems(p: ProviderConfig, settings: readonly (readonly [string, LaneSettings])[]): string[] {
    const problems: string[] = [];
    const laneNames = ["default", ...Object.keys(p.lanes ?? {})];
    settings.forEach(([where, s], n) => {
        const laneId = `${p.name}-${laneNames[n]}`;
        const resolved = n === 0 ? s : resolveLaneSettings(p, s);
        const bytes = Buffer.byteLength(JSON.stringify({ ...resolved.environment, ...pipelineWorkerEnvironment(laneId) }), "utf8");
        if (resolved.environment && bytes > Limits.maxEnvironmentBytes) {
            problems.push(
                `${where}.environment: lane ${laneId}'s variables take ${bytes} bytes with the pipeline's own, Lambda allows ${Limits.maxEnvironmentBytes} in all (provider ${p.name}; move large values to secrets or S3)`,
            );
        }
    });
    return problems;
}

/** A lane's resolved settings and where they were declared, for the checks across lanes. */
export interface WorkerAt {
    readonly where: string;
    readonly provider: string;
    readonly settings: LaneSettings;
}

/**
 * Endpoints are created once per set of subnets; two sets in one VPC would clash (an interface endpoint's
 * private DNS name exists once per VPC), and which VPC a subnet is in is unknown before deployment. So
 * every lane with `vpc.endpoints: true` must give the same subnets and route tables.
 */
export function vpcEndpointProblems(workers: readonly WorkerAt[]): string[] {
    const withEndpoints = workers.filter((w) => w.settings.vpc?.endpoints);
    if (withEndpoints.length < 2) return [];
    const key = (w: WorkerAt) => JSON.stringify([[...w.settings.vpc!.subnetIds].sort(), [...(w.settings.vpc!.routeTableIds ?? [])].sort()]);
    const first = withEndpoints[0];
    return withEndpoints
        .filter((w) => key(w) !== key(first))
        .map((w) => `${w.where}.vpc: endpoints: true with other subnets or route tables than ${first.where}.vpc (provider ${w.provider}); the pipeline creates one set of endpoints: give the same subnetIds and routeTableIds, or set endpoints: false and route through your NAT or endpoints`);
}
