/**
 * The deploy check for callback functions: what each function would upload,
 * how big it is, and whether it loads. The serialized `__index.js` is written
 * where Node resolves packages the way the zip would, then required and its
 * `handler` returned. Any `require()` of a package that is neither in the zip,
 * a Node built-in, nor relied on from the Lambda runtime (components/functions.ts
 * `RuntimeProvidedPackages`: none) is an error: that function would fail on
 * AWS with "Cannot find module". `isolateBundle` goes further: it runs the
 * zip where nothing else can be resolved, so packages required from inside
 * other packages, and lazily, are checked too.
 */
import { execFileSync } from "child_process";
import { builtinModules } from "module";
import * as fs from "fs";
import * as os from "os";
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

/** Packages `__index.js` requires as it loads: Pulumi's module-level `const x = require("...")`, run before `handler` exists. */
export function loadTimePackages(indexJs: string): string[] {
    const names = new Set<string>();
    for (const m of indexJs.matchAll(/^(?:const|var|let) [\w$]+ = require\(\s*["']([^"'.][^"']*)["']\s*\);?$/gm)) names.add(packageNameOf(m[1]));
    return [...names].sort();
}

function notInZip(bundle: Bundle, names: readonly string[], provided: readonly string[]): string[] {
    const inZip = new Set(bundle.paths.map((p) => packageNameOf(p.replace(/\\/g, "/").split("node_modules/").pop()!)));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    return names.filter((name) => !builtins.has(name) && !name.startsWith("node:") && !provided.includes(name) && !inZip.has(name));
}

/**
 * Packages `__index.js` requires as it loads that the zip would not have
 * (`provided`: what the runtime is relied on for, RuntimeProvidedPackages):
 * such a function fails its cold start.
 */
export function missingPackages(bundle: Bundle, provided: readonly string[] = []): string[] {
    return notInZip(bundle, loadTimePackages(bundle.indexJs), provided);
}

/**
 * Packages `__index.js` requires only inside a function (the AWS clients of
 * handlers/shared/clients.ts, created on first use) that the zip lacks: fine
 * exactly when this function never calls that code. `isolateBundle` runs are
 * what show the calls it makes find their packages.
 */
export function lazilyRequiredNotInZip(bundle: Bundle, provided: readonly string[] = []): string[] {
    const eager = new Set(loadTimePackages(bundle.indexJs));
    return notInZip(bundle, requiredPackages(bundle.indexJs).filter((n) => !eager.has(n)), provided);
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

/** What one handler call in a fresh, isolated process returned, and which files it loaded. */
export interface IsolatedRun<R> {
    readonly result: R;
    /** Every module file the process loaded, relative to its task folder (`node_modules/...`, `__index.js`); runtime-provided ones start with `../node_modules/`. */
    readonly loaded: readonly string[];
}

export interface IsolatedOptions {
    /** Environment of the function (its `environment.variables`, AWS endpoint and credentials). PATH is added; nothing else is inherited. */
    readonly env: Readonly<Record<string, string>>;
    /**
     * Packages the Lambda runtime is relied on to provide (components/functions.ts `RuntimeProvidedPackages`), with their
     * dependencies: copied beside the task folder, as /var/runtime/node_modules is beside /var/task. @default []
     */
    readonly provided?: readonly string[];
    /** Repository root (where the zip's relative paths start). @default process.cwd() */
    readonly root?: string;
    /** The handler's Lambda timeout, for the context's remaining time. @default 30000 */
    readonly timeoutMs?: number;
}

/** Run in the fresh process: load `__index.js` as Lambda would, call `handler` once, write its result and the loaded files. */
const IsolatedScript = [
    "const fs = require('fs');",
    "const [file, eventFile, outFile, name, timeoutMs] = process.argv.slice(1);",
    "const deadline = Date.now() + Number(timeoutMs);",
    "const context = { functionName: name, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + name, memoryLimitInMB: '256',",
    "  awsRequestId: 'isolated-' + process.pid, logGroupName: '/aws/lambda/' + name, logStreamName: 'isolated', callbackWaitsForEmptyEventLoop: false,",
    "  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done() {}, fail() {}, succeed() {} };",
    "(async () => {",
    "  const mod = require(file);",
    "  if (typeof mod.handler !== 'function') throw new Error('__index.js does not export a handler function');",
    "  const result = await mod.handler(JSON.parse(fs.readFileSync(eventFile, 'utf8')), context);",
    "  fs.writeFileSync(outFile, JSON.stringify({ result: result === undefined ? null : result, loaded: Object.keys(require.cache) }));",
    "  process.exit(0);",
    "})().catch((err) => { process.stderr.write(String((err && err.stack) || err)); process.exit(1); });",
].join("\n");

/** `name` and every package it depends on (package.json `dependencies`, resolved from `root`'s node_modules), as node_modules-relative folders. */
function packageClosure(names: readonly string[], root: string): string[] {
    const seen = new Set<string>();
    const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const manifest = JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
        for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
    };
    names.forEach(visit);
    return [...seen].sort();
}

/** Fail unless no folder above `dir` has a node_modules Node could fall back to. */
function assertNothingAbove(dir: string) {
    for (let d = path.dirname(dir); ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "node_modules"))) throw new Error(`${path.join(d, "node_modules")} exists: an isolated bundle could resolve packages from it`);
        if (path.dirname(d) === d) return;
    }
}

