/**
 * The drill's own AWS emulator: moto from the project's cache (installed once
 * by local/services/moto.ts), run by local/services/moto-launcher.py with
 * --state so that a restart keeps the state (see that file for why moto's recorder cannot), on a
 * fixed port so the pipeline's clients reach the new process at the same
 * address. Never the test runner's moto: the drill restarts this one.
 */
import { existsSync, rmSync } from "fs";
import { join } from "path";
import { cacheDir } from "../local/services/cache";
import { freePort } from "../local/services/free-port";
import { motoLauncherPath, motoPython } from "../local/services/moto";
import { ServiceProcess, spawnService, waitUntilReady } from "../local/services/process";

export interface RestartReport {
    /** From SIGTERM to the new process answering. */
    readonly downMs: number;
    /** Size of the state carried over. */
    readonly stateBytes: number;
    /** What the old process said when it saved, and the new one when it loaded. */
    readonly saved: string;
    readonly restored: string;
}

export interface DrillEmulator {
    readonly endpoint: string;
    readonly port: number;
    readonly restarts: number;
    /**
     * SIGTERM (drain, save), then a new process on the same port that loads
     * the state; `downForMs` keeps the port closed that long before the new
     * process starts (an outage longer than the SDK's default retries).
     */
    restart(options?: { downForMs?: number }): Promise<RestartReport>;
    /** Stop without keeping the state. */
    stop(): Promise<void>;
}

const readyLine = /moto-launcher: ready on/;

async function launch(python: string, port: number, stateFile: string, generation: number): Promise<ServiceProcess> {
    const service = spawnService(`moto (drill, #${generation})`, python, [motoLauncherPath(), "-p", String(port), "--state", stateFile, "--cache-counts"], {
        logFile: join(cacheDir(), "logs", `moto-drill-${port}-${generation}.log`),
        env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    await waitUntilReady(
        service,
        async () => {
            if (!readyLine.test(service.lastLines(200))) return false;
            const res = await fetch(`http://127.0.0.1:${port}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
            await res.arrayBuffer();
            return res.ok;
        },
        60_000,
        `moto on port ${port}`,
    );
    return service;
}

export async function startDrillEmulator(options: { stateFile: string }): Promise<DrillEmulator> {
    const python = await motoPython();
    if (!existsSync(motoLauncherPath())) throw new Error(`moto's launcher is missing: ${motoLauncherPath()}`);
    rmSync(options.stateFile, { force: true });
    const port = await freePort();
    let generation = 1;
    let service = await launch(python, port, options.stateFile, generation);
    let restarts = 0;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        get restarts() {
            return restarts;
        },
        async restart(restartOptions = {}) {
            const started = Date.now();
            await service.stop(60_000);
            const saved = service.lastLines(5).split("\n").find((l) => /saved \d+ bytes/.test(l));
            if (!saved) throw new Error(`moto did not save its state on SIGTERM; last output:\n${service.lastLines(20)}`);
            if (restartOptions.downForMs) await new Promise((r) => setTimeout(r, restartOptions.downForMs));
            generation += 1;
            service = await launch(python, port, options.stateFile, generation);
            restarts += 1;
            const restored = service.lastLines(20).split("\n").find((l) => /restored \d+ bytes/.test(l)) ?? "";
            return { downMs: Date.now() - started, stateBytes: Number(/saved (\d+) bytes/.exec(saved)?.[1] ?? 0), saved, restored };
        },
        async stop() {
            // SIGTERM would save the state: nobody needs it any more.
            await service.stop(60_000);
            rmSync(options.stateFile, { force: true });
        },
    };
}
