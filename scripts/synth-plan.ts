/**
 * What `pulumi up` would create, read from the resources the program registered under Pulumi's mocks
 * (scripts/synth.ts): per provider and lane, the queue and DLQ, the worker, the IAM actions its role gets
 * and the alarms; the same for the router and the ingress functions. Everything is sorted, so two runs
 * of the same stack print the same plan.
 */
import type { RecordedResource } from "./pulumi-mocks";

export interface QueuePlan {
    readonly name: string;
    readonly kind: "standard" | "fifo";
    /** Seconds; undefined where the program leaves SQS's own default. */
    readonly retentionSeconds?: number;
    readonly visibilitySeconds?: number;
    /** Deliveries before the DLQ (the queue's redrive policy). */
    readonly maxReceiveCount?: number;
}

export interface IamGrant {
    readonly resource: string;
    readonly actions: readonly string[];
}

export interface WorkerPlan {
    readonly function: string;
    readonly runtime?: string;
    readonly architecture?: string;
    readonly memoryMb?: number;
    readonly timeoutSeconds?: number;
    /** Event source mapping: maximumConcurrency, batchSize, MaximumBatchingWindowInSeconds. */
    readonly concurrency?: number;
    readonly batchSize?: number;
    readonly batchWindowSeconds?: number;
    /** What the worker's role may do, grouped by resource. */
    readonly iam: readonly IamGrant[];
}

export interface AlarmPlan {
    readonly name: string;
    readonly metric: string;
    readonly on: string;
    readonly condition: string;
}

export interface LanePlan {
    readonly lane: string;
    readonly provider: string;
    readonly queue?: QueuePlan;
    readonly dlq?: QueuePlan;
    readonly worker?: WorkerPlan;
    readonly alarms: readonly AlarmPlan[];
}

