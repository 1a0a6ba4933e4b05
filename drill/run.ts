/**
 * `npm run drill -- [--count 10000]`: the reliability drill (issue 6).
 *
 *   node dist/drill/run.js [--count N] [--concurrency N] [--fail-rate P] [--seed N] [--fuzz N] [--out FILE] [--keep]
 *
 * 1. Starts its own emulator (drill/emulator.ts), the local pipeline without
 *    its router (`local.js --without router`) and the router in a process of
 *    its own (`local.js --only router`), on drill/Pulumi.drill.yaml, with
 *    handlers failing at random (WEBHOOK_FAIL_RATE, default 0.05, seeded) and
 *    every handler call journaled (WEBHOOK_HANDLER_JOURNAL).
 * 2. Sends N signed webhooks round-robin over the providers (unique event
 *    ids), as providers do: a 503 or a broken connection is retried. After a
 *    third, the router is SIGKILLed; after two thirds it is started again,
 *    and once it polls the emulator is restarted (SIGTERM, state saved and
 *    loaded by a new process) while the last third is being sent.
 * 3. Waits until every queue is empty, then sends the bad-input corpus
 *    (drill/corpus.ts) and one fresh webhook per provider, and waits again.
 * 4. Reconciles from the durable records, not the counters: the handler
 *    journal, the archive in S3 and every DLQ. Every acknowledged webhook must
 *    have been processed exactly once or sit in a DLQ; the archive must hold
 *    every acknowledged request.
 * 5. Fuzzes config validation (drill/config-fuzz.ts).
 *
 * Prints the figures and writes them to drill/results.json (or --out). Exits 1
 * when anything was lost, processed twice, crashed, missing from the archive,
 * or when a corpus case or the fuzz did not hold.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { FailRateEnv } from "../local/failure-switch";
import { HandlerJournalEnv, JournalLine, readJournal } from "../local/handler-journal";
import { localClients } from "../local/resources";
import { loadStackModel, repoRoot, secretEnvName } from "../local/stack";
import { readLocalState } from "../local/state";
import type { PipelineStatus } from "../local/status";
import type { ProviderModel } from "../model/pipeline";
import { PluginName } from "../providers/types";
import { fuzzConfig, FuzzResult } from "./config-fuzz";
import { corpus, CorpusContext, CorpusRequest, describeExpected, Expected } from "./corpus";
import { DrillEmulator, startDrillEmulator } from "./emulator";
import { completionsOf, eventKey, Evidence, gatherEvidence } from "./evidence";
import type { Answer } from "./http";
import { PipelineProcess, startProcess } from "./processes";
import { DrillWebhook, drillWebhooks, sendAll, SendResult, webhookFactory } from "./traffic";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "../scripts/node-support";

export const DrillDefaults = {
    count: 10_000,
    concurrency: 24,
    failRate: 0.05,
    seed: 1,
    fuzz: 5_000,
} as const;

export const stackFile = () => path.join(repoRoot(), "drill", "Pulumi.drill.yaml");
export const resultsFile = () => path.join(repoRoot(), "drill", "results.json");

export interface CorpusVerdict {
    readonly id: string;
    readonly input: string;
    readonly expected: string;
    readonly actual: string;
    readonly ok: boolean;
    readonly requestId?: string;
}

/** The numbers the issue names, and more. */
export interface DrillFigures {
    accepted: number;
    processed: number;
    dlq: number;
    lost: number;
    processed_twice: number;
    bad_inputs_tried: number;
    crashes: number;
    [figure: string]: number;
}

export interface DrillResults {
    readonly figures: DrillFigures;
    readonly ok: boolean;
    readonly problems: readonly string[];
    readonly settings: Record<string, unknown>;
    readonly providers: Record<string, { accepted: number; processed: number; dlq: number; lost: number }>;
    readonly events: readonly { readonly at_s: number; readonly what: string }[];
    /** Examples behind the figures that are not 0 but are not failures either. */
    readonly notes: Record<string, readonly string[]>;
    readonly corpus: readonly CorpusVerdict[];
    readonly fuzz: Omit<FuzzResult, "kinds">;
    /** The run's logs and handler journal; removed when the run passed (unless --keep). */
    readonly logs: string | null;
}

