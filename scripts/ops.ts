/**
 * `npm run ops -- <command>`: operating the pipeline, locally or on AWS.
 *
 *   replay   [--provider <name>] --from <time> [--to <time>] [--dry-run] [--force] [--json]
 *   redrive  --provider <name> [--lane <lane>] [--json]
 *   redrive  --catch-all [--json]       requests the router failed (their DLQ), back to the router
 *   status   [--provider <name>] [--peek] [--json]
 *   trace    --provider <name> (--event-id <id> | --request-id <id>) [--around <time>] [--peek] [--json]
 *   dlq      --provider <name> [--lane <lane>] [--show <message or event id>] [--json]
 *   pause    --provider <name> [--lane <lane>] [--json]      the lanes' workers stop taking messages (held in the queue)
 *   resume   --provider <name> [--lane <lane>] [--json]
 *   diagram  [--stack dev|path] [--out file.svg|file.mmd] [--title text]
 *
 * Against the running `npm start` by default (its state file, .cache/local/state.json);
 * with `--aws --outputs outputs.json` against a deployed stack
 * (`pulumi stack output --json > outputs.json`; credentials and region from the usual AWS settings).
 * Times are ISO 8601 (`2026-11-23T14:00:00Z`), `now`, relative (`-30s`, `-15m`, `-2h`, `-1d`) or epoch
 * milliseconds; `--to` defaults to now. Without `--provider`, replay covers every provider (its plan says so).
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { helpRequested } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "./node-support";
import { toMermaid, toSvg } from "../local/diagram";
import { progressBar } from "../local/ops/progress";
import { redrive } from "../local/ops/redrive";
import { replay, ReplaySummary } from "../local/ops/replay";
import { formatQueueStatus, queueStatus } from "../local/ops/status";
import { formatTrace, traceEvent } from "../local/ops/trace";
import { formatDlqListings, formatDlqMessage, listDlq, showDlqMessage } from "../local/ops/dlq";
import { formatPauseResult, pauseLanes, resumeLanes } from "../local/ops/pause";
import { catchAllLane, lanesOf, OpsTarget, readStackOutputs, targetFromLocalState, targetFromOutputs } from "../local/ops/target";
import { loadStackModel } from "../local/stack";
import { readLocalState } from "../local/state";

/** Each command's usage, for `ops <command> --help` and its usage errors. */
const CommandUsage = {
    replay: `Usage: npm run ops -- replay [--provider <name>] --from <time> [--to <time>] [--dry-run] [--force] [--json]
  Re-injects archived requests received in [from, to] into the catch-all queue, byte for byte; the router
  verifies them again and the worker's idempotency skips events processed before (--force runs them again).
  Without --provider every provider is replayed (the plan's first line says so); --to defaults to now.
  --dry-run lists what would be replayed and sends nothing.`,
    redrive: `Usage: npm run ops -- redrive --provider <name> [--lane <lane>] [--json]
       npm run ops -- redrive --catch-all [--json]
  Moves a provider's lane DLQs (or one lane's) back to their queues; --catch-all moves the router's DLQ
  back to the router.`,
    status: `Usage: npm run ops -- status [--provider <name>] [--peek] [--json]
  Queue and DLQ depths per lane, and which lanes are paused (since when, the oldest they hold locally);
  --peek shows the oldest DLQ messages without taking them.`,
    trace: `Usage: npm run ops -- trace --provider <name> (--event-id <id> | --request-id <id>) [--around <time>] [--peek] [--json]
  Where one event (or request) is and what happened to it: archived (key, receive time) or quarantined (reason),
  the lanes it was routed to, processed or in progress (the idempotency record), failed (the last error), in a DLQ.
  Reads the archive's hourly partitions within --around ± 1 h (default: the last 6 h), every DLQ (harmless: DLQs
  have no redrive policy) and the queues' counts; --peek also looks inside the lane and catch-all queues, which
  adds a receive to each message there (it counts toward maxReceiveCount).`,
    dlq: `Usage: npm run ops -- dlq --provider <name> [--lane <lane>] [--show <message or event id>] [--json]
  Lists a provider's lane DLQs (or one lane's) without taking the messages: event id, type, attempts, first and
  last seen, and the last error the worker recorded (or the destination's dead-letter reason). --show prints one
  message with its body (--lane is needed when the provider has several SQS lanes). Then \`redrive\` as usual.`,
    pause: `Usage: npm run ops -- pause --provider <name> [--lane <lane>] [--json]
  Stops a provider's lanes (or one lane) taking messages: requests are still acknowledged, verified, archived
  and routed, and wait in the lane queue (up to its retentionDays) or topic. On AWS it disables the workers'
  event source mappings; locally the running npm start stops polling them. Prints what the next deploy does:
  the stack's paused setting wins on \`pulumi up --refresh\` (and on a restart of npm start).`,
    resume: `Usage: npm run ops -- resume --provider <name> [--lane <lane>] [--json]
  Starts a paused provider's lanes (or one lane) taking messages again: the held messages are processed, in
  order on an ordered lane. Prints what the next deploy does.`,
    diagram: `Usage: npm run ops -- diagram [--stack dev|path/to/Pulumi.x.yaml] [--out file.svg|file.mmd] [--title text]
  The stack's pipeline as Mermaid on stdout, or written as SVG / Mermaid.`,
} as const;

