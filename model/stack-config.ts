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
    if (Array.isArray(providers) && !isSecret(`${ConfigNamespace}:providers`)) {
        providers.forEach((p, i) => problems.push(...plainHandlerSecrets(p, i)));
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

/** Handler secret values (not ARNs of existing secrets) in a provider or its lanes stored in plain text. */
function plainHandlerSecrets(p: unknown, i: number): string[] {
    if (!p || typeof p !== "object") return [];
    const places: [string, unknown][] = [[`providers[${i}]`, p], ...Object.entries((p as { lanes?: Record<string, unknown> }).lanes ?? {}).map(([n, l]): [string, unknown] => [`providers[${i}].lanes.${n}`, l])];
    return places.flatMap(([where, s]) =>
        Object.entries(((s ?? {}) as { secrets?: Record<string, unknown> }).secrets ?? {})
            .filter(([, v]) => typeof v === "string" && !v.startsWith("arn:"))
            .map(([name]) => `${where}.secrets.${name}: is stored in plain text (run \`pulumi config set --secret --path '${ConfigNamespace}:${where}.secrets.${name}' <value>\`, or give an existing secret's ARN)`),
    );
}
