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
import { readStackConfig } from "../model/stack-config";
import { ConfigError, PipelineConfig, validateConfig } from "../model/config";
import { buildPipelineModel, PipelineModel } from "../model/pipeline";
import { readStackFile, stackFile } from "../scripts/stack-file";
import { PluginName } from "../providers/types";
import { repoRoot } from "../scripts/services/cache";

export { repoRoot };

export interface LocalStack {
    readonly stack: string;
    readonly config: PipelineConfig;
    readonly model: PipelineModel;
    /** Provider -> secrets the local pipeline verifies with. */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    /** Providers whose secret was generated (not from the environment). */
    readonly generated: readonly string[];
    /** Lane id -> handler secret name -> the value the lane's worker reads locally (see handlerSecretEnvNames). */
    readonly handlerSecrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Handler secrets that were generated: the environment variable that would set each. */
    readonly generatedHandlerSecrets: readonly string[];
}


/**
 * Where the local pipeline keeps its files (generated secrets, the state file
 * `npm run ops` reads): env WEBHOOK_PIPELINE_LOCAL_DIR, or `<repo>/.cache/local`.
 */
export function localDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env.WEBHOOK_PIPELINE_LOCAL_DIR || path.join(repoRoot(), ".cache", "local"));
}

export const secretsFile = (env: NodeJS.ProcessEnv = process.env) => path.join(localDir(env), "secrets.json");

/** Generated handler secrets, `{ "<lane id>": { "<NAME>": "<value>" } }`, beside the signing secrets. */
export const handlerSecretsFile = (env: NodeJS.ProcessEnv = process.env) => path.join(localDir(env), "handler-secrets.json");

const envPart = (s: string) => s.toUpperCase().replace(/-/g, "_");

/**
 * Where `npm start` looks for a handler secret's local value, first match wins:
 * `WEBHOOK_HANDLER_SECRET_<PROVIDER>_<LANE>_<NAME>` (this lane only), then
 * `WEBHOOK_HANDLER_SECRET_<PROVIDER>_<NAME>` (every lane of the provider); names upper-cased, `-` as `_`.
 * Otherwise a development value is generated and kept in handler-secrets.json.
 */
export function handlerSecretEnvNames(provider: string, lane: string, name: string): [string, string] {
    return [`WEBHOOK_HANDLER_SECRET_${envPart(provider)}_${envPart(lane)}_${envPart(name)}`, `WEBHOOK_HANDLER_SECRET_${envPart(provider)}_${envPart(name)}`];
}

/**
 * A stack is named (`dev` -> `<repo>/Pulumi.dev.yaml`) or given as a path to a
 * stack file (anything with a `/` or ending in `.yaml`/`.yml`, e.g.
 * `test/local/fixtures/Pulumi.all.yaml`); the stack name is then read from the file name.
 */
export function resolveStackFile(stack: string): { name: string; file: string } {
    if (/[\\/]/.test(stack) || /\.ya?ml$/.test(stack)) {
        const file = path.resolve(stack);
        return { name: path.basename(file).replace(/^Pulumi\./, "").replace(/\.ya?ml$/, ""), file };
    }
    return { name: stack, file: stackFile(stack, repoRoot()) };
}

export function secretEnvName(provider: string): string {
    return `WEBHOOK_SECRET_${provider.toUpperCase().replace(/-/g, "_")}`;
}

function devSecret(plugin: PluginName): string {
    // Standard Webhooks secrets are base64 keys with a whsec_ prefix.
    return plugin === PluginName.StandardWebhooks ? `whsec_${randomBytes(24).toString("base64")}` : `dev_${randomBytes(16).toString("hex")}`;
}

