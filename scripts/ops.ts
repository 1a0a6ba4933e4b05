/**
 * `npm run ops -- <command>`: operating the pipeline, locally or on AWS.
 *
 *   replay   --provider <name> --from <time> --to <time> [--dry-run] [--force] [--json]
 *   redrive  --provider <name> [--lane <lane>] [--json]
 *   redrive  --catch-all [--json]       requests the router failed (their DLQ), back to the router
 *   status   [--provider <name>] [--peek] [--json]
 *   diagram  [--stack dev|path] [--out file.svg|file.mmd] [--title text]
 *
 * Against the running `npm start` by default (its state file, .cache/local/state.json);
 * with `--aws --outputs outputs.json` against a deployed stack
 * (`pulumi stack output --json > outputs.json`; credentials and region from the usual AWS settings).
 * Times are ISO 8601 (`2026-11-23T14:00:00Z`), `now`, or relative (`-15m`, `-2h`, `-1d`).
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { toMermaid, toSvg } from "../local/diagram";
import { progressBar } from "../local/ops/progress";
import { redrive } from "../local/ops/redrive";
import { replay } from "../local/ops/replay";
import { formatQueueStatus, queueStatus } from "../local/ops/status";
import { catchAllLane, lanesOf, OpsTarget, readStackOutputs, targetFromLocalState, targetFromOutputs } from "../local/ops/target";
import { loadStackModel } from "../local/stack";
import { readLocalState } from "../local/state";

const Usage = `usage: npm run ops -- <command> [options]
  replay   --provider <name> --from <time> --to <time> [--dry-run] [--force] [--json]
  redrive  --provider <name> [--lane <lane>] [--json]
  redrive  --catch-all [--json]
  status   [--provider <name>] [--peek] [--json]
  diagram  [--stack dev|path/to/Pulumi.x.yaml] [--out file.svg|file.mmd] [--title text]
Target: the running \`npm start\` (default), or --aws --outputs <pulumi stack output --json file>.
Times: ISO 8601, now, or -15m / -2h / -1d.`;

class UsageError extends Error {
    public readonly name = "UsageError";
}

/** ISO 8601, `now`, or `-<n><s|m|h|d>` before now; epoch ms. */
export function parseTime(text: string | undefined, what: string, now = Date.now()): number {
    if (!text) throw new UsageError(`${what} is required`);
    if (text === "now") return now;
    const relative = /^-(\d+)([smhd])$/.exec(text);
    if (relative) return now - Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    const t = Date.parse(text);
    if (!Number.isFinite(t)) throw new UsageError(`${what} "${text}" is not a time (ISO 8601 like 2026-11-23T14:00:00Z, now, or -15m)`);
    return t;
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
    const parse = () => parseArgs({
        args: rest,
        options: {
            provider: { type: "string" },
            lane: { type: "string" },
            "catch-all": { type: "boolean", default: false },
            from: { type: "string" },
            to: { type: "string" },
            "dry-run": { type: "boolean", default: false },
            force: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            peek: { type: "boolean", default: false },
            aws: { type: "boolean", default: false },
            outputs: { type: "string" },
            stack: { type: "string", default: "dev" },
            out: { type: "string" },
            title: { type: "string" },
        },
    });
    let values: ReturnType<typeof parse>["values"];
    try {
        values = parse().values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
    switch (command) {
        case "replay": {
            if (!values.provider) throw new UsageError("replay needs --provider <name>");
            const from = parseTime(values.from, "--from");
            const to = parseTime(values.to, "--to");
            const summary = await replay(target(values), {
                provider: values.provider,
                from,
                to,
                dryRun: values["dry-run"],
                force: values.force,
                progress: values["dry-run"] ? undefined : progressBar(`replay ${values.provider}`),
            });
            if (values.json) print(summary);
            else {
                if (summary.dryRun) for (const r of summary.requests) console.log(`${r.receivedAt}  ${r.eventType ?? "?"}  ${r.eventId ?? "?"}  ${r.bytes} B  ${r.pointer}`);
                console.log(
                    `replay ${summary.provider} ${summary.from} .. ${summary.to}: found ${summary.found}, replayed ${summary.replayed}, skipped ${summary.skipped}, failed ${summary.failed} (${summary.objects} archive objects)` +
                        (summary.dryRun ? " [dry run: nothing sent]" : "") +
                        (summary.replayed && !summary.force ? "\nevents processed before are skipped by the worker's idempotency (see duplicates in status); --force runs them again" : ""),
                );
                for (const r of summary.requests.filter((q) => q.error)) console.error(`failed: ${r.pointer}: ${r.error}`);
            }
            return summary.failed ? 1 : 0;
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
