/**
 * The stack config as the local pipeline reads it: the same validation and
 * pipeline model as the Pulumi program, with signing secrets taken from the
 * environment (`WEBHOOK_SECRET_<NAME>`, name upper-cased, `-` as `_`) or
 * generated for development and kept in `.cache/local/secrets.json`, so
 * `npm run send` signs with the same secret the running pipeline verifies.
 * Secure values in the stack file are never decrypted here.
 */
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { handlerNames } from "../handlers/app";
import { readStackConfig } from "../components/stack-config";
import { ConfigError, PipelineConfig, validateConfig } from "../model/config";
import { buildPipelineModel, PipelineModel } from "../model/pipeline";
import { readStackFile, stackFile } from "../scripts/pulumi-mocks";
import { PluginName } from "../providers/types";

export interface LocalStack {
    readonly stack: string;
    readonly config: PipelineConfig;
    readonly model: PipelineModel;
    /** Provider -> secrets the local pipeline verifies with. */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    /** Providers whose secret was generated (not from the environment). */
    readonly generated: readonly string[];
}

export function repoRoot(): string {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "package.json"))) {
        const up = path.dirname(dir);
        if (up === dir) throw new Error("package.json not found above " + __dirname);
        dir = up;
    }
    return dir;
}

export const secretsFile = () => path.join(repoRoot(), ".cache", "local", "secrets.json");

export function secretEnvName(provider: string): string {
    return `WEBHOOK_SECRET_${provider.toUpperCase().replace(/-/g, "_")}`;
}

function devSecret(plugin: PluginName): string {
    // Standard Webhooks secrets are base64 keys with a whsec_ prefix.
    return plugin === PluginName.StandardWebhooks ? `whsec_${randomBytes(24).toString("base64")}` : `dev_${randomBytes(16).toString("hex")}`;
}

/** Read `Pulumi.<stack>.yaml`, validate it, and resolve local secrets. */
export function loadLocalStack(stack = "dev", env: NodeJS.ProcessEnv = process.env): LocalStack {
    const file = stackFile(stack, repoRoot());
    if (!fs.existsSync(file)) throw new Error(`no stack file ${path.basename(file)} (stacks: ${fs.readdirSync(repoRoot()).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).join(", ")})`);
    const { config: flat, secretKeys } = readStackFile(file);
    const { values, problems } = readStackConfig(flat, (k) => secretKeys.includes(k));
    const providers = Array.isArray(values.providers) ? (values.providers as Record<string, unknown>[]) : [];
    let stored: Record<string, string[]> = {};
    try {
        stored = JSON.parse(fs.readFileSync(secretsFile(), "utf8"));
    } catch {
        stored = {};
    }
    const secrets: Record<string, string[]> = {};
    const generated: string[] = [];
    for (const p of providers) {
        const name = String(p.name);
        const fromEnv = env[secretEnvName(name)];
        if (fromEnv) secrets[name] = fromEnv.split(",").map((s) => s.trim()).filter(Boolean);
        else {
            secrets[name] = stored[name] ?? [devSecret(p.plugin as PluginName)];
            generated.push(name);
        }
        // Placeholders for secure values are replaced: the local pipeline never sees the stack's secrets.
        p.secret = secrets[name];
    }
    const result = validateConfig(values, { handlers: handlerNames });
    const all = [...problems, ...(result.ok ? [] : result.problems)];
    if (!result.ok || all.length) throw new ConfigError(all);
    fs.mkdirSync(path.dirname(secretsFile()), { recursive: true });
    fs.writeFileSync(secretsFile(), JSON.stringify({ ...stored, ...Object.fromEntries(generated.map((n) => [n, secrets[n]])) }, null, 2), { mode: 0o600 });
    return { stack, config: result.config, model: buildPipelineModel(result.config, "local"), secrets, generated };
}
