/**
 * `pause` and `resume`: stop a provider's lanes (or one lane) taking messages, and start them again, for an
 * emergency, locally or on AWS, through the target's `pauses` (target.ts). Nothing is lost while a lane is
 * paused: requests are still acknowledged, verified, archived and routed, and wait in the lane queue (SQS,
 * up to its `retentionDays`) or topic (Kafka). Past retention SQS deletes the oldest; the archive still has
 * every request (`ops replay`).
 *
 * The stack config's `paused` is what a deploy sets: each lane's result says what the next `pulumi up`
 * (locally: a restart of `npm start`) will do to the state set here. Pulumi compares the program with its
 * own record of the mapping, not with AWS: a `pulumi up` without `--refresh` does not see a change made
 * here and leaves the mapping as it is; `pulumi up --refresh` (or `pulumi refresh` first) sets it back
 * ("pulumi refresh ... compares the current stack's resource state with the state known to exist in the
 * actual cloud provider. Any such changes are adopted into the current stack": Pulumi CLI docs, pulumi refresh).
 */
import { LanePause, OpsTarget, workerLanesOf } from "./target";

export type PauseAction = "pause" | "resume";

export interface LanePauseResult {
    readonly lane: string;
    /** Paused before the call. */
    readonly wasPaused: boolean;
    /** Paused after it (AWS: the mapping's State may still be Disabling / Enabling for moments). */
    readonly paused: boolean;
    /** False when the lane already was in the state asked for (nothing was sent). */
    readonly changed: boolean;
    /** AWS: the mapping's State; local: paused or running. */
    readonly state: string;
    readonly since?: string;
    /** `paused` in the stack config; undefined when the target does not say (outputs of an older stack). */
    readonly configuredPaused?: boolean;
    /** What the next deploy (locally: a restart of `npm start`) does to this lane, in a sentence. */
    readonly nextDeploy: string;
}

export interface PauseResult {
    readonly action: PauseAction;
    readonly where: OpsTarget["where"];
    readonly provider: string;
    readonly lanes: readonly LanePauseResult[];
}

/** Pause a provider's lanes, or the one named (`billing` or `<provider>-billing`). */
export function pauseLanes(target: OpsTarget, provider: string, lane?: string): Promise<PauseResult> {
    return setLanes(target, "pause", provider, lane);
}

/** Resume a provider's lanes, or the one named. */
export function resumeLanes(target: OpsTarget, provider: string, lane?: string): Promise<PauseResult> {
    return setLanes(target, "resume", provider, lane);
}

async function setLanes(target: OpsTarget, action: PauseAction, provider: string, lane?: string): Promise<PauseResult> {
    const pauses = target.pauses;
    if (!pauses) {
        throw new Error(
            target.where === "aws"
                ? "stack outputs lack eventSourceMappings: deploy this version of the program (`pulumi up`), then write the outputs again"
                : "the local pipeline cannot pause lanes: restart `npm start` with this version",
        );
    }
    const lanes = workerLanesOf(target, provider, lane);
    if (lanes.length === 0) throw new Error(`provider ${provider} has no lanes this ${target.where === "aws" ? "stack's outputs list (eventSourceMappings)" : "local pipeline runs"}`);
    const ids = lanes.map((l) => l.id);
    const wanted = action === "pause";
    const before = await pauses.get(ids);
    const missing = ids.filter((id) => !before[id]);
    if (missing.length) throw new Error(`the ${target.where === "aws" ? "stack" : "local pipeline"} does not know lane${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    const toChange = ids.filter((id) => before[id].paused !== wanted);
    const after: Record<string, LanePause> = { ...before, ...(toChange.length ? await pauses.set(toChange, wanted) : {}) };
    return {
        action,
        where: target.where,
        provider,
        lanes: lanes.map((l): LanePauseResult => {
            const now = after[l.id];
            return {
                lane: l.id,
                wasPaused: before[l.id].paused,
                paused: now.paused,
                changed: toChange.includes(l.id),
                state: now.state,
                ...(now.since ? { since: now.since } : {}),
                ...(l.configuredPaused !== undefined ? { configuredPaused: l.configuredPaused } : {}),
                nextDeploy: nextDeploy(target, l.id, now.paused, l.configuredPaused),
            };
        }),
    };
}

/** What the next deploy does to a lane that is `paused` now, given its configured value. */
export function nextDeploy(target: Pick<OpsTarget, "where" | "stackFile">, lane: string, paused: boolean, configured: boolean | undefined): string {
    const file = target.stackFile ? target.stackFile.split(/[\\/]/).pop()! : "Pulumi.<stack>.yaml";
    const setting = `paused: true for lane ${lane} in ${file}`;
    if (target.where === "local") {
        if (configured === undefined) return `a restart of \`npm start\` sets it to what ${file} says`;
        if (paused) return configured ? `a restart of \`npm start\` keeps it paused (${file} sets paused: true)` : `a restart of \`npm start\` resumes it unless you set ${setting}`;
        return configured ? `a restart of \`npm start\` pauses it again unless you remove paused: true for lane ${lane} from ${file}` : `a restart of \`npm start\` keeps it running`;
    }
    const plainUp = "a `pulumi up` without --refresh does not read the mapping and leaves it as it is now";
    if (configured === undefined) return `the next \`pulumi up --refresh\` sets it to what ${file} says (${plainUp})`;
    if (paused) return configured ? `the next \`pulumi up\` keeps it paused (${file} sets paused: true)` : `the next \`pulumi up --refresh\` will resume it unless you set ${setting} (${plainUp})`;
    return configured ? `the next \`pulumi up --refresh\` will pause it again unless you remove paused: true for lane ${lane} from ${file} (${plainUp})` : "the next `pulumi up` keeps it running";
}

/** One line per lane, for people. */
export function formatPauseResult(result: PauseResult): string {
    return result.lanes
        .map((l) => {
            const what = l.changed ? (l.paused ? "paused" : "resumed") : `already ${l.paused ? "paused" : "running"}, unchanged`;
            const state = result.where === "aws" ? ` (mapping ${l.state})` : "";
            return `${result.action} ${l.lane}: ${what}${state}; ${l.nextDeploy}`;
        })
        .join("\n");
}
