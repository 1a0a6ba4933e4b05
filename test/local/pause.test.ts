/**
 * Pause and resume on `npm start` (local.js as a child process against the runner's moto, and its Kafka):
 * events sent to a paused lane are acknowledged, routed and held, none is processed; after `ops resume`
 * each is processed exactly once, in order on an ordered (FIFO) lane. `ops pause` stops a running lane.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { loadStackModel } from "../../local/stack";
import type { PipelineStatus } from "../../local/status";
import type { EventRecord } from "../../local/stats";
import { getPlugin } from "../../providers";
import { kafkaAvailable } from "../support/services";
import { fixture, getStatus, LocalProcess, ops, startLocal, waitForStatus } from "./support";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(local: LocalProcess, stackFile: string, provider: string, secret: string, body: Buffer): Promise<void> {
    const p = loadStackModel(stackFile).model.providers.find((x) => x.name === provider)!;
    const plugin = getPlugin(p.plugin, p.hmac);
    const url = `${local.url}${p.path}`;
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...plugin.sign(body, secret, Date.now(), url) }, body });
    expect(res.status, await res.text()).to.equal(200);
}

async function events(local: LocalProcess, provider: string): Promise<EventRecord[]> {
    return (await (await fetch(`${local.url}/_events?provider=${provider}`)).json()) as EventRecord[];
}

const lane = (s: PipelineStatus, provider: string, id: string) => s.providers[provider].lanes[id];

describe("local pipeline: pause and resume", function () {
    this.timeout(180_000);
    const stackFile = fixture("Pulumi.local-pause.yaml");
    const secrets = { acme: `test_${randomBytes(8).toString("hex")}`, github: `test_${randomBytes(8).toString("hex")}` };
    let local: LocalProcess;

    before(async () => {
        local = await startLocal({ stack: stackFile, secrets, readyTimeoutMs: 45_000 });
    });
    after(async () => {
        await local?.remove();
    });

    it("GIVEN an ordered lane configured paused WHEN events are sent THEN all are acknowledged and held, none processed; after ops resume each is processed once, in order", async () => {
        // Prepare: two customers' orders interleaved (the ordering key), and one event on a running lane
        const sent = ["c1", "c2", "c1", "c1", "c2", "c1"].map((customer, i) => ({ id: `evt_${i}_${randomBytes(3).toString("hex")}`, type: "order.updated", customer, seq: i }));
        const before = await getStatus(local.url);
        expect(lane(before, "acme", "acme-orders")).to.include({ paused: true });
        expect(lane(before, "acme", "acme-default")).to.include({ paused: false });

        // Act: send while paused
        for (const e of sent) await send(local, stackFile, "acme", secrets.acme, Buffer.from(JSON.stringify(e)));
        await send(local, stackFile, "acme", secrets.acme, Buffer.from(JSON.stringify({ id: `evt_other_${randomBytes(3).toString("hex")}`, type: "customer.created", customer: "c3" })));

        // Assess: routed and archived, held in the FIFO queue, not one processed (and still none a few polls later)
        await waitForStatus(local.url, (s) => s.providers.acme.routed === 7 && s.providers.acme.processed === 1 && lane(s, "acme", "acme-orders").queue!.visible === 6, 45_000);
        await sleep(4_000);
        const held = await getStatus(local.url);
        expect({ archived: held.providers.acme.archived, processed: held.providers.acme.processed, queue: lane(held, "acme", "acme-orders").queue, running: lane(held, "acme", "acme-orders").running }).to.deep.equal({
            archived: 7,
            processed: 1,
            queue: { visible: 6, inFlight: 0, delayed: 0 },
            running: 0,
        });
        expect(lane(held, "acme", "acme-orders").oldestHeldAgeSeconds).to.be.a("number").and.to.be.at.least(4);
        expect((await events(local, "acme")).filter((e) => e.lane === "acme-orders")).to.deep.equal([]);

        // ops status: the paused lane and what it holds
        const status = await ops(local, ["status", "--provider", "acme", "--json"]);
        expect(status.code, status.stderr).to.equal(0);
        const row = (JSON.parse(status.stdout) as { lanes: { lane: string; paused?: boolean; queue: { visible: number }; oldestHeldAgeSeconds?: number; pausedSince?: string }[] }).lanes.find((l) => l.lane === "acme-orders")!;
        expect({ paused: row.paused, visible: row.queue.visible, since: typeof row.pausedSince, age: typeof row.oldestHeldAgeSeconds }).to.deep.equal({ paused: true, visible: 6, since: "string", age: "number" });

        // Act: resume
        const resume = await ops(local, ["resume", "--provider", "acme", "--lane", "orders", "--json"]);
        expect(resume.code, resume.stderr).to.equal(0);
        const result = JSON.parse(resume.stdout);
        expect(result).to.deep.equal({
            action: "resume",
            where: "local",
            provider: "acme",
            lanes: [
                {
                    lane: "acme-orders",
                    wasPaused: true,
                    paused: false,
                    changed: true,
                    state: "running",
                    configuredPaused: true,
                    nextDeploy: "a restart of `npm start` pauses it again unless you remove paused: true for lane acme-orders from Pulumi.local-pause.yaml",
                },
            ],
        });

        // Assess: each held event processed exactly once, in send order per customer, and nothing left
        const done = await waitForStatus(local.url, (s) => s.providers.acme.processed === 7 && lane(s, "acme", "acme-orders").queue!.visible === 0 && lane(s, "acme", "acme-orders").queue!.inFlight === 0, 45_000);
        expect({ processed: done.providers.acme.processed, duplicates: done.providers.acme.duplicates, failed: done.providers.acme.failed, dlq: done.providers.acme.dlq }).to.deep.equal({ processed: 7, duplicates: 0, failed: 0, dlq: 0 });
        const handled = (await events(local, "acme")).filter((e) => e.lane === "acme-orders");
        expect(handled.map((e) => e.outcome)).to.deep.equal(sent.map(() => "processed"));
        expect([...handled.map((e) => e.eventId)].sort()).to.deep.equal(sent.map((e) => e.id).sort());
        for (const customer of ["c1", "c2"]) {
            expect(handled.filter((e) => sent.find((s) => s.id === e.eventId)!.customer === customer).map((e) => e.eventId), customer).to.deep.equal(sent.filter((s) => s.customer === customer).map((s) => s.id));
        }
        expect(lane(done, "acme", "acme-orders")).to.include({ paused: false });
        expect(lane(done, "acme", "acme-orders").oldestHeldAgeSeconds).to.equal(undefined);
    });

    it("GIVEN a running lane WHEN ops pause THEN it stops taking messages (held, none processed) until ops resume, then each is processed once", async () => {
        // Act: pause github's lane on the running pipeline
        const pause = await ops(local, ["pause", "--provider", "github"]);
        expect(pause.code, pause.stderr).to.equal(0);
        expect(pause.stdout.trim()).to.equal("pause github-default: paused; a restart of `npm start` resumes it unless you set paused: true for lane github-default in Pulumi.local-pause.yaml");
        const p = loadStackModel(stackFile).model.providers.find((x) => x.name === "github")!;
        const plugin = getPlugin(p.plugin);
        const start = (await getStatus(local.url)).providers.github.processed;
        for (let i = 0; i < 3; i++) await send(local, stackFile, "github", secrets.github, plugin.sample(Date.now()));

        // Assess: held
        await waitForStatus(local.url, (s) => lane(s, "github", "github-default").queue!.visible === 3, 45_000);
        await sleep(3_000);
        const held = await getStatus(local.url);
        expect({ processed: held.providers.github.processed - start, queue: lane(held, "github", "github-default").queue!.visible, paused: lane(held, "github", "github-default").paused }).to.deep.equal({ processed: 0, queue: 3, paused: true });
        // Pausing again changes nothing and says so
        const again = await ops(local, ["pause", "--provider", "github", "--lane", "default"]);
        expect(again.stdout.trim()).to.match(/^pause github-default: already paused, unchanged; /);

        // Act: resume
        const resume = await ops(local, ["resume", "--provider", "github"]);
        expect(resume.stdout.trim()).to.equal("resume github-default: resumed; a restart of `npm start` keeps it running");
        const done = await waitForStatus(local.url, (s) => s.providers.github.processed - start === 3 && lane(s, "github", "github-default").queue!.visible === 0 && lane(s, "github", "github-default").queue!.inFlight === 0, 45_000);
        expect({ processed: done.providers.github.processed - start, duplicates: done.providers.github.duplicates }).to.deep.equal({ processed: 3, duplicates: 0 });
    });

    it("GIVEN a pause request that is not one, or names an unknown lane THEN 400 / 404 saying what is expected; a GET changes nothing", async () => {
        const post = (body: string) => fetch(`${local.url}/_control/pause`, { method: "POST", headers: { "content-type": "application/json" }, body });
        const bad = await post(JSON.stringify({ lanes: "acme-orders", paused: "yes" }));
        expect({ status: bad.status, body: await bad.json() }).to.deep.equal({ status: 400, body: { error: 'expected {"lanes": ["<lane id>", ...], "paused": true|false}' } });
        const unknown = await post(JSON.stringify({ lanes: ["acme-nope"], paused: true }));
        expect({ status: unknown.status, body: await unknown.json() }).to.deep.equal({ status: 404, body: { error: "unknown lane acme-nope (lanes: acme-default, acme-orders, github-default)" } });
        const get = await fetch(`${local.url}/_control/pause`);
        await get.arrayBuffer();
        expect(get.status).to.equal(404);
        expect(lane(await getStatus(local.url), "acme", "acme-orders").paused).to.equal(false);
    });
});

describe("local pipeline: pause a Kafka lane", function () {
    this.timeout(180_000);

    it("GIVEN a Kafka lane configured paused WHEN events are sent THEN none is processed; after ops resume each is processed once", async function () {
        if (!kafkaAvailable()) this.skip();
        const stackFile = fixture("Pulumi.local-kafka-pause.yaml");
        const secrets = { shopify: `test_${randomBytes(8).toString("hex")}` };
        const local = await startLocal({ stack: stackFile, secrets, readyTimeoutMs: 60_000 });
        try {
            const p = loadStackModel(stackFile).model.providers[0];
            const plugin = getPlugin(p.plugin);
            expect(lane(await getStatus(local.url), "shopify", "shopify-default")).to.include({ kind: "kafka", paused: true });
            for (let i = 0; i < 4; i++) await send(local, stackFile, "shopify", secrets.shopify, plugin.sample(Date.now()));

            // Assess: routed into the topic, held there
            await waitForStatus(local.url, (s) => s.providers.shopify.routed === 4, 45_000);
            await sleep(5_000);
            const held = await getStatus(local.url);
            expect({ processed: held.providers.shopify.processed, running: lane(held, "shopify", "shopify-default").running }).to.deep.equal({ processed: 0, running: 0 });
            expect(lane(held, "shopify", "shopify-default").oldestHeldAgeSeconds).to.be.a("number");

            // Act: resume through ops
            const resume = await ops(local, ["resume", "--provider", "shopify", "--json"]);
            expect(resume.code, resume.stderr).to.equal(0);
            expect(JSON.parse(resume.stdout).lanes.map((l: { lane: string; changed: boolean; paused: boolean }) => [l.lane, l.changed, l.paused])).to.deep.equal([["shopify-default", true, false]]);

            const done = await waitForStatus(local.url, (s) => s.providers.shopify.processed === 4, 60_000);
            await sleep(2_000);
            const after = await getStatus(local.url);
            expect({ processed: after.providers.shopify.processed, duplicates: after.providers.shopify.duplicates, dlq: after.providers.shopify.dlq }).to.deep.equal({ processed: 4, duplicates: 0, dlq: 0 });
            expect(done.providers.shopify.lanes["shopify-default"].paused).to.equal(false);
        } finally {
            await local.remove();
        }
    });
});
