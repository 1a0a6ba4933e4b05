/**
 * Stack files (`Pulumi.<stack>.yaml`) read into Pulumi's flat config map,
 * without loading @pulumi/pulumi (the local pipeline and the synth share it).
 */
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { parse as parseYaml } from "yaml";

/**
 * Read `Pulumi.<stack>.yaml` into Pulumi's flat config map. Secure values are
 * not decrypted (the mock runtime needs none): they become a placeholder and
 * their top-level key is marked secret, exactly as the engine would mark it.
 */
export function readStackFile(file: string): { config: Record<string, string>; secretKeys: string[] } {
    const doc = parseStackYaml(file, fs.readFileSync(file, "utf8"));
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        let secret = false;
        const strip = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
                secret = true;
                return `[secret:${createPlaceholder((v as { secure: string }).secure)}]`;
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

/** The stack file's YAML; a syntax error names the file (the yaml package's message gives line and column). */
function parseStackYaml(file: string, text: string): { config?: Record<string, unknown> } | null {
    try {
        return parseYaml(text) as { config?: Record<string, unknown> } | null;
    } catch (err) {
        throw new Error(`${file}: is not valid YAML: ${(err as Error).message}`);
    }
}

/** A short stable tag for a ciphertext, so two different secrets stay different under mocks. */
function createPlaceholder(ciphertext: string): string {
    return createHash("sha256").update(ciphertext).digest("hex").slice(0, 8);
}

export function stackFile(stack: string, root = path.resolve(__dirname, "../..")): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}
