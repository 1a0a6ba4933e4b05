/**
 * Benchmark 7, end-to-end latency in the local pipeline, driven as a user
 * drives it: `node dist/scripts/local.js --stack bench/Pulumi.bench-latency.yaml`
 * as a child process on a free loopback port, against the benchmark's
 * emulator (AWS_ENDPOINT_URL, so it starts no moto of its own), with its own
 * resource prefix, state folder and handler journal (WEBHOOK_HANDLER_JOURNAL,
 * local/handler-journal.ts: one line per handler call, with its request id
 * and the time the call ended).
 *
 * Signed webhooks (2 KB, Stripe and GitHub) are sent at a steady rate, open
 * loop: request n leaves at start + n / rate whether or not the earlier ones
 * were answered, so a slow answer cannot slow the sender down and hide
 * itself. A short warm-up (not counted) goes first: the secret reads and the
 * first connections of a fresh pipeline are a cold start, not the steady state.
 * The headline figures are taken at a rate the local pipeline keeps up with
 * on a shared 2-core machine (LatencySizes.steady); a higher rate follows
 * (LatencySizes.high), reported with whether the pipeline kept up with it
 * (p50 per second of the run: flat, or rising with a growing backlog).
 *
 * - Acknowledgement latency: from the request leaving to the 200 (the local
 *   stand-in for API Gateway answers once SendMessage to the catch-all queue
 *   succeeded).
 * - Ack-to-handler latency: from that 200 to the handler call (the journal's
 *   time, taken as the default `log` handler returns, well under a
 *   millisecond after it was called): the router's poll, verify, archive and
 *   send, the lane's poll, and the worker's idempotency PutItem.
 *
 * p50 and p99 are nearest-rank percentiles over every measured request.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HandlerJournalEnv, JournalLine, readJournal } from "../local/handler-journal";
import { loadStackModel, secretEnvName } from "../local/stack";
import { freePort } from "../local/services/free-port";
import { percentile, round } from "./stats";
import { makeRequests, SignedRequest } from "./traffic";
import { Benchmark, TableRow } from "./types";

/**
 * Warm-up requests (not counted), the steady rate the headline figures are
 * measured at, and a higher rate measured after it, full and `--quick`. The
 * steady rate is one the local pipeline keeps up with on a shared 2-core
 * machine (moto answers every AWS call of every stage on one Python
 * process); the higher rate shows what happens beyond that.
 */
export const LatencySizes = {
    full: { warmup: 40, steady: { rate: 20, seconds: 20 }, high: { rate: 50, seconds: 10 } },
    quick: { warmup: 20, steady: { rate: 20, seconds: 5 }, high: { rate: 50, seconds: 3 } },
} as const;

export const LatencyStack = path.join("bench", "Pulumi.bench-latency.yaml");

/** One request as the sender saw it. */
export interface Delivery {
    readonly id: string;
    readonly provider: string;
    /** HTTP status; 0 when the request failed without an answer. */
    readonly status: number;
    /** Request out -> answer in, ms. */
    readonly ackMs: number;
    /** Epoch ms the answer came in. */
    readonly ackAt: number;
    /** The pipeline's request id from the 200's body. */
    readonly requestId?: string;
    readonly error?: string;
}

export interface Paired {
    /** Ack-to-handler latency of each acknowledged request the journal shows handled, ms, in the order sent. */
    readonly e2e: number[];
    /** The index in `deliveries` of each `e2e` sample. */
    readonly index: number[];
    /** Acknowledged requests with no completed handler call in the journal. */
    readonly missing: string[];
    /** Acknowledged requests whose handler completed more than once. */
    readonly handledTwice: number;
}

