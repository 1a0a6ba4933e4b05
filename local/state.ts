/**
 * The state file a running `npm start` writes (`<local dir>/state.json`, see
 * localDir) and `npm run ops` reads: where the emulator is and what the
 * pipeline's resources are called. Removed on a clean shutdown; a file left
 * by a process that died is recognised by its pid and refused.
 */
import * as fs from "fs";
import * as path from "path";
import type { LaneKind } from "../model/pipeline";
import type { LocalQueue, LocalQueuePair } from "./resources";
import { processAlive } from "./services/cache";
import { localDir } from "./stack";

export const LocalStateVersion = 2;

export interface LocalStateLane {
    readonly id: string;
    readonly provider: string;
    readonly kind: LaneKind;
    readonly ordering: boolean;
    readonly concurrency: number;
    readonly batchSize: number;
    readonly maxReceiveCount: number;
    /** SQS lanes. */
    readonly queue?: LocalQueue;
    readonly dlq?: LocalQueue;
    /** Kafka lanes. */
    readonly topic?: string;
    /** `paused` as the stack file sets it (what a restart of `npm start` starts the lane with). */
    readonly paused?: boolean;
}

export interface LocalState {
    readonly v: typeof LocalStateVersion;
    readonly pid: number;
    readonly startedAt: string;
    readonly stack: string;
    readonly stackFile: string;
    /** `http://127.0.0.1:<port>` */
    readonly url: string;
    /** The AWS emulator (moto). */
    readonly endpoint: string;
    readonly region: string;
    readonly prefix: string;
    readonly bucket: string;
    readonly table: string;
    /** The pipeline-internal key's secret in the emulator (ops replay and redrive --catch-all vouch with it). */
    readonly sealSecretId: string;
    readonly catchAll: LocalQueuePair;
    readonly providers: readonly { readonly name: string; readonly plugin: string; readonly url: string }[];
    readonly lanes: readonly LocalStateLane[];
}

export const stateFile = (env: NodeJS.ProcessEnv = process.env) => path.join(localDir(env), "state.json");

export function writeLocalState(state: LocalState, env: NodeJS.ProcessEnv = process.env): string {
    const file = stateFile(env);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(state, null, 2) + "\n");
    return file;
}

/** Remove the state file if it is this process's. */
export function removeLocalState(pid = process.pid, env: NodeJS.ProcessEnv = process.env): void {
    try {
        const state = JSON.parse(fs.readFileSync(stateFile(env), "utf8")) as LocalState;
        if (state.pid === pid) fs.rmSync(stateFile(env), { force: true });
    } catch {
        // no file, or not ours
    }
}

export class LocalNotRunningError extends Error {
    public readonly name = "LocalNotRunningError";
}

/** The running local pipeline's state; throws LocalNotRunningError with what to do when there is none. */
export function readLocalState(env: NodeJS.ProcessEnv = process.env): LocalState {
    const file = stateFile(env);
    let state: LocalState;
    try {
        state = JSON.parse(fs.readFileSync(file, "utf8")) as LocalState;
    } catch {
        throw new LocalNotRunningError(`the local pipeline is not running (no ${file}): start it with \`npm start\`, or pass --aws --outputs <file> to work on a deployed stack`);
    }
    if (state.v !== LocalStateVersion) throw new LocalNotRunningError(`${file} is from another version of the local pipeline: restart \`npm start\``);
    if (!processAlive(state.pid)) throw new LocalNotRunningError(`the local pipeline that wrote ${file} (pid ${state.pid}) is gone: start it again with \`npm start\``);
    return state;
}
