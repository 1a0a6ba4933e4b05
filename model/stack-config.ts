/**
 * Reading `webhook-pipeline:*` stack config values, without Pulumi: the
 * program (components/stack-config.ts) and the local pipeline both use it,
 * and the local pipeline starts faster for not loading @pulumi/pulumi.
 */

export const ConfigNamespace = "webhook-pipeline";
export const ConfigKeys = ["providers", "router", "api", "archive", "kafka", "alarmTopicArn"] as const;

export interface RawStackConfig {
    readonly values: Record<string, unknown>;
    readonly problems: string[];
}

/** Pure part: given the config map and which keys are secret, collect values and problems. */
export function readStackConfig(all: Record<string, string>, isSecret: (key: string) => boolean): RawStackConfig {
    const values: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [fullKey, text] of Object.entries(all)) {
        const [namespace, key] = fullKey.split(":");
        if (namespace !== ConfigNamespace) continue;
        if (!(ConfigKeys as readonly string[]).includes(key)) {
            problems.push(`${key}: unknown key "${fullKey}" (known: ${ConfigKeys.join(", ")})`);
            continue;
        }
        values[key] = parseValue(text);
    }
    const providers = values.providers;
    if (Array.isArray(providers) && !isSecret(`${ConfigNamespace}:providers`)) {
        providers.forEach((p, i) => {
            if (p && typeof p === "object" && "secret" in p) {
                problems.push(`providers[${i}].secret: is stored in plain text (run \`pulumi config set --secret --path '${ConfigNamespace}:providers[${i}].secret' <value>\`)`);
            }
            for (const [where, at] of destinationSecretPaths(p, i)) {
                problems.push(`${where}: is stored in plain text (run \`pulumi config set --secret --path '${ConfigNamespace}:${at}' <value>\`)`);
            }
        });
    }
    const kafka = values.kafka as { sasl?: { password?: unknown } } | undefined;
    if (kafka?.sasl?.password !== undefined && !isSecret(`${ConfigNamespace}:kafka`)) {
        problems.push(`kafka.sasl.password: is stored in plain text (run \`pulumi config set --secret --path '${ConfigNamespace}:kafka.sasl.password' <value>\`)`);
    }
    return { values, problems };
}

/** The destination secrets (signingSecret, auth.secret) a provider entry holds, as [path, config path] pairs. */
function destinationSecretPaths(p: unknown, i: number): [string, string][] {
    if (!p || typeof p !== "object") return [];
    const out: [string, string][] = [];
    const check = (d: unknown, base: string, configBase: string) => {
        if (!d || typeof d !== "object") return;
        const dest = d as { signingSecret?: unknown; auth?: { secret?: unknown } };
        if (dest.signingSecret !== undefined) out.push([`${base}.signingSecret`, `${configBase}.signingSecret`]);
        if (dest.auth && typeof dest.auth === "object" && dest.auth.secret !== undefined) out.push([`${base}.auth.secret`, `${configBase}.auth.secret`]);
    };
    const provider = p as { destination?: unknown; lanes?: Record<string, { destination?: unknown }> };
    check(provider.destination, `providers[${i}].destination`, `providers[${i}].destination`);
    for (const [name, lane] of Object.entries(provider.lanes ?? {})) check(lane?.destination, `providers[${i}].lanes.${name}.destination`, `providers[${i}].lanes.${name}.destination`);
    return out;
}

function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text; // plain strings (alarmTopicArn) are stored unquoted
    }
}
