/**
 * `npm run console -- --aws --outputs outputs.json` against moto standing in
 * for AWS: the stack outputs are those of the queues and bucket `npm start`
 * made in moto; the console reads depths from SQS and counts from CloudWatch
 * (moto's GetMetricData answers what PutMetricData stored), refuses actions
 * unless started with --allow-actions, and with it redrives through the same
 * `redrive` as `npm run ops`.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../../local/stack";
import type { LocalState } from "../../local/state";
import type { Overview, Session } from "../../local/console/api";
import type { DlqListing } from "../../local/ops/dlq";
import type { TraceResult } from "../../local/ops/trace";
import type { EventRecord } from "../../local/stats";
import type { JobView } from "../../local/console/jobs";
import { WorkerMetrics, workerMetricDimensions } from "../../model/metrics";
import { LocalProcess, queuesDrained, startLocal, waitForStatus } from "../local/support";
import { secrets, sendWebhook, stackFile } from "./support";

interface ConsoleProcess {
    readonly url: string;
    readonly stdout: () => string;
    stop(): Promise<void>;
}

function startConsole(args: string[]): Promise<ConsoleProcess> {
    const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot(), "dist", "scripts", "console.js"), ...args], { env: { ...process.env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c));
    child.stderr!.on("data", (c: Buffer) => (stderr += c));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`console.js not ready\n${stdout}\n${stderr}`)), 30_000);
        child.stdout!.on("data", () => {
            const m = /webhook console ready at (http:\/\/\S+?)\/? /.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve({ url: m[1], stdout: () => stdout, stop: () => (child.kill("SIGTERM"), exited) });
            }
        });
        void exited.then(() => reject(new Error(`console.js exited before it was ready\n${stdout}\n${stderr}`)));
    });
}

/** GET `url` with the Host header given (fetch does not let a caller set Host). */
function getWithHost(url: string, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
    });
}

/** What `pulumi stack output --json` holds for the queues and bucket npm start created. */
function outputsOf(state: LocalState) {
    const lanes = state.lanes.filter((l) => l.queue && l.dlq);
    return {
        queueUrls: { "catch-all": state.catchAll.queue.url, ...Object.fromEntries(lanes.map((l) => [l.id, l.queue!.url])) },
        dlqUrls: { "catch-all": state.catchAll.dlq.url, ...Object.fromEntries(lanes.map((l) => [l.id, l.dlq!.url])) },
        bucketName: state.bucket,
        webhookUrls: Object.fromEntries(state.providers.map((p) => [p.name, p.url])),
        internalKeySecretArn: state.sealSecretId,
        idempotencyTable: state.table,
    };
}

