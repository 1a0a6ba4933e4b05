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
        });
    }
    const kafka = values.kafka as { sasl?: { password?: unknown } } | undefined;
    if (kafka?.sasl?.password !== undefined && !isSecret(`${ConfigNamespace}:kafka`)) {
        problems.push(`kafka.sasl.password: is stored in plain text (run \`pulumi config set --secret --path '${ConfigNamespace}:kafka.sasl.password' <value>\`)`);
    }
    return { values, problems };
}

function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text; // plain strings (alarmTopicArn) are stored unquoted
    }
}