const Common = `Target: the running \`npm start\` (default), or --aws --outputs <pulumi stack output --json file>.
Times: ISO 8601 (2026-11-23T14:00:00Z), now, -30s / -15m / -2h / -1d before now, or epoch milliseconds.`;

const Usage = `Usage: npm run ops -- <command> [options]     (npm run ops -- <command> --help for one command)
${Object.values(CommandUsage)
    .map((u) => u.split("\n").filter((l) => l.startsWith("Usage:") || l.startsWith("       npm")).map((l) => `  ${l.replace(/^(Usage: | {7})npm run ops -- /, "")}`).join("\n"))
    .join("\n")}
${Common}`;

class UsageError extends Error {
    public readonly name = "UsageError";
}

/** ISO 8601, `now`, `-<n><s|m|h|d>` before now, or epoch milliseconds; returns epoch ms. */
export function parseTime(text: string | undefined, what: string, now = Date.now()): number {
    if (!text) throw new UsageError(`${what} is required`);
    if (text === "now") return now;
    const relative = /^-(\d+)([smhd])$/.exec(text);
    if (relative) return now - Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    // Epoch milliseconds (what the archive's receivedAt holds); a plain year such as 2026 is ISO, not ms.
    if (/^\d{10,}$/.test(text)) return Number(text);
    const t = Date.parse(text);
    if (!Number.isFinite(t)) throw new UsageError(`${what} "${text}" is not a time (ISO 8601 like 2026-11-23T14:00:00Z, now, -15m, or epoch milliseconds)`);
    return t;
}

/** The options of every ops command; `string` ones take a value. */
const OpsOptions = {
    provider: { type: "string" },
    lane: { type: "string" },
    "catch-all": { type: "boolean", default: false },
    from: { type: "string" },
    to: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    peek: { type: "boolean", default: false },
    "event-id": { type: "string" },
    "request-id": { type: "string" },
    around: { type: "string" },
    show: { type: "string" },
    aws: { type: "boolean", default: false },
    outputs: { type: "string" },
    stack: { type: "string", default: "dev" },
    out: { type: "string" },
    title: { type: "string" },
} as const;

/**
 * Parse an ops command's options. node's parseArgs refuses `--from -15m` ("argument is ambiguous": the value
 * looks like an option), so a value that starts with `-` and a digit is joined to its option first (`--from=-15m`).
 */