describe("console --aws against moto", function () {
    this.timeout(120_000);
    let local: LocalProcess;
    let outputs: string;
    const consoles: ConsoleProcess[] = [];

    before(async () => {
        // Prepare: a DLQ holding two events (razorpay: 2 attempts, retried after 1 s)
        local = await startLocal({ stack: stackFile, secrets, args: ["--visibility-timeout", "1"], env: { WEBHOOK_FAIL_RAZORPAY: "1" } });
        for (let i = 0; i < 2; i++) expect(await sendWebhook(local.url, "razorpay")).to.equal(200);
        await waitForStatus(local.url, (s) => s.providers.razorpay.dlq === 2 && queuesDrained(s), 60_000);
        const state = JSON.parse(fs.readFileSync(path.join(local.dir, "state.json"), "utf8")) as LocalState;
        outputs = path.join(local.dir, "outputs.json");
        fs.writeFileSync(outputs, JSON.stringify(outputsOf(state)));
    });

    after(async () => {
        await Promise.all(consoles.map((c) => c.stop()));
        await local?.remove();
    });

    it("GIVEN stack outputs and no metrics WHEN the console starts read-only THEN it shows queue and DLQ depths, says CloudWatch had nothing, and refuses actions", async () => {
        // Act
        const c = await startConsole(["--aws", "--outputs", outputs, "--port", "0", "--stack", stackFile]);
        consoles.push(c);
        const overview = (await (await fetch(`${c.url}/console/api/overview`)).json()) as Overview;
        const redrive = await fetch(`${c.url}/console/api/redrive`, { method: "POST", headers: { "content-type": "application/json", "x-console-token": "x" }, body: JSON.stringify({ provider: "razorpay" }) });
        const page = await fetch(`${c.url}/`);
        const svg = await fetch(`${c.url}/console/api/diagram.svg`);
        const port = new URL(c.url).port;
        const rebound = await getWithHost(`${c.url}/console/api/overview`, `attacker.example:${port}`);
        const named = await getWithHost(`${c.url}/console/api/overview`, `localhost:${port}`);

        // Assess
        expect(c.stdout()).to.include("read-only (start with --allow-actions");
        expect(c.stdout()).to.not.match(/token=/);
        const razorpay = overview.providers.find((p) => p.name === "razorpay")!;
        expect({ where: overview.where, dlq: razorpay.dlq, lane: razorpay.lanes.map((l) => [l.id, l.dlq, l.queued]), processed: razorpay.processed }).to.deep.equal({
            where: "aws",
            dlq: 2,
            lane: [["razorpay-default", 2, 0]],
            processed: null,
        });
        expect(overview.note).to.match(/CloudWatch returned no data points/);
        expect(redrive.status).to.equal(403);
        expect(page.headers.get("content-security-policy")).to.include("script-src 'self'");
        expect(svg.status).to.equal(200);
        expect({ rebound, named }, "a page on another name (DNS rebinding) gets nothing").to.deep.equal({ rebound: 403, named: 200 });
    });

    it("GIVEN a DLQ holding failed events WHEN the read-only console lists it and searches one THEN each message shows its last error and the trace finds it archived and in the DLQ", async () => {
        // Prepare
        const c = consoles[0];
        const events = (await (await fetch(`${local.url}/_events?provider=razorpay`)).json()) as EventRecord[];
        const eventId = events[0].eventId;

        // Act
        const session = (await (await fetch(`${c.url}/console/api/session`)).json()) as Session;
        const listings = (await (await fetch(`${c.url}/console/api/dlq?provider=razorpay`)).json()) as DlqListing[];
        const trace = (await (await fetch(`${c.url}/console/api/trace?provider=razorpay&eventId=${encodeURIComponent(eventId)}`)).json()) as TraceResult;
        const pause = await fetch(`${c.url}/console/api/pause`, { method: "POST", headers: { "content-type": "application/json", "x-console-token": "x" }, body: JSON.stringify({ provider: "razorpay" }) });

        // Assess
        expect({ trace: session.features.trace, dlqList: session.features.dlqList, pause: session.features.pause }, "no eventSourceMappings in these outputs, and read-only").to.deep.equal({ trace: true, dlqList: true, pause: false });
        expect(listings.map((l) => [l.lane, l.messages.length])).to.deep.equal([["razorpay-default", 2]]);
        for (const m of listings[0].messages) expect(`${m.lastError?.errorClass}: ${m.lastError?.message}`).to.include("InjectedFailureError: handler for razorpay fails on demand");
        expect({ archived: trace.archived.length, lane: trace.lanes.find((l) => l.lane === "razorpay-default")?.state }).to.deep.equal({ archived: 1, lane: "in-dlq" });
        expect(pause.status).to.equal(403);
    });

    it("GIVEN worker metrics in CloudWatch WHEN the overview is read THEN the lane's processed and failed sums come from them", async () => {
        // Prepare: what a worker's EMF would have published for razorpay-default
        const cw = new CloudWatchClient({});
        const dimensions = Object.entries(workerMetricDimensions({ lane: "razorpay-default", provider: "razorpay" })).map(([Name, Value]) => ({ Name, Value }));
        const at = new Date(Date.now() - 3 * 60_000);
        await cw.send(
            new PutMetricDataCommand({
                Namespace: WorkerMetrics.namespace,
                MetricData: [
                    { MetricName: WorkerMetrics.names.processed, Dimensions: dimensions, Value: 3, Unit: "Count", Timestamp: at },
                    { MetricName: WorkerMetrics.names.handlerFailures, Dimensions: dimensions, Value: 4, Unit: "Count", Timestamp: at },
                ],
            }),
        );

        // Act
        const overview = (await (await fetch(`${consoles[0].url}/console/api/overview`)).json()) as Overview;
        const rates = (await (await fetch(`${consoles[0].url}/console/api/rates`)).json()) as { bucketSeconds: number; providers: Record<string, Record<string, (number | null)[]>> };

        // Assess
        const lane = overview.providers.find((p) => p.name === "razorpay")!.lanes[0];
        expect({ processed: lane.processed, failed: lane.failed }).to.deep.equal({ processed: 3, failed: 4 });
        expect(rates.bucketSeconds).to.equal(60);
        expect(rates.providers.razorpay.processed.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).to.be.closeTo(3 / 60, 1e-9);
    });

    it("GIVEN --allow-actions WHEN redrive and replay are posted with the printed token THEN they run as jobs through the ops code; moto's missing move task is reported, nothing is lost", async () => {
        // Prepare
        const c = await startConsole(["--aws", "--outputs", outputs, "--port", "0", "--allow-actions"]);
        consoles.push(c);
        const token = /#token=([0-9a-f]{64})/.exec(c.stdout())![1];
        await fetch(`${local.url}/_control/fail?provider=razorpay&on=false`, { method: "POST" });
        const post = (route: string, body: unknown, headers: Record<string, string> = { "x-console-token": token }) =>
            fetch(`${c.url}/console/api/${route}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
        const finished = async (started: JobView) => {
            let job = started;
            for (let i = 0; i < 150 && job.state === "running"; i++) {
                await new Promise((r) => setTimeout(r, 200));
                job = (await (await fetch(`${c.url}/console/api/jobs/${started.id}`)).json()) as JobView;
            }
            return job;
        };

        // Act
        const refused = await post("redrive", { provider: "razorpay" }, {});
        const redriven = await finished((await (await post("redrive", { provider: "razorpay" })).json()) as JobView);
        const replayed = await finished((await (await post("replay", { provider: "razorpay", from: Date.now() - 15 * 60_000, to: Date.now() })).json()) as JobView);

        // Assess: on AWS a lane redrive is SQS's move task, which moto lacks: the job says so and the DLQ keeps its messages
        expect(refused.status).to.equal(403);
        expect({ state: redriven.state, error: redriven.error }).to.deep.include({ state: "failed" });
        expect(redriven.error, "moto answers the move task with an HTML page").to.match(/StartMessageMoveTask|SyntaxError|not (yet )?implemented/i);
        expect({ state: replayed.state, found: (replayed.result as { found: number }).found, replayed: (replayed.result as { replayed: number }).replayed }).to.deep.equal({ state: "done", found: 2, replayed: 2 });
        // the two events were never processed (their handler failed), so the replay processes them; the DLQ still holds the originals
        const healed = await waitForStatus(local.url, (s) => s.providers.razorpay.processed === 2 && queuesDrained(s), 30_000);
        expect(healed.providers.razorpay.dlq).to.equal(2);
        process.stderr.write(`      (moto's answer to the move task: ${redriven.error})\n`);
    });
});