/** Pair acknowledged requests with their completed handler calls (first completion counts). Pure. */
export function pairWithJournal(deliveries: readonly Delivery[], journal: readonly Pick<JournalLine, "requestId" | "at" | "ok">[]): Paired {
    const completions = new Map<string, number[]>();
    for (const line of journal) if (line.ok) (completions.get(line.requestId) ?? completions.set(line.requestId, []).get(line.requestId)!).push(line.at);
    const e2e: number[] = [];
    const index: number[] = [];
    const missing: string[] = [];
    let handledTwice = 0;
    for (const [i, d] of deliveries.entries()) {
        if (d.status !== 200 || !d.requestId) continue;
        const at = completions.get(d.requestId);
        if (!at) {
            missing.push(d.requestId);
            continue;
        }
        if (at.length > 1) handledTwice += 1;
        e2e.push(Math.min(...at) - d.ackAt);
        index.push(i);
    }
    return { e2e, index, missing, handledTwice };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function deliver(url: string, request: SignedRequest): Promise<Delivery> {
    const started = performance.now();
    try {
        const res = await fetch(`${url}${request.path}`, { method: "POST", headers: { "content-type": "application/json", ...request.headers }, body: request.body });
        const ackMs = performance.now() - started;
        const ackAt = Date.now();
        const text = await res.text();
        let requestId: string | undefined;
        try {
            requestId = (JSON.parse(text) as { requestId?: string }).requestId;
        } catch {
            // not JSON: only a 200 carries a request id
        }
        return { id: request.id, provider: request.provider, status: res.status, ackMs, ackAt, requestId, ...(res.status === 200 ? {} : { error: text.slice(0, 200) }) };
    } catch (err) {
        return { id: request.id, provider: request.provider, status: 0, ackMs: performance.now() - started, ackAt: Date.now(), error: (err as Error).message };
    }
}

/** Send `requests` at `rate` per second, open loop; resolves with every answer and how late the sender ever was. */
export async function sendSteady(url: string, requests: readonly SignedRequest[], rate: number): Promise<{ deliveries: Delivery[]; maxLagMs: number; seconds: number }> {
    const interval = 1000 / rate;
    const start = performance.now() + 20;
    const pending: Promise<Delivery>[] = [];
    let maxLagMs = 0;
    for (let i = 0; i < requests.length; i++) {
        const target = start + i * interval;
        const wait = target - performance.now();
        if (wait > 0) await sleep(wait);
        maxLagMs = Math.max(maxLagMs, performance.now() - target);
        pending.push(deliver(url, requests[i]));
    }
    const seconds = (performance.now() - start) / 1000;
    return { deliveries: await Promise.all(pending), maxLagMs, seconds };
}

interface LocalChild {
    readonly url: string;
    output(): string;
    stop(): Promise<void>;
}

/** `node dist/scripts/local.js` on `stackFile`; resolves once it printed its ready line. */
async function startLocalChild(root: string, args: string[], env: NodeJS.ProcessEnv, readyTimeoutMs = 60_000): Promise<LocalChild> {
    const child: ChildProcess = spawn(process.execPath, [path.join(root, "dist", "scripts", "local.js"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(timer);
    };
    try {
        const url = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`local.js was not ready within ${readyTimeoutMs / 1000} s:\n${out.slice(-2000)}`)), readyTimeoutMs);
            const check = () => {
                const match = /webhook pipeline ready at (http:\/\/\S+)/.exec(out);
                if (!match) return;
                clearTimeout(timer);
                resolve(match[1]);
            };
            child.stdout!.on("data", check);
            void exited.then(() => {
                clearTimeout(timer);
                reject(new Error(`local.js exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${out.slice(-2000)}`));
            });
        });
        return { url, output: () => out, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

/** Wait until every acknowledged request shows a completed handler call in the journal (or `timeoutMs` passed). */
async function waitForJournal(file: string, deliveries: readonly Delivery[], timeoutMs: number): Promise<JournalLine[]> {
    const started = Date.now();
    for (;;) {
        const lines = readJournal(file);
        if (pairWithJournal(deliveries, lines).missing.length === 0 || Date.now() - started > timeoutMs) return lines;
        await sleep(250);
    }
}

/**
 * p50 per second of the run (by send order), ack and ack-to-handler: a steady
 * state stays flat; a pipeline that cannot keep up with the rate shows a rising line.
 */
export function bySecond(deliveries: readonly Delivery[], paired: Paired, rate: number): { second: number; ackP50: number; e2eP50?: number }[] {
    const out: { second: number; ackP50: number; e2eP50?: number }[] = [];
    for (let start = 0; start < deliveries.length; start += rate) {
        const acks = deliveries.slice(start, start + rate).filter((d) => d.status === 200).map((d) => d.ackMs);
        const e2e = paired.e2e.filter((_, k) => paired.index[k] >= start && paired.index[k] < start + rate);
        if (!acks.length) continue;
        out.push({ second: start / rate, ackP50: round(percentile(acks, 50), 1), ...(e2e.length ? { e2eP50: round(percentile(e2e, 50), 1) } : {}) });
    }
    return out;
}

function summarize(values: readonly number[]) {
    return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99), max: Math.max(...values), min: Math.min(...values) };
}

