/**
 * The pipeline under drill, as a user runs it: `node dist/scripts/local.js`
 * with `--without router` (HTTP ingress, lanes, /_status) and a second
 * `local.js --only router` the drill can SIGKILL and start again. Both get the
 * drill's emulator (`--endpoint`), stack, prefix, secrets and local folder;
 * their output goes to log files. An exit the drill did not cause is a crash.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../local/stack";

export interface PipelineProcess {
    readonly name: string;
    readonly child: ChildProcess;
    readonly logFile: string;
    /** The line the process printed when it was ready. */
    readonly ready: string;
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    /** SIGKILL: no cleanup, batches in flight abandoned. */
    kill(): Promise<void>;
    /** SIGTERM and wait (SIGKILL after `graceMs`). */
    stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ProcessSpec {
    readonly name: string;
    readonly args: readonly string[];
    readonly env: NodeJS.ProcessEnv;
    readonly logFile: string;
    /** The stdout line that says the process is ready. */
    readonly readyLine: RegExp;
    readonly readyTimeoutMs?: number;
    /** Called when the process exits without the drill having asked it to. */
    readonly onCrash: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export function localScript(): string {
    return path.join(repoRoot(), "dist", "scripts", "local.js");
}

export async function startProcess(spec: ProcessSpec): Promise<PipelineProcess> {
    const log = fs.createWriteStream(spec.logFile, { flags: "a" });
    log.write(`$ node ${path.relative(repoRoot(), localScript())} ${spec.args.join(" ")}\n`);
    const child = spawn(process.execPath, [localScript(), ...spec.args], { env: spec.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => {
        stdout += c.toString("utf8");
        log.write(c);
    });
    child.stderr!.on("data", (c: Buffer) => log.write(c));
    let expected = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => {
            log.write(`\n[drill] ${spec.name} exited (code ${code}, signal ${signal})${expected ? "" : " UNEXPECTEDLY"}\n`);
            log.end();
            if (!expected) spec.onCrash(spec.name, code, signal);
            resolve({ code, signal });
        }),
    );
    const ready = await new Promise<string>((resolve, reject) => {
        const timeoutMs = spec.readyTimeoutMs ?? 60_000;
        const timer = setTimeout(() => reject(new Error(`${spec.name} not ready after ${timeoutMs} ms; see ${spec.logFile}`)), timeoutMs);
        const check = () => {
            const line = stdout.split("\n").find((l) => spec.readyLine.test(l));
            if (line) {
                clearTimeout(timer);
                child.stdout!.off("data", check);
                resolve(line);
            }
        };
        child.stdout!.on("data", check);
        void exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`${spec.name} exited (code ${code}, signal ${signal}) before it was ready; see ${spec.logFile}`));
        });
    });
    const stop = async (graceMs = 30_000) => {
        expected = true;
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
    };
    return {
        name: spec.name,
        child,
        logFile: spec.logFile,
        ready,
        exited,
        async kill() {
            expected = true;
            child.kill("SIGKILL");
            await exited;
        },
        stop,
    };
}
