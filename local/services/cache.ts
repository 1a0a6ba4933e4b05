/**
 * Where the local services are installed (a Python venv with moto, Kafka's
 * jars) and where their run directories live: env WEBHOOK_PIPELINE_CACHE, or
 * `<repo>/.cache` (git-ignored). Also a cross-process lock so that two
 * processes installing at once do not corrupt an install.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { hostname } from "os";
import { dirname, join, resolve } from "path";

/** The repository root: the nearest folder above this file that holds package.json. */
export function repoRoot(): string {
    let dir = __dirname;
    for (;;) {
        if (existsSync(join(dir, "package.json"))) return dir;
        const parent = dirname(dir);
        if (parent === dir) throw new Error(`repoRoot: no package.json above ${__dirname}`);
        dir = parent;
    }
}

/** The cache folder (created if missing). */
export function cacheDir(): string {
    const dir = resolve(process.env.WEBHOOK_PIPELINE_CACHE || join(repoRoot(), ".cache"));
    mkdirSync(dir, { recursive: true });
    return dir;
}

/** One line of progress for a person watching; stderr, so stdout stays clean. */
export function progress(message: string): void {
    process.stderr.write(`[services] ${message}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while a process with this id exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Run `fn` while holding the lock `<lockPath>` (a directory: mkdir is atomic).
 * A lock left behind by a dead process on this host, or older than `staleMs`,
 * is broken. Waits at most `timeoutMs` for another holder.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: { timeoutMs?: number; staleMs?: number } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
    const staleMs = opts.staleMs ?? 30 * 60_000;
    const owner = join(lockPath, "owner.json");
    const started = Date.now();
    let told = false;
    for (;;) {
        try {
            mkdirSync(lockPath);
            writeFileSync(owner, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
            break;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        let stale = false;
        try {
            const info = JSON.parse(readFileSync(owner, "utf8")) as { pid: number; host: string };
            if (info.host === hostname() && !processAlive(info.pid)) stale = true;
        } catch {
            // owner.json not written yet (or unreadable): judge by the lock's age only
        }
        try {
            if (Date.now() - statSync(lockPath).mtimeMs > staleMs) stale = true;
        } catch {
            continue; // lock vanished in between: try again at once
        }
        if (stale) {
            rmSync(lockPath, { recursive: true, force: true });
            continue;
        }
        if (Date.now() - started > timeoutMs) {
            throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${lockPath}; if no other install is running, delete it`);
        }
        if (!told) {
            progress(`waiting for another process to finish (lock ${lockPath})`);
            told = true;
        }
        await sleep(500);
    }
    try {
        return await fn();
    } finally {
        rmSync(lockPath, { recursive: true, force: true });
    }
}
