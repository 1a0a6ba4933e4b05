/**
 * `npm start` as a user drives it: the compiled entry spawned with a test
 * stack (one provider per built-in plugin), real signed HTTP requests,
 * `/_status` polled until the counts settle, and the operations commands run
 * against it. The tests run in order and share the process (starting it is
 * the expensive part); each asserts on its own provider or on deltas.
 */
import { expect } from "chai";
import { request } from "http";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { maxLocalBodyBytes } from "../../local/http-ingress";
import { loadStackModel } from "../../local/stack";
import type { QueueStatus } from "../../local/ops/status";
import type { RedriveResult } from "../../local/ops/redrive";
import type { ReplaySummary } from "../../local/ops/replay";
import type { DlqListing } from "../../local/ops/dlq";
import type { TraceResult } from "../../local/ops/trace";
import type { EventRecord } from "../../local/stats";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { encodeEnvelope } from "../../model/envelope";
import type { LocalState } from "../../local/state";
import { getPlugin } from "../../providers";
import { fixture, getStatus, LocalProcess, ops, queuesDrained, sha256, startLocal, waitForStatus } from "./support";

const stackFile = fixture("Pulumi.local-all.yaml");
const { model } = loadStackModel(stackFile);
const secrets: Record<string, string> = Object.fromEntries(
    model.providers.map((p) => [p.name, p.plugin === "standard-webhooks" ? `whsec_${randomBytes(24).toString("base64")}` : `test_${randomBytes(12).toString("hex")}`]),
);

/** Sign `body` (default: the plugin's sample) as the provider would and POST it. */
async function send(url: string, providerName: string, options: { body?: Buffer; secret?: string } = {}) {
    const provider = model.providers.find((p) => p.name === providerName)!;
    const plugin = getPlugin(provider.plugin, provider.hmac);
    const now = Date.now();
    const body = options.body ?? plugin.sample(now);
    const target = `${url}${provider.path}`;
    const headers = plugin.sign(body, options.secret ?? secrets[providerName], now, target);
    const res = await fetch(target, { method: "POST", headers: { "content-type": body[0] === 0x7b ? "application/json" : "application/x-www-form-urlencoded", ...headers }, body });
    return { status: res.status, text: await res.text(), body };
}

const lowerCase = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

/** POST a body of `size` bytes with node:http, reading the answer even if the server stops reading the upload. */
function postLarge(url: string, size: number): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(size) } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end(Buffer.alloc(size, 0x61));
    });
}