export interface RateRun {
    readonly rate: number;
    readonly requests: number;
    /** Achieved send rate, per second. */
    readonly sentPerSecond: number;
    /** How late the sender ever was against its schedule, ms. */
    readonly maxSenderLagMs: number;
    readonly acknowledged: number;
    readonly ack: ReturnType<typeof summarize>;
    /** Over the acknowledged requests whose handler call is in the journal. */
    readonly e2e: ReturnType<typeof summarize>;
    readonly handledTwice: number;
    /** Acknowledged, not handled when the wait ended. */
    readonly notHandled: number;
    readonly bySecond: ReturnType<typeof bySecond>;
}

/** Send `requests` at `rate`, wait (at most `waitMs`) for their handler calls, and summarize. */
async function measureRate(url: string, journal: string, requests: readonly SignedRequest[], rate: number, waitMs: number): Promise<RateRun> {
    const run = await sendSteady(url, requests, rate);
    const acknowledged = run.deliveries.filter((d) => d.status === 200);
    const paired = pairWithJournal(run.deliveries, await waitForJournal(journal, run.deliveries, waitMs));
    if (!acknowledged.length || !paired.e2e.length) throw new Error(`at ${rate}/s: ${acknowledged.length} of ${requests.length} webhooks acknowledged, ${paired.e2e.length} handled`);
    return {
        rate,
        requests: requests.length,
        sentPerSecond: requests.length / run.seconds,
        maxSenderLagMs: run.maxLagMs,
        acknowledged: acknowledged.length,
        ack: summarize(acknowledged.map((d) => d.ackMs)),
        e2e: summarize(paired.e2e),
        handledTwice: paired.handledTwice,
        notHandled: paired.missing.length,
        bySecond: bySecond(run.deliveries, paired, rate),
    };
}

/** "keeps up" when the last second's ack-to-handler p50 is within 2x of the first second's (a growing backlog shows as a rising line). */
export function keepsUp(run: Pick<RateRun, "bySecond" | "notHandled">): boolean {
    const seconds = run.bySecond.filter((s) => s.e2eP50 !== undefined);
    if (run.notHandled || seconds.length < 2) return run.notHandled === 0;
    return seconds[seconds.length - 1].e2eP50! <= 2 * Math.max(seconds[0].e2eP50!, 250);
}