const Usage = `Usage: npm run drill [-- --count 10000] [options]
  The reliability drill: its own emulator, the local pipeline and a router process of its own, N signed
  webhooks with handlers failing at random, the router killed and restarted, the emulator restarted;
  then it reconciles every acknowledged webhook (processed once or in a DLQ) and fuzzes config validation.
  --count N          webhooks to send (at least 30)
  --concurrency N    senders at once
  --fail-rate P      probability a handler call fails (0 <= P < 1)
  --seed N           seed for failures and the fuzz
  --fuzz N           config fuzz cases (at least 20)
  --out FILE         results (default drill/results.json)
  --keep             keep the run's logs and journal even when it passed
See docs/drill.md for what it checks and the last results.`;

function options() {
    exitOnHelp(process.argv.slice(2), Usage);
    quietSdkNodeWarning();
    const { values } = parseArgs({
        options: {
            count: { type: "string" },
            concurrency: { type: "string" },
            "fail-rate": { type: "string" },
            seed: { type: "string" },
            fuzz: { type: "string" },
            out: { type: "string" },
            keep: { type: "boolean", default: false },
        },
    });
    const num = (v: string | undefined, fallback: number, what: string, check: (n: number) => boolean) => {
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!check(n)) throw new Error(`${what}: "${v}" is out of range`);
        return n;
    };
    const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
    return {
        count: num(values.count, DrillDefaults.count, "--count", whole(30)),
        concurrency: num(values.concurrency, DrillDefaults.concurrency, "--concurrency", whole(1)),
        failRate: num(values["fail-rate"], DrillDefaults.failRate, "--fail-rate", (n) => n >= 0 && n < 1),
        seed: num(values.seed, DrillDefaults.seed, "--seed", Number.isInteger),
        fuzz: num(values.fuzz, DrillDefaults.fuzz, "--fuzz", whole(20)),
        out: path.resolve(values.out ?? resultsFile()),
        keep: values.keep === true,
    };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[drill] ${line}\n`);

async function status(url: string): Promise<PipelineStatus> {
    const res = await fetch(`${url}/_status`, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`GET /_status: HTTP ${res.status}`);
    return (await res.json()) as PipelineStatus;
}

/** Nothing waiting, delayed or in flight on the catch-all queue or any lane queue. */
function drained(s: PipelineStatus): boolean {
    const depths = [s.router.queue, ...Object.values(s.providers).flatMap((p) => Object.values(p.lanes).flatMap((l) => (l.queue ? [l.queue] : [])))];
    return depths.every((d) => d.visible === 0 && d.inFlight === 0 && d.delayed === 0);
}

function backlog(s: PipelineStatus): string {
    const lanes = Object.values(s.providers).flatMap((p) => Object.values(p.lanes).flatMap((l) => (l.queue ? [l.queue] : [])));
    const sum = (k: "visible" | "inFlight") => lanes.reduce((n, d) => n + d[k], 0);
    return `catch-all ${s.router.queue.visible}+${s.router.queue.inFlight} in flight, lanes ${sum("visible")}+${sum("inFlight")} in flight`;
}

/** Poll /_status until every queue is empty twice in a row (or the time is up; the reconciliation then shows what is missing). */
async function settle(url: string, timeoutMs: number, what: string): Promise<{ settled: boolean; status: PipelineStatus }> {
    const started = Date.now();
    let lastSaid = 0;
    let streak = 0;
    for (;;) {
        let s: PipelineStatus;
        try {
            s = await status(url);
        } catch (err) {
            if (Date.now() - started > timeoutMs) throw err;
            await sleep(1_000);
            continue;
        }
        streak = drained(s) ? streak + 1 : 0;
        if (streak >= 2) return { settled: true, status: s };
        if (Date.now() - started > timeoutMs) {
            say(`${what}: not drained after ${Math.round(timeoutMs / 1000)} s (${backlog(s)}); reconciling anyway`);
            return { settled: false, status: s };
        }
        if (Date.now() - lastSaid > 10_000) {
            say(`${what}: waiting for the queues to drain (${backlog(s)})`);
            lastSaid = Date.now();
        }
        await sleep(1_000);
    }
}

/** Wait until the lanes have messages in flight (workers busy); resolves to how many (0 after `timeoutMs`). */
async function lanesBusy(url: string, timeoutMs: number, atLeast = 5): Promise<number> {
    const started = Date.now();
    for (;;) {
        const s = await status(url);
        const inFlight = Object.values(s.providers).reduce((n, p) => n + Object.values(p.lanes).reduce((m, l) => m + (l.queue?.inFlight ?? 0), 0), 0);
        if (inFlight >= atLeast || Date.now() - started > timeoutMs) return inFlight;
        await sleep(100);
    }
}

/** Secrets the drill signs with and passes to the pipeline. */
function drillSecrets(providers: readonly ProviderModel[]): Record<string, string> {
    return Object.fromEntries(providers.map((p) => [p.name, p.plugin === PluginName.StandardWebhooks ? `whsec_${randomBytes(24).toString("base64")}` : `drill_${randomBytes(16).toString("hex")}`]));
}

/** A promise per milestone of the sender's progress. */
function milestones(marks: number[]) {
    const waiting = marks.map((mark) => {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        return { mark, promise, resolve };
    });
    return {
        reached: (mark: number) => waiting.find((w) => w.mark === mark)!.promise,
        done(n: number) {
            for (const w of waiting) if (n >= w.mark) w.resolve();
        },
        finish() {
            for (const w of waiting) w.resolve();
        },
    };
}

/** A gate the sender waits at before a webhook index. */
function gate(at: number) {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { at, opened, open };
}

interface CorpusSent {
    readonly id: string;
    readonly input: string;
    readonly expect: Expected;
    readonly request: CorpusRequest;
    readonly answer: Answer;
    readonly requestId?: string;
}

function judgeCorpus(sent: readonly CorpusSent[], evidence: Evidence): CorpusVerdict[] {
    const dlqKeys = new Set(evidence.dlq.map((d) => d.key));
    const dlqRequests = new Set(evidence.dlq.flatMap((d) => (d.requestId ? [d.requestId] : [])));
    const journalByRequest = new Map<string, JournalLine[]>();
    for (const line of evidence.journal) {
        const list = journalByRequest.get(line.requestId) ?? [];
        list.push(line);
        journalByRequest.set(line.requestId, list);
    }
    return sent.map((c) => {
        const { expect, answer, request } = c;
        const base = { id: c.id, input: c.input, expected: describeExpected(expect), requestId: c.requestId };
        const verdict = (actual: string, ok: boolean): CorpusVerdict => ({ ...base, actual, ok });
        if (answer.status !== expect.status) return verdict(`${answer.status}${answer.text ? `: ${answer.text.slice(0, 120)}` : ""}`, false);
        if (expect.outcome === "refused") return verdict(`${answer.status}, not enqueued`, true);
        if (expect.outcome === "handshake") return verdict(`${answer.status}, ${JSON.stringify(answer.text.slice(0, 40))}`, answer.text === expect.body && !c.requestId);
        if (!c.requestId) return verdict(`${answer.status} without a request id`, false);
        const archived = evidence.archive.get(c.requestId) ?? [];
        const quarantined = archived.find((a) => a.kind === "quarantine");
        const raw = archived.find((a) => a.kind === "raw");
        if (expect.outcome === "quarantined") {
            if (!quarantined) return verdict(raw ? `archived under raw/ (accepted), not quarantined` : "not in the archive", false);
            const calls = (journalByRequest.get(c.requestId) ?? []).length;
            return verdict(`${answer.status}, quarantined: ${quarantined.reason}${calls ? `, and the handler was called ${calls} time(s)` : ""}`, quarantined.reason === expect.reason && calls === 0 && !raw);
        }
        if (quarantined) return verdict(`${answer.status}, quarantined: ${quarantined.reason}`, false);
        if (!raw) return verdict(`${answer.status}, not in the archive`, false);
        const key = eventKey(request.provider!, request.eventId!);
        const completions = evidence.completions.get(key) ?? [];
        const mine = completions.filter((l) => l.requestId === c.requestId);
        if (expect.outcome === "processed") {
            if (mine.length === 1 && completions.length === 1) {
                const exact = mine[0].sha256 === request.sha256;
                return verdict(`${answer.status}, processed${exact ? " (exact bytes)" : " WITH OTHER BYTES"}`, exact);
            }
            // Failing at random is the drill's doing, not the input's: a DLQ reached only through injected failures still shows the input was accepted.
            const calls = journalByRequest.get(c.requestId) ?? [];
            if (completions.length === 0 && dlqRequests.has(c.requestId) && calls.length > 0 && calls.every((l) => /InjectedFailureError/.test(l.error ?? ""))) {
                return verdict(`${answer.status}, accepted; in a DLQ after ${calls.length} injected failure(s)`, true);
            }
            return verdict(`${answer.status}, handler completed ${mine.length} time(s) for this request, ${completions.length} for the event`, false);
        }
        // duplicate
        const ok = mine.length === 0 && completions.length === 1 && !dlqKeys.has(key);
        return verdict(`${answer.status}, archived; handler completed ${mine.length} time(s) for this request, ${completions.length} for the event${dlqKeys.has(key) ? ", in a DLQ" : ""}`, ok);
    });
}

function table(rows: [string, string | number][]): string {
    const width = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
}

async function main(): Promise<number> {
    const opts = options();
    const startedAll = Date.now();
    const runId = `d${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "webhook-drill-"));
    const journal = path.join(work, "handler-journal.ndjson");
    const localDir = path.join(work, "local");
    fs.mkdirSync(localDir);
    const { model } = loadStackModel(stackFile());
    const providers = model.providers;
    const byName = Object.fromEntries(providers.map((p) => [p.name, p]));
    const secrets = drillSecrets(providers);
    const events: { at_s: number; what: string }[] = [];
    const event = (what: string) => {
        events.push({ at_s: Math.round((Date.now() - startedAll) / 100) / 10, what });
        say(what);
    };
    const crashes: string[] = [];
    const onCrash = (name: string, code: number | null, signal: NodeJS.Signals | null) => {
        crashes.push(`${name} exited by itself (code ${code}, signal ${signal})`);
        event(`CRASH: ${name} exited by itself (code ${code}, signal ${signal})`);
    };
    say(`run ${runId}: ${opts.count} webhooks, ${providers.length} providers, fail rate ${opts.failRate}, logs in ${work} (removed if the run passes; --keep keeps them)`);

    let passed = false;
    let emulator: DrillEmulator | undefined;
    let main: PipelineProcess | undefined;
    let router: PipelineProcess | undefined;
    // Interrupted: stop what the drill started (the emulator goes with this process anyway).
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            say(`${signal}: stopping the pipeline`);
            router?.child.kill("SIGKILL");
            main?.child.kill("SIGKILL");
            process.exit(130);
        });
    }
    try {
        emulator = await startDrillEmulator({ stateFile: path.join(work, "moto-state.pickle") });
        event(`emulator up at ${emulator.endpoint}`);
        // Not the test runner's emulator or broker: this drill's own.
        const { AWS_ENDPOINT_URL: _e, KAFKA_BROKERS: _k, ...inherited } = process.env;
        const env: NodeJS.ProcessEnv = {
            ...inherited,
            NODE_NO_WARNINGS: "1",
            POWERTOOLS_LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? "ERROR",
            WEBHOOK_PIPELINE_LOCAL_DIR: localDir,
            [FailRateEnv.Rate]: String(opts.failRate),
            [FailRateEnv.Seed]: String(opts.seed),
            [HandlerJournalEnv]: journal,
            ...Object.fromEntries(providers.map((p) => [secretEnvName(p.name), secrets[p.name]])),
        };
        const common = ["--stack", stackFile(), "--prefix", runId, "--endpoint", emulator.endpoint, "--visibility-timeout", "1"];
        main = await startProcess({ name: "pipeline", args: [...common, "--port", "0", "--without", "router"], env, logFile: path.join(work, "pipeline.log"), readyLine: /webhook pipeline ready at /, onCrash });
        const url = /ready at (http:\/\/\S+)/.exec(main.ready)![1];
        const startRouter = (n: number) =>
            startProcess({ name: `router #${n}`, args: [...common, "--only", "router", "--report-to", url], env, logFile: path.join(work, `router-${n}.log`), readyLine: /webhook router ready/, onCrash });
        router = await startRouter(1);
        event(`pipeline up at ${url}; router in its own process (pid ${router.child.pid})`);

        // The load.
        const factory = webhookFactory(url, providers, secrets, runId);
        const webhooks = drillWebhooks(factory, providers, opts.count);
        const third = Math.floor(opts.count / 3);
        const progress = milestones([third, 2 * third, opts.count]);
        const lastThird = gate(2 * third);
        let lastSaid = 0;
        const sendStarted = Date.now();
        const sending = sendAll(webhooks, {
            concurrency: opts.concurrency,
            gate: (i) => (i >= lastThird.at ? lastThird.opened : undefined),
            onDone: (n) => {
                progress.done(n);
                if (Date.now() - lastSaid > 10_000) {
                    say(`sent ${n}/${opts.count}`);
                    lastSaid = Date.now();
                }
            },
        }).finally(() => progress.finish());

        // Chaos: the router dies mid-run, comes back; the emulator restarts while the last third arrives.
        await progress.reached(third);
        const before = await status(url);
        await router.kill();
        event(`router SIGKILLed after ${third} webhooks acknowledged (catch-all: ${before.router.queue.visible} waiting, ${before.router.queue.inFlight} in flight)`);
        await progress.reached(2 * third);
        router = await startRouter(2);
        event(`router started again (pid ${router.child.pid}) after ${2 * third} acknowledged`);
        // The workers are busy when the emulator goes: batches in flight on the lanes.
        const busy = await lanesBusy(url, 15_000);
        const restarting = emulator.restart();
        event(`emulator restarting (SIGTERM: drain, save state) with ${busy} lane messages in flight; the last third is being sent`);
        lastThird.open();
        const restart = await restarting;
        event(`emulator back after ${restart.downMs} ms with ${restart.stateBytes} bytes of state`);
        const sent: SendResult = await sending;
        const sendSeconds = (Date.now() - sendStarted) / 1000;
        event(`load sent in ${sendSeconds.toFixed(1)} s: ${sent.deliveries.filter((d) => d.acceptedRequestIds.length).length} acknowledged, ${sent.retried503} answers 503 retried, ${sent.retriedOther} other retries, ${sent.gaveUp} given up`);

        const settleMs = 120_000 + opts.count * 40;
        const first = await settle(url, settleMs, "load");
        event(`load drained: ${first.settled}`);

        // The bad-input corpus, then one fresh webhook per provider: the pipeline keeps running.
        const completedSoFar = completionsOf(readJournal(journal));
        const processedOf = (provider: string): DrillWebhook => {
            const found = sent.deliveries.find((d) => d.webhook.provider === provider && d.acceptedRequestIds.length && (completedSoFar.get(eventKey(provider, d.webhook.eventId))?.length ?? 0) === 1);
            if (!found) throw new Error(`no processed ${provider} webhook to replay`);
            return found.webhook;
        };
        const ctx: CorpusContext = { baseUrl: url, providers: byName, secrets, factory, processed: processedOf, runId };
        const beforeCorpus = await status(url);
        const corpusSent: CorpusSent[] = [];
        for (const c of corpus) {
            const request = c.build(ctx);
            const answer = await request.send();
            let requestId: string | undefined;
            try {
                requestId = (JSON.parse(answer.text) as { requestId?: string }).requestId;
            } catch {
                requestId = undefined;
            }
            corpusSent.push({ id: c.id, input: c.input, expect: c.expect, request, answer, requestId });
        }
        const canaries = providers.map((p, i) => factory(p, opts.count + i));
        const canarySent = await sendAll(canaries, { concurrency: canaries.length });
        event(`bad-input corpus sent (${corpus.length} cases), then ${canaries.length} fresh webhooks`);
        const second = await settle(url, 120_000, "corpus");
        const afterCorpus = second.status;
        const drainedAt = Date.now();

        // Reconcile from the durable records.
        const state = readLocalState({ ...process.env, WEBHOOK_PIPELINE_LOCAL_DIR: localDir });
        const clients = localClients(emulator.endpoint);
        const evidence = await gatherEvidence(clients, state, journal, factory.plugins);
        const verdicts = judgeCorpus(corpusSent, evidence);

        const deliveries = [...sent.deliveries, ...canarySent.deliveries];
        const accepted = deliveries.filter((d) => d.acceptedRequestIds.length > 0);
        const dlqKeys = new Set(evidence.dlq.map((d) => d.key));
        const perProvider: DrillResults["providers"] = Object.fromEntries(providers.map((p) => [p.name, { accepted: 0, processed: 0, dlq: 0, lost: 0 }]));
        const lostExamples: string[] = [];
        const bothExamples: string[] = [];
        let processed = 0;
        let inDlq = 0;
        let processedAndDlq = 0;
        for (const d of accepted) {
            const key = eventKey(d.webhook.provider, d.webhook.eventId);
            const done = (evidence.completions.get(key)?.length ?? 0) > 0;
            const counts = perProvider[d.webhook.provider];
            counts.accepted += 1;
            if (done) {
                processed += 1;
                counts.processed += 1;
                if (dlqKeys.has(key)) {
                    processedAndDlq += 1;
                    const calls = evidence.journal.filter((l) => eventKey(l.provider, l.eventId) === key);
                    if (bothExamples.length < 10) bothExamples.push(`${key}: ${calls.map((l) => `${l.ok ? "completed" : l.error} (attempt ${l.attempt}, ${new Date(l.at).toISOString().slice(11, 23)})`).join("; ")}; in ${evidence.dlq.filter((x) => x.key === key).map((x) => x.queue).join(", ")}`);
                }
            } else if (dlqKeys.has(key)) {
                inDlq += 1;
                counts.dlq += 1;
            } else {
                counts.lost += 1;
                if (lostExamples.length < 10) lostExamples.push(`${key} (request ${d.acceptedRequestIds.join(", ")})`);
            }
        }
        let processedTwice = 0;
        const twiceExamples: string[] = [];
        for (const [key, lines] of evidence.completions) {
            if (lines.length > 1) {
                processedTwice += lines.length - 1;
                if (twiceExamples.length < 10) twiceExamples.push(`${key}: ${lines.map((l) => `attempt ${l.attempt} of request ${l.requestId} at ${new Date(l.at).toISOString()}`).join("; ")}`);
            }
        }
        const acceptedKeys = new Set(accepted.map((d) => eventKey(d.webhook.provider, d.webhook.eventId)));
        const drillKeys = new Set(deliveries.map((d) => eventKey(d.webhook.provider, d.webhook.eventId)));
        let archiveMissing = 0;
        let archiveMismatch = 0;
        let quarantinedValid = 0;
        let archiveDuplicates = 0;
        for (const d of accepted) {
            for (const requestId of d.acceptedRequestIds) {
                const lines = evidence.archive.get(requestId) ?? [];
                const raw = lines.filter((l) => l.kind === "raw");
                if (raw.length === 0) archiveMissing += 1;
                if (raw.length > 1) archiveDuplicates += raw.length - 1;
                if (raw.some((l) => l.eventId !== d.webhook.eventId)) archiveMismatch += 1;
                if (lines.some((l) => l.kind === "quarantine")) quarantinedValid += 1;
            }
        }
        const sum = (s: PipelineStatus, k: "duplicates" | "processed" | "received" | "failed") => Object.values(s.providers).reduce((n, p) => n + p[k], 0);
        const handlerFailures = evidence.journal.filter((l) => !l.ok).length;
        const canaryOk = canarySent.deliveries.every((d) => d.acceptedRequestIds.length && (evidence.completions.get(eventKey(d.webhook.provider, d.webhook.eventId))?.length ?? 0) >= 1);

        // The fuzz.
        const fuzzStarted = Date.now();
        const fuzz = fuzzConfig(opts.fuzz, opts.seed);
        const fuzzSeconds = (Date.now() - fuzzStarted) / 1000;

        const figures: DrillFigures = {
            accepted: accepted.length,
            processed,
            dlq: inDlq,
            lost: accepted.length - processed - inDlq,
            processed_twice: processedTwice,
            bad_inputs_tried: corpusSent.length,
            crashes: crashes.length,
            bad_inputs_failed: verdicts.filter((v) => !v.ok).length,
            config_cases: fuzz.cases,
            config_failures: fuzz.failed,
            retried_503: sent.retried503 + canarySent.retried503,
            retried_other: sent.retriedOther + canarySent.retriedOther,
            not_accepted: deliveries.length - accepted.length,
            duplicates_absorbed: sum(afterCorpus, "duplicates"),
            processed_and_dlq: processedAndDlq,
            processed_unacknowledged: [...evidence.completions.keys()].filter((k) => drillKeys.has(k) && !acceptedKeys.has(k)).length,
            handler_calls: evidence.journal.length,
            handler_failures: handlerFailures,
            archive_missing: archiveMissing,
            archive_mismatch: archiveMismatch,
            archive_duplicates: archiveDuplicates,
            quarantined_valid: quarantinedValid,
            dlq_messages: evidence.dlq.length,
            dlq_unreadable: evidence.dlqUnreadable,
            router_kills: 1,
            router_in_flight_at_kill: before.router.queue.inFlight,
            lane_in_flight_at_restart: busy,
            emulator_restarts: emulator.restarts,
            emulator_down_ms: restart.downMs,
            canary_ok: canaryOk ? 1 : 0,
            settled: first.settled && second.settled ? 1 : 0,
            http_500: Number(afterCorpus.http["500"] ?? 0),
            send_s: Math.round(sendSeconds * 10) / 10,
            duration_s: Math.round((drainedAt - sendStarted) / 100) / 10,
            fuzz_s: Math.round(fuzzSeconds * 10) / 10,
        };
        const problems: string[] = [
            ...(figures.lost ? [`${figures.lost} acknowledged webhook(s) lost, e.g. ${lostExamples.join("; ")}`] : []),
            ...(figures.processed_twice ? [`${figures.processed_twice} handler completion(s) for events already processed: ${twiceExamples.join(" | ")}`] : []),
            ...crashes,
            ...(archiveMissing ? [`${archiveMissing} acknowledged request(s) missing from the archive`] : []),
            ...(archiveMismatch ? [`${archiveMismatch} archived request(s) with another event id`] : []),
            ...(quarantinedValid ? [`${quarantinedValid} valid request(s) quarantined`] : []),
            ...(figures.not_accepted ? [`${figures.not_accepted} webhook(s) never acknowledged`] : []),
            ...verdicts.filter((v) => !v.ok).map((v) => `corpus ${v.id}: expected ${v.expected}, got ${v.actual}`),
            ...fuzz.failures.map((f) => `fuzz (${f.mutations.join(", ")}): ${f.problem}`),
            ...(canaryOk ? [] : ["the fresh webhooks after the corpus were not all processed"]),
            ...(figures.settled ? [] : ["the queues did not drain in time"]),
        ];
        const delta = (k: "received") => sum(afterCorpus, k) - sum(beforeCorpus, k);
        // What the ingress enqueued for the corpus and the fresh webhooks: exactly the cases answered 200 that are not handshakes.
        const enqueuedExpected = corpusSent.filter((c) => c.expect.status === 200 && c.expect.outcome !== "handshake").length + canaries.length;
        if (delta("received") !== enqueuedExpected) problems.push(`the ingress enqueued ${delta("received")} requests for the corpus and the fresh webhooks, expected ${enqueuedExpected}`);
        const results: DrillResults = {
            figures,
            ok: problems.length === 0,
            problems,
            settings: {
                count: opts.count,
                concurrency: opts.concurrency,
                fail_rate: opts.failRate,
                seed: opts.seed,
                fuzz: opts.fuzz,
                stack: path.relative(repoRoot(), stackFile()),
                providers: providers.map((p) => `${p.name} (${p.plugin})`),
                corpus_enqueued: delta("received"),
                corpus_enqueued_expected: enqueuedExpected,
                machine: `${os.cpus().length} cpu, node ${process.version}`,
                at: new Date(startedAll).toISOString(),
            },
            providers: perProvider,
            events,
            notes: { processed_and_dlq: bothExamples },
            corpus: verdicts,
            fuzz: { cases: fuzz.cases, invalidCases: fuzz.invalidCases, validCases: fuzz.validCases, failed: fuzz.failed, failures: fuzz.failures, problems: fuzz.problems },
            logs: problems.length === 0 && !opts.keep ? null : work,
        };
        passed = problems.length === 0;
        fs.mkdirSync(path.dirname(opts.out), { recursive: true });
        fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + "\n");

        const rows: [string, string | number][] = Object.entries(figures).map(([k, v]) => [k, v]);
        process.stdout.write(`drill ${runId}: ${opts.count} webhooks, ${providers.length} providers\n${table(rows)}\n`);
        process.stdout.write(`bad-input corpus: ${verdicts.filter((v) => v.ok).length}/${verdicts.length} as defined\n`);
        for (const v of verdicts.filter((x) => !x.ok)) process.stdout.write(`  ${v.id}: expected ${v.expected}; got ${v.actual}\n`);
        process.stdout.write(`results: ${path.relative(process.cwd(), opts.out) || opts.out}\n`);
        process.stdout.write(problems.length ? `DRILL FAILED:\n  - ${problems.join("\n  - ")}\n` : "drill passed: nothing acknowledged was lost or processed twice\n");
        return problems.length ? 1 : 0;
    } finally {
        await Promise.all([router?.stop(10_000), main?.stop(30_000)]).catch(() => undefined);
        await emulator?.stop().catch(() => undefined);
        // Logs, journal and emulator state stay when something went wrong (or with --keep).
        if (passed && !opts.keep) fs.rmSync(work, { recursive: true, force: true });
        else say(`logs kept in ${work}`);
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`npm run drill: ${err?.stack ?? String(err)}\n`);
            process.exit(2);
        },
    );
}