export interface SynthPlan {
    readonly router: LanePlan;
    readonly providers: readonly { readonly name: string; readonly url?: string; readonly ingress?: WorkerPlan; readonly lanes: readonly LanePlan[] }[];
    /** Resource counts by type, for everything else (API, bucket, table, secrets, ...). */
    readonly resourceCounts: Readonly<Record<string, number>>;
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
const last = (s: string, sep: string) => s.slice(s.lastIndexOf(sep) + 1);

function parse<T>(json: unknown): T | undefined {
    if (typeof json !== "string") return json as T | undefined;
    try {
        return JSON.parse(json) as T;
    } catch {
        return undefined;
    }
}

/** A role policy document's statements, merged per resource, actions sorted. */
function grantsOf(policy: unknown): IamGrant[] {
    const doc = parse<{ Statement?: { Effect?: string; Action?: string | string[]; Resource?: string | string[] }[] }>(policy);
    const grants = new Map<string, Set<string>>();
    for (const s of doc?.Statement ?? []) {
        if (s.Effect !== "Allow") continue;
        for (const resource of [s.Resource ?? []].flat()) {
            const actions = grants.get(resource) ?? new Set<string>();
            for (const a of [s.Action ?? []].flat()) actions.add(a);
            grants.set(resource, actions);
        }
    }
    return [...grants].map(([resource, actions]) => ({ resource, actions: [...actions].sort() })).sort((a, b) => a.resource.localeCompare(b.resource));
}

export function synthPlan(resources: readonly RecordedResource[], outputs: Record<string, unknown>): SynthPlan {
    const of = (type: string) => resources.filter((r) => r.type === type);
    const queues = of("aws:sqs/queue:Queue");
    const functions = of("aws:lambda/function:Function");
    const mappings = of("aws:lambda/eventSourceMapping:EventSourceMapping");
    const roles = of("aws:iam/role:Role");
    const policies = of("aws:iam/rolePolicy:RolePolicy");
    const alarms = of("aws:cloudwatch/metricAlarm:MetricAlarm");
    const queueUrls = (outputs.queueUrls ?? {}) as Record<string, string>;
    const dlqUrls = (outputs.dlqUrls ?? {}) as Record<string, string>;
    const webhookUrls = (outputs.webhookUrls ?? {}) as Record<string, string>;
    const used = new Set<RecordedResource>();

    const queuePlan = (url: string | undefined): QueuePlan | undefined => {
        const q = url ? queues.find((r) => r.state.url === url) : undefined;
        if (!q) return undefined;
        used.add(q);
        const redrive = parse<{ maxReceiveCount?: number }>(q.inputs.redrivePolicy);
        return {
            name: q.state.name,
            kind: q.inputs.fifoQueue === true || String(q.state.name).endsWith(".fifo") ? "fifo" : "standard",
            retentionSeconds: q.inputs.messageRetentionSeconds,
            visibilitySeconds: q.inputs.visibilityTimeoutSeconds,
            maxReceiveCount: redrive?.maxReceiveCount,
        };
    };
    const workerPlan = (fn: RecordedResource | undefined, queueArn?: string): WorkerPlan | undefined => {
        if (!fn) return undefined;
        used.add(fn);
        const mapping = mappings.find((m) => m.inputs.functionName === fn.state.arn && (queueArn === undefined || m.inputs.eventSourceArn === queueArn));
        if (mapping) used.add(mapping);
        const role = roles.find((r) => r.state.arn === fn.inputs.role);
        const rolePolicies = role ? policies.filter((p) => p.inputs.role === `${role.name}-id` || p.inputs.role === role.state.name) : [];
        if (role) used.add(role);
        rolePolicies.forEach((p) => used.add(p));
        const iam = grantsOf({ Statement: rolePolicies.flatMap((p) => parse<{ Statement?: unknown[] }>(p.inputs.policy)?.Statement ?? []) });
        return {
            function: fn.state.name,
            runtime: fn.inputs.runtime,
            architecture: fn.inputs.architectures?.[0],
            memoryMb: fn.inputs.memorySize,
            timeoutSeconds: fn.inputs.timeout,
            concurrency: mapping?.inputs.scalingConfig?.maximumConcurrency,
            batchSize: mapping?.inputs.batchSize,
            batchWindowSeconds: mapping?.inputs.maximumBatchingWindowInSeconds,
            iam,
        };
    };
    const alarmsOn = (names: readonly (string | undefined)[]): AlarmPlan[] =>
        alarms
            .filter((a) => Object.values(a.inputs.dimensions ?? {}).some((v) => names.includes(v as string)))
            .map((a) => {
                used.add(a);
                const op = { GreaterThanThreshold: ">", GreaterThanOrEqualToThreshold: ">=", LessThanThreshold: "<", LessThanOrEqualToThreshold: "<=" }[a.inputs.comparisonOperator as string] ?? a.inputs.comparisonOperator;
                return {
                    name: a.name,
                    metric: `${a.inputs.namespace}/${a.inputs.metricName}`,
                    on: Object.values(a.inputs.dimensions ?? {}).join(", "),
                    condition: `${a.inputs.statistic ?? "?"} ${op} ${a.inputs.threshold} over ${a.inputs.evaluationPeriods ?? 1} x ${a.inputs.period ?? "?"} s`,
                };
            })
            .sort(byName);
    const lanePlan = (laneId: string, provider: string, workerName: (fn: RecordedResource) => boolean): LanePlan => {
        const queue = queuePlan(queueUrls[laneId]);
        const dlq = queuePlan(dlqUrls[laneId]);
        const queueArn = queue ? queues.find((q) => q.state.name === queue.name)?.state.arn : undefined;
        // The worker is the function the lane queue's event source mapping invokes (Kafka lanes: by name).
        const mapped = queueArn ? mappings.find((m) => m.inputs.eventSourceArn === queueArn) : undefined;
        const fn = functions.find((f) => (mapped ? f.state.arn === mapped.inputs.functionName : workerName(f)));
        const worker = workerPlan(fn, queueArn);
        return { lane: laneId, provider, queue, dlq, worker, alarms: alarmsOn([queue?.name, dlq?.name, worker?.function]) };
    };

    const router = lanePlan("catch-all", "(all)", (f) => f.name.endsWith("-router-fn"));
    const laneIds = Object.keys(queueUrls).filter((id) => id !== "catch-all");
    const kafkaLanes = Object.keys((outputs.kafkaTopics ?? {}) as Record<string, string>);
    const providerNames = Object.keys(webhookUrls).sort();
    // Longest name first: lane a-b-default belongs to provider a-b, not a.
    const ownerOf = (laneId: string) => [...providerNames].sort((a, b) => b.length - a.length).find((p) => laneId.startsWith(`${p}-`)) ?? "(unknown)";
    const providers = providerNames.map((name) => {
        const ingressFn = functions.find((f) => f.name.endsWith(`-${name}-ingress-fn`));
        return {
            name,
            url: webhookUrls[name],
            ingress: workerPlan(ingressFn),
            lanes: [...laneIds, ...kafkaLanes]
                .filter((id) => ownerOf(id) === name)
                .sort()
                .map((id) => lanePlan(id, name, (f) => f.name.endsWith(`-${id}-worker-fn`))),
        };
    });
    const resourceCounts: Record<string, number> = {};
    for (const r of resources) {
        if (used.has(r) || r.type.startsWith("pulumi:") || r.type.startsWith("webhook-pipeline:")) continue;
        resourceCounts[r.type] = (resourceCounts[r.type] ?? 0) + 1;
    }
    return { router, providers, resourceCounts: Object.fromEntries(Object.entries(resourceCounts).sort(([a], [b]) => a.localeCompare(b))) };
}

const seconds = (s: number | undefined) => (s === undefined ? "SQS default" : s % 86_400 === 0 ? `${s / 86_400} d` : `${s} s`);

/** The plan as text, per provider and lane. */
export function formatPlan(plan: SynthPlan): string[] {
    const out: string[] = [];
    const queueLine = (what: string, q: QueuePlan | undefined) =>
        q ? `    ${what.padEnd(7)} ${q.name} (${q.kind}): retention ${seconds(q.retentionSeconds)}, visibility ${seconds(q.visibilitySeconds)}${q.maxReceiveCount ? `, max receive count ${q.maxReceiveCount} then the DLQ` : ""}` : undefined;
    const workerLines = (what: string, w: WorkerPlan | undefined) => {
        if (!w) return [];
        const mapping = w.concurrency !== undefined || w.batchSize !== undefined ? `, concurrency ${w.concurrency ?? "-"}, batch ${w.batchSize ?? "-"}${w.batchWindowSeconds ? ` (window ${w.batchWindowSeconds} s)` : ""}` : "";
        return [
            `    ${what.padEnd(7)} ${w.function}: ${w.runtime ?? "?"} ${w.architecture ?? ""}, ${w.memoryMb ?? "?"} MB, timeout ${w.timeoutSeconds ?? "?"} s${mapping}`,
            "    iam:",
            ...w.iam.map((g) => `      ${g.resource}\n        ${g.actions.join(", ")}`),
        ];
    };
    const lane = (l: LanePlan) => {
        out.push(`  lane ${l.lane}`);
        for (const line of [queueLine("queue", l.queue), queueLine("dlq", l.dlq)]) if (line) out.push(line);
        out.push(...workerLines(l.lane === "catch-all" ? "router" : "worker", l.worker));
        if (l.alarms.length) out.push("    alarms:", ...l.alarms.map((a) => `      ${a.name}: ${a.metric} ${a.condition} (${a.on})`));
    };
    out.push("What `pulumi up` would create (physical names as the mocks make them; AWS adds its own suffixes).", "", "router (every provider's requests)");
    lane(plan.router);
    for (const p of plan.providers) {
        out.push("", `provider ${p.name}  ${p.url ?? ""}`);
        if (p.ingress) out.push(...workerLines("ingress", p.ingress).map((l) => l));
        p.lanes.forEach(lane);
    }
    out.push("", "also: " + Object.entries(plan.resourceCounts).map(([t, n]) => `${last(t, ":")} x${n}`).join(", "));
    return out;
}
