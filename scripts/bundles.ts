/**
 * The deploy check for callback functions: what each function would upload,
 * how big it is, and whether it loads. The serialized `__index.js` is written
 * where Node resolves packages the way the zip would, then required and its
 * `handler` returned. Any `require()` of a package that is neither in the zip,
 * a Node built-in, nor shipped by the Lambda runtime (@aws-sdk/*) is an error:
 * that function would fail on AWS with "Cannot find module".
 */
import { execFileSync } from "child_process";
import { builtinModules } from "module";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { RecordedResource, uploadedCode } from "./pulumi-mocks";

export interface Bundle {
    readonly name: string;
    readonly indexJs: string;
    /** Folders and files the archive holds besides __index.js (node_modules/...). */
    readonly paths: readonly string[];
    /** Sum of file sizes in the archive, uncompressed. */
    readonly rawBytes: number;
    /** Estimated zip size: each file deflated, plus 100 bytes of zip headers per file. */
    readonly zipBytes: number;
    readonly files: number;
}

function walk(target: string, visit: (file: string) => void) {
    if (!fs.existsSync(target)) return;
    const stat = fs.statSync(target);
    if (stat.isFile()) return visit(target);
    for (const entry of fs.readdirSync(target)) walk(path.join(target, entry), visit);
}

export async function bundleOf(resource: RecordedResource, root = process.cwd()): Promise<Bundle> {
    const { indexJs, paths } = await uploadedCode(resource);
    let rawBytes = Buffer.byteLength(indexJs);
    let zipBytes = zlib.deflateRawSync(indexJs).length + 100;
    let files = 1;
    for (const p of paths) {
        walk(path.resolve(root, p), (file) => {
            const data = fs.readFileSync(file);
            rawBytes += data.length;
            zipBytes += zlib.deflateRawSync(data).length + 100;
            files += 1;
        });
    }
    return { name: resource.name, indexJs, paths, rawBytes, zipBytes, files };
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageNameOf(spec: string): string {
    const parts = spec.split("/");
    return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Packages `__index.js` requires, by their package name. */
export function requiredPackages(indexJs: string): string[] {
    const names = new Set<string>();
    for (const m of indexJs.matchAll(/require\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
        names.add(packageNameOf(m[1]));
    }
    return [...names].sort();
}

/** Packages the code needs that the zip would not have. */
export function missingPackages(bundle: Bundle): string[] {
    const inZip = new Set(bundle.paths.map((p) => packageNameOf(p.replace(/\\/g, "/").split("node_modules/").pop()!)));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    return requiredPackages(bundle.indexJs).filter((name) => !builtins.has(name) && !name.startsWith("node:") && !name.startsWith("@aws-sdk/") && !inZip.has(name));
}

/**
 * Write the bundle's `__index.js` under `<root>/.cache/bundles/<name>/` and
 * load it as Lambda would (`require(...).handler`). Fails if the code needs a
 * package the zip lacks.
 */
export function loadBundle<H = (...args: any[]) => Promise<unknown>>(bundle: Bundle, root = process.cwd()): H {
    const missing = missingPackages(bundle);
    if (missing.length) throw new Error(`${bundle.name}: __index.js requires ${missing.join(", ")}, which the zip does not contain`);
    const dir = path.join(root, ".cache", "bundles", bundle.name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "__index.js");
    fs.writeFileSync(file, bundle.indexJs);
    delete require.cache[require.resolve(file)];
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(file) as { handler?: H };
    if (typeof mod.handler !== "function") throw new Error(`${bundle.name}: __index.js does not export a handler function`);
    return mod.handler;
}

/**
 * The AWS SDK client packages a bundle loads before its handler exists, in a
 * fresh Node process (as a cold start would): loadBundle must have written
 * it to `.cache/bundles/<name>/__index.js` first.
 */
export function sdkClientsLoadedAtStart(bundle: Bundle, root = process.cwd()): string[] {
    const file = path.join(root, ".cache", "bundles", bundle.name, "__index.js");
    const script = "require(process.argv[1]); process.stdout.write(JSON.stringify(Object.keys(require.cache)));";
    const out = execFileSync(process.execPath, ["-e", script, file], { cwd: root, env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", POWERTOOLS_LOG_LEVEL: "ERROR", NODE_NO_WARNINGS: "1" }, encoding: "utf8" });
    const names = (JSON.parse(out) as string[]).map((p) => /node_modules[\\/](@aws-sdk[\\/]client-[a-z0-9-]+)[\\/]/.exec(p)?.[1]).filter((n): n is string => Boolean(n));
    return [...new Set(names.map((n) => n.replace("\\", "/")))].sort();
}
