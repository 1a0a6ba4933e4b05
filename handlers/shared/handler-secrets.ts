/**
 * Handler secrets (`secrets:` on a provider or lane) as the handler reads
 * them: `context.secrets.get("DB_PASSWORD")`. The worker's runtime config maps
 * each name to a Secrets Manager secret id (ARNs are not secrets); the value
 * is read at run time with Powertools Parameters' SecretsProvider, cached for
 * `maxAgeSeconds`, and read again after that, so a rotated secret shows within
 * that time; `{ forceFetch: true }` reads it now (e.g. after the database
 * refused the cached password). Never in code, environment or logs.
 *
 * Powertools Parameters and @aws-sdk/client-secrets-manager are loaded on the
 * first read: a worker whose handler reads no secret does not pay for them at
 * cold start. Locally (`npm start`) the client points at moto.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretUnavailableError, unknownHandlerSecretError } from "./errors";

export interface HandlerSecretOptions {
    /** Serve a cached value at most this old. @default the worker's (ProviderDefaults.secretMaxAgeSeconds, 300) */
    readonly maxAgeSeconds?: number;
    /** Read from Secrets Manager now, whatever the cache holds. @default false */
    readonly forceFetch?: boolean;
}

export interface HandlerSecrets {
    /** The names this lane declares. */
    readonly names: readonly string[];
    /** The secret's current value (a string as stored). Throws UnknownHandlerSecretError for an undeclared name. */
    get(name: string, options?: HandlerSecretOptions): Promise<string>;
    /** The secret's value parsed as JSON (e.g. an RDS-managed secret's `{"username", "password", ...}`). */
    getJson<T = unknown>(name: string, options?: HandlerSecretOptions): Promise<T>;
}

/** No secrets declared: every `get` names the fix. */
export const noHandlerSecrets: HandlerSecrets = handlerSecrets({}, () => {
    throw new Error("unreachable: no secrets are declared");
});

/**
 * @param ids name -> Secrets Manager secret id (ARN), from the worker's runtime config.
 * @param client the Secrets Manager client, created on first use.
 */
export function handlerSecrets(ids: Readonly<Record<string, string>>, client: () => SecretsManagerClient, maxAgeSeconds = 300): HandlerSecrets {
    const names = Object.keys(ids);
    let provider: { get(name: string, options: { maxAge: number; forceFetch: boolean }): Promise<unknown> } | undefined;
    const providerOf = () => {
        if (provider) return provider;
        const { SecretsProvider } = require("@aws-lambda-powertools/parameters/secrets") as typeof import("@aws-lambda-powertools/parameters/secrets");
        return (provider = new SecretsProvider({ awsSdkV3Client: client() }));
    };
    async function get(name: string, options: HandlerSecretOptions = {}): Promise<string> {
        const id = ids[name];
        if (id === undefined) {
            throw unknownHandlerSecretError(`secret "${name}" is not declared for this lane (declared: ${names.length ? names.join(", ") : "none"}; add it under secrets: in the provider's or lane's config)`);
        }
        let value: unknown;
        try {
            value = await providerOf().get(id, { maxAge: options.maxAgeSeconds ?? maxAgeSeconds, forceFetch: options.forceFetch ?? false });
        } catch (err) {
            const cause = (err as Error & { cause?: Error }).cause ?? (err as Error);
            throw secretUnavailableError(`reading handler secret "${name}" (${id}) failed: ${cause.name}: ${cause.message}`);
        }
        if (typeof value === "string") return value;
        if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
        throw secretUnavailableError(`handler secret "${name}" (${id}) has no value yet (put one into Secrets Manager, or set it in config)`);
    }
    return {
        names,
        get,
        async getJson<T>(name: string, options?: HandlerSecretOptions): Promise<T> {
            return JSON.parse(await get(name, options)) as T;
        },
    };
}
