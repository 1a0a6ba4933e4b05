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
import { ConfigError, PipelineConfig, validateConfig } from "../model/config";
import { buildPipelineModel, destinationSecretsOf, PipelineModel } from "../model/pipeline";
import { loadStackFile } from "../model/stack-config";
import { PluginName } from "../providers/types";
import { repoRoot } from "./services/cache";

export { repoRoot };

export interface LocalStack {
    readonly stack: string;
    /** The stack file read (absolute). */
    readonly file: string;
    readonly config: PipelineConfig;
    readonly model: PipelineModel;
    /** Provider -> secrets the local pipeline verifies with. */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    /** Providers whose secret was generated (not from the environment). */
    readonly generated: readonly string[];
    /** Lane id -> its destination's secrets (signing secrets, auth value). */
    readonly destinationSecrets: Readonly<Record<string, { readonly signing: readonly string[]; readonly auth?: string }>>;
    /** Environment variable names whose destination secret was generated, with the value: printed at start. */
    readonly generatedDestination: readonly { readonly env: string; readonly value: string }[];
    /** Lane id -> handler secret name -> the value the lane's worker reads locally (see handlerSecretEnvNames). */
    readonly handlerSecrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Handler secrets that were generated: the environment variable that would set each. */
    readonly generatedHandlerSecrets: readonly string[];
}

/**
 * `WEBHOOK_DESTINATION_SECRET_<PROVIDER>` (the provider's default lane) or
 * `WEBHOOK_DESTINATION_SECRET_<PROVIDER>_<LANE>`; `kind` "auth" gives
 * `WEBHOOK_DESTINATION_AUTH_...`. Upper case, `-` as `_`.
 */
export function destinationSecretEnvName(kind: "signing" | "auth", provider: string, lane = "default"): string {
    const name = lane === "default" ? provider : `${provider}_${lane}`;
    return `WEBHOOK_DESTINATION_${kind === "signing" ? "SECRET" : "AUTH"}_${name.toUpperCase().replace(/-/g, "_")}`;
}

/** Key of a generated destination secret in secrets.json (provider names cannot hold ':'). */
const storedKey = (kind: "signing" | "auth", laneId: string) => `destination-${kind}:${laneId}`;


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

export function secretEnvName(provider: string): string {
    return `WEBHOOK_SECRET_${provider.toUpperCase().replace(/-/g, "_")}`;
}

function devSecret(plugin: PluginName): string {
    // Standard Webhooks secrets are base64 keys with a whsec_ prefix.
    return plugin === PluginName.StandardWebhooks ? `whsec_${randomBytes(24).toString("base64")}` : `dev_${randomBytes(16).toString("hex")}`;
}

type DestinationSecretOf = (kind: "signing" | "auth", provider: string, lane: string) => string[];

/** Replace the destination secrets of a provider entry (its own and its lanes') by local ones. */
function localDestinationSecrets(p: Record<string, unknown>, secretOf: DestinationSecretOf): void {
    const replace = (d: unknown, lane: string) => {
        if (!d || typeof d !== "object") return;
        const dest = d as { signingSecret?: unknown; auth?: { secret?: unknown } };
        if (dest.signingSecret !== undefined) dest.signingSecret = secretOf("signing", String(p.name), lane);
        if (dest.auth && typeof dest.auth === "object") dest.auth.secret = secretOf("auth", String(p.name), lane)[0];
    };
    replace(p.destination, "default");
    for (const [lane, settings] of Object.entries((p.lanes as Record<string, { destination?: unknown }> | undefined) ?? {})) replace(settings?.destination, lane);
}

function devDestinationSecret(kind: "signing" | "auth"): string {
    return kind === "signing" ? `whsec_${randomBytes(24).toString("base64")}` : `Bearer dev_${randomBytes(16).toString("hex")}`;
}

/**
 * Read and validate a stack file (a name or a path, see resolveStackFile in
 * model/stack-config.ts), each provider's secret given by `secretOf` (the
 * stack's own secrets are never decrypted).
 */
function readStack(
    stackRef: string,
    secretOf: (provider: string, plugin: PluginName) => string[],
    destinationSecretOf: DestinationSecretOf = (kind) => [devDestinationSecret(kind)],
): { stack: string; file: string; config: PipelineConfig } {
    const { name: stack, file, values, problems } = loadStackFile(stackRef);
    const providers = Array.isArray(values.providers) ? (values.providers as Record<string, unknown>[]) : [];
    // Placeholders for secure values are replaced: the local pipeline never sees the stack's secrets.
    for (const p of providers) {
        p.secret = secretOf(String(p.name), p.plugin as PluginName);
        localDestinationSecrets(p, destinationSecretOf);
    }
    const result = validateConfig(values, { handlers: handlerNames });
    const all = [...problems, ...(result.ok ? [] : result.problems)];
    if (!result.ok || all.length) throw new ConfigError(all);
    return { stack, file, config: result.config };
}

/** The pipeline model of a stack, for tools that need no secret (diagram). @param name the pipeline's name in resource names. */
export function loadStackModel(stackRef = "dev", name = "webhooks"): { stack: string; file: string; config: PipelineConfig; model: PipelineModel } {
    const { stack, file, config } = readStack(stackRef, (_, plugin) => [devSecret(plugin)]);
    return { stack, file, config, model: buildPipelineModel(config, name) };
}

/**
 * Read `Pulumi.<stack>.yaml` (or a stack file path), validate it, and resolve local secrets.
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
    const destinationValues: Record<string, string[]> = {};
    const generatedDestination: { env: string; value: string }[] = [];
    const generatedKeys: string[] = [];
    const { stack, file, config } = readStack(
        stackRef,
        (name, plugin) => {
            const fromEnv = env[secretEnvName(name)];
            if (fromEnv) secrets[name] = fromEnv.split(",").map((s) => s.trim()).filter(Boolean);
            else {
                secrets[name] = stored[name] ?? [devSecret(plugin)];
                generated.push(name);
            }
            return secrets[name];
        },
        (kind, provider, lane) => {
            const envName = destinationSecretEnvName(kind, provider, lane);
            const key = storedKey(kind, `${provider}-${lane}`);
            const fromEnv = env[envName];
            // A signing secret may be a comma-separated list (rotation); an auth value is taken whole.
            if (fromEnv) destinationValues[key] = kind === "signing" ? fromEnv.split(",").map((s) => s.trim()).filter(Boolean) : [fromEnv];
            else {
                destinationValues[key] = stored[key] ?? [devDestinationSecret(kind)];
                generatedKeys.push(key);
                generatedDestination.push({ env: envName, value: destinationValues[key].join(",") });
            }
            return destinationValues[key];
        },
    );
    if ([...generated, ...generatedKeys].some((n) => stored[n] === undefined)) {
        const keep = Object.fromEntries([...generated.map((n) => [n, secrets[n]]), ...generatedKeys.map((k) => [k, destinationValues[k]])]);
        fs.mkdirSync(path.dirname(secretsFile(env)), { recursive: true });
        fs.writeFileSync(secretsFile(env), JSON.stringify({ ...stored, ...keep }, null, 2), { mode: 0o600 });
    }
    const model = buildPipelineModel(config, name);
    // The config holds the local values now; lanes that inherit the provider's destination get its secrets.
    const destinationSecrets = destinationSecretsOf(config);
    return { stack, file, config, model, secrets, generated, destinationSecrets, generatedDestination, ...localHandlerSecrets(model, env) };
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