export const endToEndLatency: Benchmark = {
    name: "latency",
    title: "End-to-end latency in the local pipeline (steady rate)",
    async run(ctx) {
        const endpoint = await ctx.awsEndpoint();
        const size = ctx.quick ? LatencySizes.quick : LatencySizes.full;
        const stackFile = path.join(ctx.root, LatencyStack);
        const { model } = loadStackModel(stackFile);
        const secrets = Object.fromEntries(model.providers.map((p) => [p.name, [`bench_${randomBytes(16).toString("hex")}`]]));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-bench-latency-"));
        const journal = path.join(dir, "handler-journal.ndjson");
        const port = await freePort();
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            AWS_ENDPOINT_URL: endpoint,
            WEBHOOK_PIPELINE_LOCAL_DIR: dir,
            [HandlerJournalEnv]: journal,
            POWERTOOLS_LOG_LEVEL: "WARN",
            NODE_NO_WARNINGS: "1",
            ...Object.fromEntries(Object.entries(secrets).map(([name, s]) => [secretEnvName(name), s[0]])),
        };
        const prefix = `bl${randomBytes(3).toString("hex")}`;
        ctx.log(`latency: starting the local pipeline (${LatencyStack}) on port ${port}`);
        const local = await startLocalChild(ctx.root, ["--stack", stackFile, "--port", String(port), "--prefix", prefix], env);
        try {
            const steadyCount = size.steady.rate * size.steady.seconds;
            const highCount = size.high.rate * size.high.seconds;
            const { requests } = makeRequests({ model, secrets }, { count: size.warmup + steadyCount + highCount, seed: 11, runTag: `${prefix}x` });
            // Warm-up: a fresh pipeline's first requests read secrets and open connections.
            const warm = await sendSteady(local.url, requests.slice(0, size.warmup), size.steady.rate);
            await waitForJournal(journal, warm.deliveries, 60_000);
            ctx.log(`latency: ${steadyCount} signed webhooks at ${size.steady.rate}/s for ${size.steady.seconds} s`);
            const steady = await measureRate(local.url, journal, requests.slice(size.warmup, size.warmup + steadyCount), size.steady.rate, 60_000);
            if (steady.acknowledged !== steadyCount) throw new Error(`at ${size.steady.rate}/s, ${steadyCount - steady.acknowledged} of ${steadyCount} webhooks were not acknowledged`);
            if (steady.notHandled) throw new Error(`at ${size.steady.rate}/s, ${steady.notHandled} acknowledged webhooks did not reach the handler within 60 s`);
            ctx.log(`latency: ${highCount} signed webhooks at ${size.high.rate}/s for ${size.high.seconds} s`);
            const high = await measureRate(local.url, journal, requests.slice(size.warmup + steadyCount), size.high.rate, 120_000);
            const status = await fetch(`${local.url}/_status`).then((r) => r.json() as Promise<{ providers?: unknown }>);
            const figures = {
                ack_p50_ms: round(steady.ack.p50, 1),
                ack_p99_ms: round(steady.ack.p99, 1),
                e2e_p50_ms: round(steady.e2e.p50, 1),
                e2e_p99_ms: round(steady.e2e.p99, 1),
                latency_rate_per_s: round(steady.sentPerSecond, 1),
                latency_requests: steadyCount,
                [`ack_p99_ms_at_${size.high.rate}_per_s`]: round(high.ack.p99, 1),
                [`e2e_p50_ms_at_${size.high.rate}_per_s`]: round(high.e2e.p50, 1),
                [`e2e_p99_ms_at_${size.high.rate}_per_s`]: round(high.e2e.p99, 1),
            };
            const first = (r: RateRun) => r.bySecond.find((s) => s.e2eP50 !== undefined)?.e2eP50;
            const last = (r: RateRun) => [...r.bySecond].reverse().find((s) => s.e2eP50 !== undefined)?.e2eP50;
            const rows: TableRow[] = [
                { metric: `Acknowledgement (request -> 200) at ${size.steady.rate}/s, p50 / p99`, ours: `${figures.ack_p50_ms} / ${figures.ack_p99_ms} ms` },
                { metric: `Ack -> handler call at ${size.steady.rate}/s, p50 / p99`, ours: `${figures.e2e_p50_ms} / ${figures.e2e_p99_ms} ms` },
                { metric: `  p90 / max`, ours: `ack ${round(steady.ack.p90, 1)} / ${round(steady.ack.max, 1)} ms; handler ${round(steady.e2e.p90, 1)} / ${round(steady.e2e.max, 1)} ms` },
                { metric: `  load`, ours: `${steadyCount} webhooks (2 KB, ${model.providers.map((p) => p.name).join(" + ")}) at ${figures.latency_rate_per_s}/s, open loop; sender at most ${round(steady.maxSenderLagMs, 1)} ms late` },
                { metric: `  keeps up (handler p50, first -> last second)`, ours: `${keepsUp(steady) ? "yes" : "NO"} (${first(steady)} -> ${last(steady)} ms); handled twice ${steady.handledTwice}, lost 0` },
                { metric: `At ${size.high.rate}/s for ${size.high.seconds} s: ack p50 / p99`, ours: `${round(high.ack.p50, 1)} / ${round(high.ack.p99, 1)} ms` },
                { metric: `  ack -> handler call p50 / p99`, ours: `${round(high.e2e.p50, 1)} / ${round(high.e2e.p99, 1)} ms` },
                { metric: `  keeps up (handler p50, first -> last second)`, ours: `${keepsUp(high) ? "yes" : "NO"} (${first(high)} -> ${last(high)} ms); ${high.acknowledged} of ${highCount} acknowledged, ${high.notHandled} not handled after 120 s, handled twice ${high.handledTwice}` },
            ];
            return {
                figures,
                rows,
                goals: [],
                details: { size, stack: LatencyStack, providers: model.providers.map((p) => p.name), steady, high, status: status.providers },
            };
        } finally {
            await local.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    },
};