describe("local pipeline (npm start)", function () {
    this.timeout(60_000);
    let local: LocalProcess;
    /** Bodies sent per provider, in order. */
    const sent: Record<string, Buffer[]> = {};
    let firstBatch: { from: number; to: number };

    before(async () => {
        local = await startLocal({ stack: stackFile, secrets, args: ["--visibility-timeout", "1"] });
    });

    after(async () => {
        await local?.remove();
    });

    it("GIVEN the test stack WHEN local.js is ready THEN /_status lists every provider and lane with empty queues", async () => {
        // Act
        const status = await getStatus(local.url);

        // Assess
        expect(Object.keys(status.providers)).to.deep.equal(model.providers.map((p) => p.name));
        for (const p of model.providers) {
            expect(status.providers[p.name].url).to.equal(`${local.url}${p.path}`);
            expect(Object.keys(status.providers[p.name].lanes)).to.deep.equal(p.lanes);
        }
        expect(queuesDrained(status)).to.equal(true);
        expect(local.output().stdout).to.include(`${local.url}/webhooks/stripe`);
    });

    it("GIVEN every built-in provider WHEN a signed sample is sent to each THEN each is received, archived, routed and processed once", async () => {
        // Prepare
        const from = Date.now();

        // Act
        for (const p of model.providers) {
            for (let i = 0; i < 2; i++) {
                const res = await send(local.url, p.name);
                expect(res.status, `${p.name}: ${res.text}`).to.equal(200);
                (sent[p.name] ??= []).push(res.body);
            }
        }
        firstBatch = { from, to: Date.now() };

        // Assess
        const status = await waitForStatus(local.url, (s) => model.providers.every((p) => s.providers[p.name].processed === 2) && queuesDrained(s));
        for (const p of model.providers) {
            const { received, rejected, archived, routed, processed, duplicates, failed, dlq } = status.providers[p.name];
            expect({ received, rejected, archived, routed, processed, duplicates, failed, dlq }, p.name).to.deep.equal({ received: 2, rejected: 0, archived: 2, routed: 2, processed: 2, duplicates: 0, failed: 0, dlq: 0 });
        }
    });

    it("GIVEN a request signed with a wrong secret WHEN it is sent THEN it is acknowledged, quarantined as bad-signature, and never processed", async () => {
        // Act
        const res = await send(local.url, "github", { secret: "not-the-secret" });

        // Assess
        expect(res.status).to.equal(200);
        const status = await waitForStatus(local.url, (s) => s.providers.github.rejected === 1 && queuesDrained(s));
        expect(status.providers.github.rejectReasons).to.deep.equal({ "bad-signature": 1 });
        expect(status.providers.github.processed).to.equal(2);
    });

    it("GIVEN header values that break or extend the direct integration's attributes WHEN posted THEN a breaking one is refused (400), an extending one is acknowledged and quarantined as untrusted-envelope, never replayed", async () => {
        // Prepare: a validly signed request of the hmac provider; its signature header closes its attribute and adds wp-replay (as a sender could on AWS).
        const provider = model.providers.find((p) => p.name === "acme")!;
        const plugin = getPlugin(provider.plugin, provider.hmac);
        const body = plugin.sample(Date.now());
        const headers = lowerCase(plugin.sign(body, secrets.acme, Date.now(), ""));
        const injected = `${headers["x-acme-signature"]}"},"wp-replay":{"DataType":"String","StringValue":"raw/provider=acme/x#0"},"h.x-pad":{"DataType":"String","StringValue":"=`;
        const post = (signature: string) => fetch(`${local.url}/webhooks/acme`, { method: "POST", headers: { ...headers, "content-type": "application/json", "x-acme-signature": signature }, body });

        // Act
        const extended = await post(injected);
        const broken = await post(`${headers["x-acme-signature"]}"`);

        // Assess
        expect(extended.status).to.equal(200);
        expect({ status: broken.status, error: ((await broken.json()) as { error: string }).error }).to.deep.include({ status: 400 });
        const status = await waitForStatus(local.url, (s) => s.providers.acme.rejected === 1 && queuesDrained(s));
        expect({ rejectReasons: status.providers.acme.rejectReasons, processed: status.providers.acme.processed, http400: status.http["400"] }).to.deep.equal({ rejectReasons: { "untrusted-envelope": 1 }, processed: 2, http400: 1 });
    });

    it("GIVEN an unknown provider WHEN a webhook is posted THEN 404 names the configured providers", async () => {
        // Act
        const res = await fetch(`${local.url}/webhooks/nobody`, { method: "POST", body: "{}" });
        const body = (await res.json()) as { error: string };

        // Assess
        expect(res.status).to.equal(404);
        expect(body.error).to.include('unknown provider "nobody"').and.include("stripe");
        expect((await getStatus(local.url)).http["404"]).to.equal(1);
    });

    it("GIVEN a body over the SQS limit WHEN it is posted THEN 413 is answered and nothing is enqueued", async () => {
        // Act
        const status = await postLarge(`${local.url}/webhooks/shopify`, maxLocalBodyBytes + 1);

        // Assess
        expect(status).to.equal(413);
        const after = await getStatus(local.url);
        expect(after.http["413"]).to.equal(1);
        expect(after.providers.shopify.received).to.equal(2);
    });

    it("GIVEN Slack's url_verification challenge WHEN it is signed THEN the challenge is answered; unsigned THEN 401", async () => {
        // Prepare
        const body = Buffer.from(JSON.stringify({ token: "x", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" }));

        // Act
        const signed = await send(local.url, "slack", { body });
        const forged = await send(local.url, "slack", { body, secret: "wrong" });

        // Assess
        expect({ status: signed.status, text: signed.text }).to.deep.equal({ status: 200, text: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
        expect(forged.status).to.equal(401);
        expect((await getStatus(local.url)).providers.slack.received).to.equal(2);
    });

    it("GIVEN archived stripe requests WHEN replay covers the first batch's time range THEN exactly those bytes are re-injected, verified again and skipped as duplicates", async () => {
        // Prepare: a later request that is outside the range.
        await new Promise((r) => setTimeout(r, 5));
        expect((await send(local.url, "stripe")).status).to.equal(200);
        const before = await waitForStatus(local.url, (s) => s.providers.stripe.processed === 3 && queuesDrained(s));
        const range = ["--provider", "stripe", "--from", new Date(firstBatch.from).toISOString(), "--to", new Date(firstBatch.to).toISOString(), "--json"];

        // Act
        const dry = await ops(local, ["replay", ...range, "--dry-run"]);
        const run = await ops(local, ["replay", ...range]);

        // Assess
        expect(dry.code, dry.stderr).to.equal(0);
        const drySummary = JSON.parse(dry.stdout) as ReplaySummary;
        expect({ found: drySummary.found, replayed: drySummary.replayed, skipped: drySummary.skipped }).to.deep.equal({ found: 2, replayed: 0, skipped: 2 });
        expect(run.code, run.stderr).to.equal(0);
        const summary = JSON.parse(run.stdout) as ReplaySummary;
        expect({ found: summary.found, replayed: summary.replayed, failed: summary.failed }).to.deep.equal({ found: 2, replayed: 2, failed: 0 });
        expect(summary.requests.map((r) => r.sha256)).to.deep.equal(sent.stripe.map(sha256));
        const after = await waitForStatus(local.url, (s) => s.providers.stripe.duplicates === 2 && queuesDrained(s));
        const { received, rejected, archived, routed, processed, duplicates } = after.providers.stripe;
        expect({ received, rejected, archived, routed, processed, duplicates }).to.deep.equal({ received: 3, rejected: 0, archived: 3, routed: before.providers.stripe.routed + 2, processed: 3, duplicates: 2 });
        const events = (await (await fetch(`${local.url}/_events?provider=stripe`)).json()) as EventRecord[];
        const replayed = events.filter((e) => e.replay);
        expect(replayed.map((e) => e.outcome)).to.deep.equal(["duplicate", "duplicate"]);
        expect(replayed.map((e) => e.sha256).sort()).to.deep.equal(sent.stripe.map(sha256).sort());

        // Act: the same range again with --force
        const forced = await ops(local, ["replay", ...range, "--force"]);

        // Assess: the handler runs again for both events, once each
        expect(forced.code, forced.stderr).to.equal(0);
        expect((JSON.parse(forced.stdout) as ReplaySummary).replayed).to.equal(2);
        const afterForce = await waitForStatus(local.url, (s) => s.providers.stripe.processed === 5 && queuesDrained(s));
        expect({ processed: afterForce.providers.stripe.processed, duplicates: afterForce.providers.stripe.duplicates }).to.deep.equal({ processed: 5, duplicates: 2 });
    });

    it("GIVEN replay without --provider or --to WHEN run as the README writes it (--from -15m) THEN every provider's archive is planned, and the plan says so", async () => {
        // Act: a dry run, so the pipeline's counts stay as the other tests expect
        const json = await ops(local, ["replay", "--from", "-15m", "--dry-run", "--json"]);
        const text = await ops(local, ["replay", "--from", "-15m", "--dry-run"]);

        // Assess
        expect(json.code, json.stderr).to.equal(0);
        const out = JSON.parse(json.stdout) as { plan: string; providers: string[]; summaries: ReplaySummary[] };
        const status = await getStatus(local.url);
        expect(out.providers).to.deep.equal(Object.keys(status.providers));
        expect(out.summaries.map((s) => s.provider)).to.deep.equal(out.providers);
        expect(out.summaries.map((s) => s.found)).to.deep.equal(out.providers.map((p) => status.providers[p].archived));
        expect(out.summaries.every((s) => s.dryRun && s.replayed === 0)).to.equal(true);
        expect(out.summaries.reduce((n, s) => n + s.found, 0), "the earlier tests archived requests").to.be.greaterThan(0);
        expect(Date.now() - Date.parse(out.summaries[0].to)).to.be.within(0, 60_000);
        expect(text.code, text.stderr).to.equal(0);
        expect(text.stdout.split("\n")[0]).to.match(new RegExp(`^replay plan: EVERY provider \\(no --provider given\\): ${out.providers.join(", ")}, requests received .* \\(now\\) \\[dry run: nothing will be sent\\]$`));
    });

    it("GIVEN a failing handler WHEN its retries run out THEN the DLQ fills; status --json shows it; healed and redriven THEN every message is processed", async () => {
        // Prepare: break razorpay's handler (maxReceiveCount 2, visibility 1 s).
        const broke = await fetch(`${local.url}/_control/fail?provider=razorpay&on=true`, { method: "POST" });
        expect(await broke.json()).to.deep.equal({ provider: "razorpay", failing: true });
        for (let i = 0; i < 3; i++) expect((await send(local.url, "razorpay")).status).to.equal(200);
        const failedState = await waitForStatus(local.url, (s) => s.providers.razorpay.dlq === 3 && queuesDrained(s));
        expect(failedState.providers.razorpay.processed).to.equal(2);
        expect(failedState.providers.razorpay.failed).to.equal(6);

        // Act
        const statusRun = await ops(local, ["status", "--json"]);
        await fetch(`${local.url}/_control/fail?provider=razorpay&on=false`, { method: "POST" });
        const redriveRun = await ops(local, ["redrive", "--provider", "razorpay", "--json"]);

        // Assess
        expect(statusRun.code, statusRun.stderr).to.equal(0);
        const queues = JSON.parse(statusRun.stdout) as QueueStatus;
        expect(queues.lanes.map((l) => l.lane)).to.deep.equal(["catch-all", ...model.lanes.map((l) => l.id)]);
        const razorpay = queues.lanes.find((l) => l.lane === "razorpay-default")!;
        expect({ dlq: razorpay.dlq.visible, queued: razorpay.queue.visible }).to.deep.equal({ dlq: 3, queued: 0 });
        expect(razorpay.oldestDlqAgeSeconds).to.be.a("number");
        expect(queues.lanes.filter((l) => l.lane !== "razorpay-default").every((l) => l.dlq.visible === 0)).to.equal(true);

        expect(redriveRun.code, redriveRun.stderr).to.equal(0);
        expect(JSON.parse(redriveRun.stdout) as RedriveResult[]).to.deep.equal([{ lane: "razorpay-default", method: "receive-send-delete", found: 3, moved: 3, failed: 0, errors: [] }]);
        const healed = await waitForStatus(local.url, (s) => s.providers.razorpay.processed === 5 && queuesDrained(s));
        expect({ dlq: healed.providers.razorpay.dlq, duplicates: healed.providers.razorpay.duplicates, failing: healed.providers.razorpay.failing }).to.deep.equal({ dlq: 0, duplicates: 0, failing: false });
    });

    it("GIVEN a processed event, a forged request and an event whose handler keeps failing WHEN the on-call engineer runs trace and dlq THEN each says where it is and why, the DLQ keeps its message, and redrive heals it", async () => {
        // Prepare: shopify's samples were processed above; a forged shopify request; razorpay broken again (maxReceiveCount 2).
        const processed = ((await (await fetch(`${local.url}/_events?provider=shopify`)).json()) as EventRecord[]).find((e) => e.outcome === "processed")!;
        const forged = await send(local.url, "shopify", { secret: "not-the-secret" });
        const forgedRequest = (JSON.parse(forged.text) as { requestId: string }).requestId;
        await fetch(`${local.url}/_control/fail?provider=razorpay&on=true`, { method: "POST" });
        const poison = await send(local.url, "razorpay");
        const before = (await getStatus(local.url)).providers.razorpay.processed;
        await waitForStatus(local.url, (s) => s.providers.razorpay.dlq === 1 && s.providers.shopify.rejected === 1 && queuesDrained(s));

        // Act
        const traced = await ops(local, ["trace", "--provider", "shopify", "--event-id", processed.eventId]);
        const quarantined = await ops(local, ["trace", "--provider", "shopify", "--request-id", forgedRequest, "--json"]);
        const listed = await ops(local, ["dlq", "--provider", "razorpay", "--json"]);
        const listing = JSON.parse(listed.stdout) as DlqListing[];
        const dead = listing[0]?.messages[0];
        const shown = await ops(local, ["dlq", "--provider", "razorpay", "--show", dead?.eventId ?? "?"]);
        const deadTrace = await ops(local, ["trace", "--provider", "razorpay", "--event-id", dead?.eventId ?? "?", "--json"]);
        await fetch(`${local.url}/_control/fail?provider=razorpay&on=false`, { method: "POST" });
        const redriven = await ops(local, ["redrive", "--provider", "razorpay", "--json"]);

        // Assess
        expect(traced.code, traced.stderr).to.equal(0);
        expect(traced.stdout).to.include(`verdict: received once`);
        expect(traced.stdout).to.include("lane shopify-default (routed here): processed");
        expect(quarantined.code, quarantined.stderr).to.equal(0);
        expect((JSON.parse(quarantined.stdout) as TraceResult).quarantined.map((q) => q.reason)).to.deep.equal(["bad-signature"]);
        expect(listed.code, listed.stderr).to.equal(0);
        expect(listing.map((l) => ({ lane: l.lane, count: l.messages.length }))).to.deep.equal([{ lane: "razorpay-default", count: 1 }]);
        expect({ attempts: dead.attempts, error: dead.lastError?.message }).to.deep.equal({ attempts: 2, error: "handler for razorpay fails on demand (WEBHOOK_FAIL_RAZORPAY or POST /_control/fail)" });
        expect(shown.code, shown.stderr).to.equal(0);
        expect(shown.stdout).to.include(`message ${dead.id} in the DLQ of razorpay-default`);
        expect(shown.stdout.trimEnd().endsWith(poison.body.toString("utf8"))).to.equal(true);
        const lane = (JSON.parse(deadTrace.stdout) as TraceResult).lanes.find((l) => l.lane === "razorpay-default")!;
        expect({ state: lane.state, attempt: lane.lastError?.attempt }).to.deep.equal({ state: "in-dlq", attempt: 2 });
        expect(JSON.parse(redriven.stdout) as RedriveResult[]).to.deep.equal([{ lane: "razorpay-default", method: "receive-send-delete", found: 1, moved: 1, failed: 0, errors: [] }]);
        await waitForStatus(local.url, (s) => s.providers.razorpay.processed === before + 1 && s.providers.razorpay.dlq === 0 && queuesDrained(s));
    });

    it("GIVEN requests in the catch-all DLQ (the router failed them) WHEN redriven with --catch-all THEN the router routes them and the handler runs", async () => {
        // Prepare: two signed GitHub requests, as the edge would have queued them, put straight into the router's DLQ.
        const state = JSON.parse(fs.readFileSync(path.join(local.dir, "state.json"), "utf8")) as LocalState;
        const sqs = new SQSClient({ endpoint: state.endpoint, region: state.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        const provider = model.providers.find((p) => p.name === "github")!;
        const plugin = getPlugin(provider.plugin, provider.hmac);
        const before = (await getStatus(local.url)).providers.github.processed;
        for (let i = 0; i < 2; i++) {
            const now = Date.now();
            const body = plugin.sample(now + i);
            const message = encodeEnvelope({ provider: "github", requestId: `dlq-${i}-${now}`, receivedAt: now, sourceIp: "127.0.0.1", headers: lowerCase(plugin.sign(body, secrets.github, now, "")), body }, plugin.headers);
            await sqs.send(new SendMessageCommand({ QueueUrl: state.catchAll.dlq.url, ...message }));
        }
        sqs.destroy();

        // Act
        const run = await ops(local, ["redrive", "--catch-all", "--json"]);

        // Assess
        expect(run.code, run.stderr).to.equal(0);
        expect(JSON.parse(run.stdout) as RedriveResult[]).to.deep.equal([{ lane: "catch-all", method: "receive-send-delete", found: 2, moved: 2, failed: 0, errors: [] }]);
        const after = await waitForStatus(local.url, (s) => s.providers.github.processed === before + 2 && queuesDrained(s));
        expect(after.providers.github.dlq).to.equal(0);
    });

    it("GIVEN the running pipeline WHEN it gets SIGTERM THEN it exits 0 and removes its state file, so ops reports it is not running", async () => {
        // Act
        const { code, signal } = await local.stop(20_000);
        const after = await ops(local, ["status"]);

        // Assess
        expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
        expect(local.output().stderr).to.include("stopped cleanly");
        expect(after.code).to.equal(1);
        expect(after.stderr).to.include("the local pipeline is not running");
        expect(fs.existsSync(path.join(local.dir, "state.json"))).to.equal(false);
    });
});