/** Copy `src` to `dst` as hard links (same file system: fast, and a file's real path stays under `dst`), else as copies. */
function linkTree(src: string, dst: string) {
    const stat = fs.statSync(src);
    if (stat.isDirectory()) {
        fs.mkdirSync(dst, { recursive: true });
        for (const entry of fs.readdirSync(src)) linkTree(path.join(src, entry), path.join(dst, entry));
        return;
    }
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    try {
        fs.linkSync(src, dst);
    } catch {
        fs.copyFileSync(src, dst);
    }
}

/** A bundle laid out as Lambda unpacks it, alone; call its handler in fresh processes. */
export interface IsolatedBundle {
    /** One handler call in a new Node process (a cold start each time). */
    run<R = unknown>(event: unknown): IsolatedRun<R>;
    /** Remove the folder. */
    dispose(): void;
}

/**
 * Lay a bundle out the way Lambda runs its zip, where nothing else can be
 * resolved: `<tmp>/task/` holds `__index.js` and exactly the zip's paths (as
 * /var/task does), `<tmp>/node_modules/` the `provided` packages with their
 * dependencies (as /var/runtime/node_modules); no folder above has a
 * node_modules, and each call runs with NODE_PATH unset and HOME inside
 * `<tmp>` (Node's global folders). A module the code needs that is not there
 * fails the call with "Cannot find module", as it would on AWS, whether it is
 * required at load time or lazily inside the call. Every file a call loaded
 * must lie in those two folders.
 */
export function isolateBundle(bundle: Bundle, options: IsolatedOptions): IsolatedBundle {
    const root = options.root ?? process.cwd();
    const base = fs.mkdtempSync(path.join(os.tmpdir(), `zip-${bundle.name.slice(0, 40)}-`));
    assertNothingAbove(base);
    const task = path.join(base, "task");
    fs.mkdirSync(task);
    fs.writeFileSync(path.join(task, "__index.js"), bundle.indexJs);
    for (const p of bundle.paths) linkTree(path.resolve(root, p), path.join(task, p));
    for (const name of packageClosure(options.provided ?? [], root)) linkTree(path.join(root, "node_modules", name), path.join(base, "node_modules", name));
    let calls = 0;
    return {
        run<R>(event: unknown): IsolatedRun<R> {
            calls += 1;
            const eventFile = path.join(base, `event-${calls}.json`);
            const outFile = path.join(base, `result-${calls}.json`);
            fs.writeFileSync(eventFile, JSON.stringify(event));
            const env = { ...options.env, PATH: process.env.PATH ?? "", HOME: base };
            try {
                execFileSync(process.execPath, ["-e", IsolatedScript, path.join(task, "__index.js"), eventFile, outFile, bundle.name, String(options.timeoutMs ?? 30_000)], {
                    cwd: task,
                    env,
                    encoding: "utf8",
                    stdio: ["ignore", "ignore", "pipe"],
                    timeout: 120_000,
                });
            } catch (err) {
                const stderr = (err as { stderr?: string }).stderr ?? "";
                throw new Error(`${bundle.name}: the handler failed in an isolated process: ${stderr.trim().split("\n").slice(0, 6).join(" | ") || (err as Error).message}`);
            }
            const out = JSON.parse(fs.readFileSync(outFile, "utf8")) as { result: R; loaded: string[] };
            const loaded = out.loaded.map((f) => path.relative(task, f));
            const outside = loaded.filter((f) => f.startsWith("..") && !f.startsWith(`..${path.sep}node_modules${path.sep}`));
            if (outside.length) throw new Error(`${bundle.name}: loaded files outside its zip and the runtime's packages: ${outside.slice(0, 5).join(", ")}`);
            return { result: out.result, loaded };
        },
        dispose() {
            fs.rmSync(base, { recursive: true, force: true });
        },
    };
}
