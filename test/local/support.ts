/**
 * Driving the local pipeline as a user does: `node dist/scripts/local.js`
 * (what `npm start` runs after install and build) as a child process on a
 * free port, against the moto the test runner started (AWS_ENDPOINT_URL is
 * inherited, so local.js does not start its own), with its own state folder
 * and resource prefix; `node dist/scripts/ops.js` for the operations
 * commands; real HTTP requests signed by the providers' plugins.
 */
import { ChildProcess, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot, secretEnvName } from "../../local/stack";
import type { PipelineStatus } from "../../local/status";
import { freePort } from "../../local/services/free-port";

export const fixture = (name: string) => path.join(repoRoot(), "test", "local", "fixtures", name);

export interface LocalProcess {
    readonly url: string;
    readonly dir: string;
    readonly child: ChildProcess;
    /** Everything printed so far. */
    output(): { stdout: string; stderr: string };
    /** SIGTERM, then wait for the exit (at most `boundMs`, then SIGKILL). The state folder stays (see `remove`). */
    stop(boundMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
    /** Stop if running and delete the state folder. */
    remove(): Promise<void>;
}

/** The env a child needs: the runner's (emulator endpoint, AWS settings) plus the state folder and secrets. */
function childEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
    return { ...process.env, WEBHOOK_PIPELINE_LOCAL_DIR: dir, POWERTOOLS_LOG_LEVEL: "WARN", NODE_NO_WARNINGS: "1", ...extra };
}

export async function startLocal(options: { stack: string; secrets?: Record<string, string>; env?: Record<string, string>; args?: string[]; readyTimeoutMs?: number }): Promise<LocalProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-local-"));
    const port = await freePort();
    const secretEnv = Object.fromEntries(Object.entries(options.secrets ?? {}).map(([name, secret]) => [secretEnvName(name), secret]));
    const prefix = `t${randomBytes(4).toString("hex")}`;
    const child = spawn(process.execPath, [path.join(repoRoot(), "dist", "scripts", "local.js"), "--stack", options.stack, "--port", String(port), "--prefix", prefix, ...(options.args ?? [])], {
        env: childEnv(dir, { ...secretEnv, ...options.env }),
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`local.js not ready after ${options.readyTimeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`)), options.readyTimeoutMs ?? 30_000);
        const check = () => {
            const match = /webhook pipeline ready at (http:\/\/\S+)/.exec(stdout);
            if (match) {
                clearTimeout(timer);
                resolve(match[1]);
            }
        };
        child.stdout!.on("data", check);
        void exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`local.js exited (code ${code}, signal ${signal}) before it was ready\n${stdout}\n${stderr}`));
        });
    });
    const stop = async (boundMs = 20_000) => {
        const started = Date.now();
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), boundMs);
        const result = await exited;
        clearTimeout(timer);
        return { ...result, ms: Date.now() - started };
    };
    return {
        url,
        dir,
        child,
        output: () => ({ stdout, stderr }),
        stop,
        async remove() {
            await stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Run a compiled script to completion: `node dist/scripts/<name>.js args...`. */
export function runScript(name: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot(), "dist", "scripts", `${name}.js`), ...args], { env: { ...process.env, NODE_NO_WARNINGS: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
        child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** `npm run ops -- ...` against the local process. */
export function ops(local: LocalProcess, args: string[]) {
    return runScript("ops", args, { WEBHOOK_PIPELINE_LOCAL_DIR: local.dir });
}

export async function getStatus(url: string): Promise<PipelineStatus> {
    const res = await fetch(`${url}/_status`);
    if (!res.ok) throw new Error(`GET /_status: HTTP ${res.status}`);
    return (await res.json()) as PipelineStatus;
}

/** Poll /_status until `done` holds (or fail after `timeoutMs` with the last status). */
export async function waitForStatus(url: string, done: (s: PipelineStatus) => boolean, timeoutMs = 30_000): Promise<PipelineStatus> {
    const started = Date.now();
    for (;;) {
        const status = await getStatus(url);
        if (done(status)) return status;
        if (Date.now() - started > timeoutMs) throw new Error(`status did not settle in ${timeoutMs} ms; last:\n${JSON.stringify(status.providers, (k, v) => (k === "lanes" ? undefined : v), 2)}`);
        await new Promise((r) => setTimeout(r, 150));
    }
}

/** Nothing waiting or in flight on any lane queue or the catch-all queue. */
export function queuesDrained(s: PipelineStatus): boolean {
    const depths = [s.router.queue, ...Object.values(s.providers).flatMap((p) => Object.values(p.lanes).flatMap((l) => (l.queue ? [l.queue] : [])))];
    return depths.every((d) => d.visible === 0 && d.inFlight === 0);
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