/** Read and validate a stack file, each provider's secret given by `secretOf` (the stack's own secrets are never decrypted). */
function readStack(stackRef: string, secretOf: (provider: string, plugin: PluginName) => string[]): { stack: string; config: PipelineConfig } {
    const { name: stack, file } = resolveStackFile(stackRef);
    if (!fs.existsSync(file)) throw new Error(`no stack file ${file} (stacks: ${fs.readdirSync(repoRoot()).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).join(", ")}; or pass a path to one)`);
    const { config: flat, secretKeys } = readStackFile(file);
    const { values, problems } = readStackConfig(flat, (k) => secretKeys.includes(k));
    const providers = Array.isArray(values.providers) ? (values.providers as Record<string, unknown>[]) : [];
    // Placeholders for secure values are replaced: the local pipeline never sees the stack's secrets.
    for (const p of providers) p.secret = secretOf(String(p.name), p.plugin as PluginName);
    const result = validateConfig(values, { handlers: handlerNames });
    const all = [...problems, ...(result.ok ? [] : result.problems)];
    if (!result.ok || all.length) throw new ConfigError(all);
    return { stack, config: result.config };
}

/** The pipeline model of a stack, for tools that need no secret (diagram). @param name the pipeline's name in resource names. */
export function loadStackModel(stackRef = "dev", name = "webhooks"): { stack: string; config: PipelineConfig; model: PipelineModel } {
    const { stack, config } = readStack(stackRef, (_, plugin) => [devSecret(plugin)]);
    return { stack, config, model: buildPipelineModel(config, name) };
}

/**
 * Read `Pulumi.<stack>.yaml` (or a stack file path, see resolveStackFile), validate it, and resolve local secrets.
 * @param name the pipeline's name: the prefix of local resource names and Kafka topics. @default "local"
 */
export function loadLocalStack(stackRef = "dev", env: NodeJS.ProcessEnv = process.env, name = "local"): LocalStack {
    let stored: Record<string, string[]> = {};
    try {
        stored = JSON.parse(fs.readFileSync(secretsFile(env), "utf8"));
    } catch {
        stored = {};
    }
    const secrets: Record<string, string[]> = {};
    const generated: string[] = [];
    const { stack, config } = readStack(stackRef, (name, plugin) => {
        const fromEnv = env[secretEnvName(name)];
        if (fromEnv) secrets[name] = fromEnv.split(",").map((s) => s.trim()).filter(Boolean);
        else {
            secrets[name] = stored[name] ?? [devSecret(plugin)];
            generated.push(name);
        }
        return secrets[name];
    });
    if (generated.some((n) => stored[n] === undefined)) {
        fs.mkdirSync(path.dirname(secretsFile(env)), { recursive: true });
        fs.writeFileSync(secretsFile(env), JSON.stringify({ ...stored, ...Object.fromEntries(generated.map((n) => [n, secrets[n]])) }, null, 2), { mode: 0o600 });
    }
    const model = buildPipelineModel(config, name);
    return { stack, config, model, secrets, generated, ...localHandlerSecrets(model, env) };
}

/** Each lane's handler secrets: from the environment (handlerSecretEnvNames), or generated once and kept. */
function localHandlerSecrets(model: PipelineModel, env: NodeJS.ProcessEnv): Pick<LocalStack, "handlerSecrets" | "generatedHandlerSecrets"> {
    let stored: Record<string, Record<string, string>> = {};
    try {
        stored = JSON.parse(fs.readFileSync(handlerSecretsFile(env), "utf8"));
    } catch {
        stored = {};
    }
    const handlerSecrets: Record<string, Record<string, string>> = {};
    const generatedHandlerSecrets: string[] = [];
    let changed = false;
    for (const lane of model.lanes) {
        for (const { name } of lane.worker.secrets) {
            const names = handlerSecretEnvNames(lane.provider, lane.name, name);
            const fromEnv = names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
            let value = fromEnv ?? stored[lane.id]?.[name];
            if (fromEnv === undefined) {
                if (value === undefined) {
                    value = `dev_${randomBytes(16).toString("hex")}`;
                    (stored[lane.id] ??= {})[name] = value;
                    changed = true;
                }
                generatedHandlerSecrets.push(names[0]);
            }
            (handlerSecrets[lane.id] ??= {})[name] = value;
        }
    }
    if (changed) {
        fs.mkdirSync(path.dirname(handlerSecretsFile(env)), { recursive: true });
        fs.writeFileSync(handlerSecretsFile(env), JSON.stringify(stored, null, 2), { mode: 0o600 });
    }
    return { handlerSecrets, generatedHandlerSecrets };
}
