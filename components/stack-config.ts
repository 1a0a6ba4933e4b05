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
import { readStackConfig } from "../model/stack-config";

/** `isConfigSecret` is internal to @pulumi/pulumi; read it defensively. */
function isSecretKey(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return runtimeConfig.isConfigSecret?.(key) ?? false;
}

/**
 * Read and validate the stack's config. Throws one ConfigError listing every
 * problem (plain-text secrets, unknown keys, and everything validateConfig finds).
 */
export function loadStackConfig(all: Record<string, string> = pulumi.runtime.allConfig(), isSecret: (key: string) => boolean = isSecretKey): PipelineConfig {
    const { values, problems } = readStackConfig(all, isSecret);
    const result = validateConfig(values, { handlers: handlerNames, region: all["aws:region"] });
    const everything = [...problems, ...(result.ok ? [] : result.problems)];
    if (everything.length || !result.ok) throw new ConfigError(everything);
    return result.config;
}
