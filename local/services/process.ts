/**
 * Child processes for local services: own process group (so stop kills the
 * service and anything it started), output kept in a log file and the last
 * lines in memory (for error messages), and killed when this process exits,
 * is interrupted, or (on Linux, through setpriv) dies outright.
 */
import { ChildProcess, spawn } from "child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "fs";
import { constants } from "os";
import { dirname, join } from "path";

export interface ServiceProcess {
    readonly name: string;
    readonly pid: number;
    readonly logFile: string;
    /** Resolves when the process has exited. */
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    hasExited(): boolean;
    /** The last `n` lines the process printed (stdout and stderr). */
    lastLines(n?: number): string;
    /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
    stop(graceMs?: number): Promise<void>;
}

const live = new Set<{ kill(): void }>();
let hooked = false;

function killAll(): void {
    for (const p of live) p.kill();
}

function hookParentExit(): void {
    if (hooked) return;
    hooked = true;
    process.on("exit", killAll);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        const onSignal = () => {
            killAll();
            // Only this handler listening: behave as the default would, exit.
            if (process.listenerCount(signal) <= 1) process.exit(128 + (constants.signals[signal] ?? 1));
        };
        process.on(signal, onSignal);
    }
}

const windows = process.platform === "win32";
const setpriv = process.platform === "linux" && existsSync("/usr/bin/setpriv") ? "/usr/bin/setpriv" : undefined;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
        if (windows) child.kill(signal);
        else process.kill(-child.pid, signal);
    } catch {
        // already gone
    }
}

/** Keep the `keep` newest files of a log folder. */
function pruneLogs(dir: string, keep: number): void {
    try {
        const files = readdirSync(dir)
            .filter((f) => f.endsWith(".log"))
            .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
            .sort((a, b) => b.t - a.t);
        for (const { f } of files.slice(keep)) rmSync(join(dir, f), { force: true });
    } catch {
        // best effort
    }
}

export function spawnService(
    name: string,
    command: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string },
): ServiceProcess {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    pruneLogs(dirname(opts.logFile), 30);
    writeFileSync(opts.logFile, `$ ${command} ${args.join(" ")}\n`);
    // With setpriv, the kernel kills the service if this process dies without running its exit handlers (SIGKILL, OOM).
    const [cmd, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", command, ...args]] : [command, args];
    const child = spawn(cmd, argv, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: !windows,
    });

    const lines: string[] = [];
    let partial = "";
    const onData = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        try {
            appendFileSync(opts.logFile, text);
        } catch {
            // the log is a convenience; never fail the service for it
        }
        const parts = (partial + text).split(/\r?\n/);
        partial = parts.pop() ?? "";
        lines.push(...parts);
        if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);

    let done = false;
    let spawnError: Error | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once("error", (err) => {
            spawnError = err;
            lines.push(`failed to start ${command}: ${err.message}`);
            done = true;
            resolve({ code: null, signal: null });
        });
        child.once("exit", (code, signal) => {
            done = true;
            resolve({ code, signal });
        });
    });

    const entry = { kill: () => signalGroup(child, "SIGKILL") };
    live.add(entry);
    hookParentExit();
    void exited.then(() => {
        // The group may still hold children of the service; make sure they go too.
        signalGroup(child, "SIGKILL");
        live.delete(entry);
    });

    // A service must not keep this process alive by itself.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();

    return {
        name,
        get pid() {
            if (child.pid === undefined) throw spawnError ?? new Error(`${name}: no pid`);
            return child.pid;
        },
        logFile: opts.logFile,
        exited,
        hasExited: () => done,
        lastLines: (n = 20) => [...lines, ...(partial ? [partial] : [])].slice(-n).join("\n"),
        async stop(graceMs = 5_000) {
            if (done) return;
            signalGroup(child, "SIGTERM");
            // Referenced timers: they keep this process alive until the service is gone.
            let timer: NodeJS.Timeout | undefined;
            const expired = (ms: number) => new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
            try {
                if ((await Promise.race([exited, expired(graceMs)])) === "timeout") {
                    signalGroup(child, "SIGKILL");
                    clearTimeout(timer);
                    await Promise.race([exited, expired(5_000)]);
                }
            } finally {
                clearTimeout(timer);
            }
        },
    };
}

/** Poll `probe` until it resolves true; fail early if the process exits, or after `timeoutMs`. */
export async function waitUntilReady(service: ServiceProcess, probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const started = Date.now();
    let lastError = "";
    for (;;) {
        if (service.hasExited()) {
            const { code, signal } = await service.exited;
            throw new Error(
                `${service.name} exited before it was ready (code ${code}, signal ${signal}) while waiting for ${what}.\n` +
                    `Last output (full log: ${service.logFile}):\n${service.lastLines()}`,
            );
        }
        try {
            // Ready only while our own process still runs (not some other server on the port).
            if ((await probe()) && !service.hasExited()) return;
        } catch (err) {
            lastError = (err as Error).message;
        }
        if (Date.now() - started > timeoutMs) {
            await service.stop(1_000);
            throw new Error(
                `${service.name} was not ready after ${Math.round(timeoutMs / 1000)} s (waiting for ${what}${lastError ? `; last error: ${lastError}` : ""}).\n` +
                    `Last output (full log: ${service.logFile}):\n${service.lastLines()}`,
            );
        }
        await new Promise((r) => setTimeout(r, 200));
    }
}

/** Run a command to completion, output captured; reject with its last lines on failure. */
export function runCommand(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string }): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
        child.once("error", (err) =>
            reject(new Error(`${opts.what}: could not run ${command} (${err.message})${(err as NodeJS.ErrnoException).code === "ENOENT" ? `; is ${command} installed and on PATH?` : ""}`)),
        );
        child.once("close", (code, signal) => {
            if (code === 0) resolve(out);
            else {
                const tail = out.trimEnd().split(/\r?\n/).slice(-30).join("\n");
                reject(new Error(`${opts.what} failed: ${command} ${args.join(" ")} exited with ${code ?? signal}\n${tail}`));
            }
        });
    });
}