export function parseOpsArgs(args: readonly string[]) {
    const joined: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const name = /^--([a-z-]+)$/.exec(args[i])?.[1];
        const takesValue = name !== undefined && (OpsOptions as Record<string, { type: string }>)[name]?.type === "string";
        if (takesValue && i + 1 < args.length && /^-\d/.test(args[i + 1])) {
            joined.push(`${args[i]}=${args[i + 1]}`);
            i += 1;
        } else joined.push(args[i]);
    }
    try {
        return parseArgs({ args: joined, options: OpsOptions }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
}

/** The plan's first line: what will be replayed, said before anything is sent. */
export function replayPlan(provider: string | undefined, providers: readonly string[], from: number, to: number, toIsNow: boolean, dryRun: boolean): string {
    const who = provider ? `provider ${provider}` : `EVERY provider (no --provider given): ${providers.join(", ")}`;
    return `replay plan: ${who}, requests received ${new Date(from).toISOString()} .. ${new Date(to).toISOString()}${toIsNow ? " (now)" : ""}${dryRun ? " [dry run: nothing will be sent]" : ""}`;
}

function target(values: { aws?: boolean; outputs?: string }): OpsTarget {
    if (values.aws) {
        if (!values.outputs) throw new UsageError("--aws needs --outputs <file> (pulumi stack output --json > outputs.json)");
        return targetFromOutputs(readStackOutputs(values.outputs));
    }
    return targetFromLocalState(readLocalState());
}

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (helpRequested(argv)) {
        const one = (CommandUsage as Record<string, string>)[command];
        console.log(one ? `${one}\n${Common}` : Usage);
        return 0;
    }
    quietSdkNodeWarning(); // see scripts/node-support.ts
    const values = parseOpsArgs(rest);
    const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
    switch (command) {
        case "replay": {
            const t = target(values);
            const from = parseTime(values.from, "--from");
            const to = values.to === undefined ? Date.now() : parseTime(values.to, "--to");
            // Without --provider every provider is replayed; the plan's first line says so before anything is sent.
            const providers = values.provider ? [values.provider] : [...t.providers];
            const plan = replayPlan(values.provider, providers, from, to, values.to === undefined, values["dry-run"]);
            if (!values.json) console.log(plan);
            const summaries: ReplaySummary[] = [];
            for (const provider of providers) {
                summaries.push(
                    await replay(t, {
                        provider,
                        from,
                        to,
                        dryRun: values["dry-run"],
                        force: values.force,
                        progress: values["dry-run"] || values.json ? undefined : progressBar(`replay ${provider}`),
                    }),
                );
            }
            if (values.json) print(values.provider ? summaries[0] : { plan, providers, summaries });
            else {
                for (const summary of summaries) {
                    if (summary.dryRun) for (const r of summary.requests) console.log(`${r.receivedAt}  ${r.eventType ?? "?"}  ${r.eventId ?? "?"}  ${r.bytes} B  ${r.pointer}`);
                    console.log(
                        `replay ${summary.provider} ${summary.from} .. ${summary.to}: found ${summary.found}, replayed ${summary.replayed}, skipped ${summary.skipped}, failed ${summary.failed} (${summary.objects} archive objects)` +
                            (summary.dryRun ? " [dry run: nothing sent]" : ""),
                    );
                    for (const r of summary.requests.filter((q) => q.error)) console.error(`failed: ${r.pointer}: ${r.error}`);
                }
                if (summaries.some((s) => s.replayed) && !values.force) {
                    console.log("events processed before are skipped by the worker's idempotency (see duplicates in status); --force runs them again");
                }
            }
            return summaries.some((s) => s.failed) ? 1 : 0;
        }
        case "redrive": {
            if (!values.provider && !values["catch-all"]) throw new UsageError("redrive needs --provider <name> (a provider's lanes) or --catch-all (the router's DLQ)");
            if (values["catch-all"] && (values.provider || values.lane)) throw new UsageError("redrive --catch-all takes no --provider or --lane (the catch-all queue belongs to no provider)");
            const t = target(values);
            const lanes = values["catch-all"] ? [catchAllLane(t)] : lanesOf(t, values.provider!, values.lane);
            const results = await redrive(t, lanes, (lane) => (values.json ? undefined : progressBar(`redrive ${lane.id}`)));
            if (values.json) print(results);
            else {
                for (const r of results) {
                    console.log(`redrive ${r.lane} (${r.method}): ${r.found} in the DLQ, moved ${r.moved}, failed ${r.failed}`);
                    for (const e of r.errors) console.error(`  ${e}`);
                }
            }
            return results.some((r) => r.failed) ? 1 : 0;
        }
        case "status": {
            const status = await queueStatus(target(values), { peek: values.peek, provider: values.provider });
            if (values.json) print(status);
            else console.log(formatQueueStatus(status, values.peek));
            return 0;
        }
        case "trace": {
            if (!values.provider) throw new UsageError("trace needs --provider <name>");
            if (!values["event-id"] && !values["request-id"]) throw new UsageError("trace needs --event-id <provider's event id> or --request-id <edge request id>");
            const result = await traceEvent(target(values), {
                provider: values.provider,
                eventId: values["event-id"],
                requestId: values["request-id"],
                around: values.around === undefined ? undefined : parseTime(values.around, "--around"),
                peek: values.peek,
            });
            if (values.json) print(result);
            else console.log(formatTrace(result));
            return 0;
        }
        case "dlq": {
            if (!values.provider) throw new UsageError("dlq needs --provider <name>");
            const t = target(values);
            if (values.show !== undefined) {
                const lanes = lanesOf(t, values.provider, values.lane);
                if (lanes.length !== 1) throw new UsageError(`dlq --show needs --lane <lane>: provider ${values.provider} has ${lanes.length} SQS lanes (${lanes.map((l) => l.id).join(", ")})`);
                const message = await showDlqMessage(t, values.provider, lanes[0].id, values.show);
                if (values.json) print(message);
                else console.log(formatDlqMessage(message));
                return 0;
            }
            const listings = await listDlq(t, values.provider, values.lane);
            if (values.json) print(listings);
            else console.log(formatDlqListings(listings));
            return 0;
        }
        case "pause":
        case "resume": {
            if (!values.provider) throw new UsageError(`${command} needs --provider <name> (and --lane <lane> for one lane)`);
            const t = target(values);
            const result = command === "pause" ? await pauseLanes(t, values.provider, values.lane) : await resumeLanes(t, values.provider, values.lane);
            if (values.json) print(result);
            else console.log(formatPauseResult(result));
            return 0;
        }
        case "diagram": {
            const { stack, model } = loadStackModel(values.stack);
            const title = values.title ?? `webhook pipeline: stack ${stack}`;
            if (!values.out) {
                process.stdout.write(toMermaid(model, title));
                return 0;
            }
            const ext = path.extname(values.out).toLowerCase();
            if (ext !== ".svg" && ext !== ".mmd") throw new UsageError(`--out must end in .svg or .mmd, not "${values.out}"`);
            fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
            fs.writeFileSync(values.out, ext === ".svg" ? toSvg(model, title) : toMermaid(model, title));
            console.log(`wrote ${values.out} (${model.providers.length} providers, ${model.lanes.length} lanes)`);
            return 0;
        }
        default:
            throw new UsageError(command ? `unknown command "${command}"` : "no command given");
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`ops: ${err?.message ?? String(err)}\n`);
            if (err instanceof UsageError) process.stderr.write(`${Usage}\n`);
            process.exit(err instanceof UsageError ? 2 : 1);
        },
    );
}
