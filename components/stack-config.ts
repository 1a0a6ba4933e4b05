/**
 * Read `webhook-pipeline:*` stack config as the component's args.
 *
 * Structured config with a nested secret arrives as one secret key; we read
 * the raw JSON (validation needs plain values to plan the graph) and hand the
 * secret values on only wrapped in `pulumi.secret`. A provider secret stored in
 * plain text is an error with the command that fixes it.
 */
import * as pulumi from "@pulumi/pulumi";
import { handlerNames } from "../handlers/app";
import { ConfigError, PipelineConfig, validateConfig } from "../model/config";

export const ConfigNamespace = "webhook-pipeline";
export const ConfigKeys = ["providers", "router", "api", "archive", "kafka", "alarmTopicArn"] as const;

/** `isConfigSecret` is internal to @pulumi/pulumi; read it defensively. */
function isSecretKey(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return runtimeConfig.isConfigSecret?.(key) ?? false;
}

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

/**
 * Read and validate the stack's config. Throws one ConfigError listing every
 * problem (plain-text secrets, unknown keys, and everything validateConfig finds).
 */
export function loadStackConfig(all: Record<string, string> = pulumi.runtime.allConfig(), isSecret: (key: string) => boolean = isSecretKey): PipelineConfig {
    const { values, problems } = readStackConfig(all, isSecret);
    const result = validateConfig(values, { handlers: handlerNames });
    const everything = [...problems, ...(result.ok ? [] : result.problems)];
    if (everything.length || !result.ok) throw new ConfigError(everything);
    return result.config;
}
