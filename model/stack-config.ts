/**
 * The stack file and the stack-config contract, in one place and without
 * Pulumi: which stack file a `--stack` means (resolveStackFile), the file read
 * into Pulumi's flat config map (readStackFile), and the `webhook-pipeline:*`
 * values read from that map (readStackConfig). The Pulumi program
 * (components/stack-config.ts), the local pipeline, the Kafka consumer command
 * (handlers/kafka/cli.ts, which runs next to the brokers without Pulumi) and
 * every other command use these, so `--stack` means the same everywhere.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

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
    if (Array.isArray(providers) && !isSecret(`${ConfigNamespace}:providers`)) {
        providers.forEach((p, i) => problems.push(...plainHandlerSecrets(p, i)));
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

/** A `--stack` that names no readable stack file, or a stack file that is not YAML. */
export class StackFileError extends Error {
    public readonly name = "StackFileError";
}

export interface StackFile {
    /** The stack's name: the given name, or read from the file name (`Pulumi.<name>.yaml`). */
    readonly name: string;
    /** Absolute path of the stack file. */
    readonly file: string;
}

export interface StackFileOptions {
    /** Where named stacks live. @default projectRoot() */
    readonly root?: string;
    /**
     * Folders a relative path is tried in, in order. @default the folder
     * `npm run` was called from (INIT_CWD), then the current folder (`npm run`
     * runs commands in the project root, not where you typed them).
     */
    readonly cwd?: readonly string[];
}

/** The Pulumi project's folder: the nearest one above `from` holding Pulumi.yaml (stack files sit beside it). */
export function projectRoot(from = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new StackFileError(`no Pulumi.yaml above ${from}: cannot tell where named stacks live (pass a path to a stack file)`);
    }
}

/** A `--stack` value is a path when it has a folder separator or a YAML extension; otherwise it is a stack name. */
export function isStackPath(ref: string): boolean {
    return /[\\/]/.test(ref) || /\.ya?ml$/i.test(ref);
}

/** The stack name of a stack file: `Pulumi.prod.yaml` -> `prod`, `staging.yml` -> `staging`. */
export function stackNameOf(file: string): string {
    return path.basename(file).replace(/^Pulumi\./, "").replace(/\.ya?ml$/i, "");
}

/**
 * What `--stack` means for every command: a stack name (`dev` ->
 * `Pulumi.dev.yaml` in the project root) or a path to a stack file (absolute,
 * or relative to the folder the command was run from). Throws StackFileError
 * naming every file it tried when none exists.
 */
export function resolveStackFile(ref: string, options: StackFileOptions = {}): StackFile {
    const hint = "give a stack name (dev for Pulumi.dev.yaml in the project root) or a path to a stack file";
    if (!ref.trim()) throw new StackFileError(`--stack: is empty (${hint})`);
    if (isStackPath(ref)) {
        const folders = options.cwd ?? [process.env.INIT_CWD, process.cwd()].filter((d): d is string => Boolean(d));
        const tried = [...new Set(path.isAbsolute(ref) ? [path.resolve(ref)] : folders.map((dir) => path.resolve(dir, ref)))];
        const file = tried.find(isFile);
        if (!file) throw new StackFileError(`--stack ${ref}: no such stack file (tried ${tried.join(", ")}; ${hint})`);
        return { name: stackNameOf(file), file };
    }
    const root = options.root ?? projectRoot();
    const file = path.join(root, `Pulumi.${ref}.yaml`);
    if (!isFile(file)) {
        const stacks = fs.readdirSync(root).filter((f) => /^Pulumi\..+\.ya?ml$/.test(f)).map(stackNameOf);
        throw new StackFileError(`--stack ${ref}: no stack file ${file} (stacks in ${root}: ${stacks.join(", ") || "none"}; ${hint})`);
    }
    return { name: ref, file };
}

function isFile(file: string): boolean {
    try {
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/**
 * Read a stack file into Pulumi's flat config map. Secure values are not
 * decrypted (nothing here needs them): they become a placeholder and their
 * top-level key is marked secret, exactly as the engine would mark it.
 */
export function readStackFile(file: string): { config: Record<string, string>; secretKeys: string[] } {
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    } catch (err) {
        throw new StackFileError(`${file}: is not valid YAML: ${(err as Error).message}`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        let secret = false;
        const strip = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
                secret = true;
                return `[secret:${placeholderOf((v as { secure: string }).secure)}]`;
            }
            if (Array.isArray(v)) return v.map(strip);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
            return v;
        };
        const plain = strip(value);
        config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) secretKeys.push(key);
    }
    return { config, secretKeys };
}

/** A short stable tag for a ciphertext, so two different secrets stay different under mocks. */
function placeholderOf(ciphertext: string): string {
    return createHash("sha256").update(ciphertext).digest("hex").slice(0, 8);
}

/** A resolved stack file with its config map and `webhook-pipeline:*` values: what a command makes of `--stack`. */
export interface LoadedStackFile extends StackFile, RawStackConfig {
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
}

/** resolveStackFile, readStackFile and readStackConfig in one call. */
export function loadStackFile(ref: string, options: StackFileOptions = {}): LoadedStackFile {
    const stack = resolveStackFile(ref, options);
    const { config, secretKeys } = readStackFile(stack.file);
    return { ...stack, config, secretKeys, ...readStackConfig(config, (k) => secretKeys.includes(k)) };
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
