/**
 * What the router costs in AWS API calls, measured against moto: 1,000
 * webhooks in router batches of 100. The counts are
 * exact (one archive object per provider and hour per batch, SendMessageBatch
 * of 10, one secret read per provider per TTL) and the report's own `calls`
 * must agree with what the SDK clients actually sent. Timings are printed,
 * never asserted.
 */
import { expect } from "chai";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { createRouter, RouterReport } from "../../handlers/router/router";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { localClients } from "../../local/resources";
import type { LaneRuntime } from "../../model/runtime-config";
import { services } from "../support/services";
import { countCalls, createRuntime, recordsFor, RuntimeFixture, signedWebhook, SignedWebhook } from "../support/runtime";

interface Measured {
    readonly archive: number;
    readonly send: number;
    readonly claims: number;
    readonly secretReads: number;
    readonly total: number;
    readonly sdk: { PutObject: number; GetObject: number; SendMessageBatch: number };
    /** Lane id -> messages that arrived in the lane. */
    readonly delivered: Record<string, number>;
    /** Time spent in the router. */
    readonly ms: number;
}

describe("runtime: AWS calls made by the router per 1,000 webhooks at batch size 100 (moto)", function () {
    this.timeout(120_000);
    let rt: RuntimeFixture;
    // Batches of 100: the call counts below are for that size (the default, 500, makes fewer archive PUTs).
    const batchSize = 100;
    let freshQueues = 0;

    before(async () => {
        rt = await createRuntime({ providers: [{ name: "stripe", plugin: "stripe" }, { name: "github", plugin: "github" }, { name: "shopify", plugin: "shopify" }] }, { suite: "calls" });
    });

    /**
     * Route `webhooks` in batches through one router (one secret cache) with
     * counted clients of its own. Each batch's lane messages land in a fresh
     * queue, counted afterwards: moto's SendMessageBatch slows down as a queue
     * fills (and receiving 1,000 messages from it takes longer than routing
     * them), which would measure moto, not the router.
     */
    async function measure(webhooks: readonly SignedWebhook[]): Promise<Measured> {
        const clients = localClients(services.awsEndpoint);
        const s3 = countCalls(clients.s3);
        const sqs = countCalls(clients.sqs);
        const secrets = countCalls(clients.secrets);
        const lanes: Record<string, LaneRuntime> = { ...rt.resources.router.lanes };
        const route = createRouter({ config: { ...rt.resources.router, lanes }, sqs: clients.sqs, s3: clients.s3, secrets: cachedSecretReader(clients.secrets) });
        const queues: [lane: string, url: string][] = [];
        const totals: RouterReport["calls"] = { archive: 0, send: 0, claims: 0 };
        const delivered: Record<string, number> = {};
        let ms = 0;
        for (let i = 0; i < webhooks.length; i += batchSize) {
            for (const id of Object.keys(lanes)) {
                const { QueueUrl } = await rt.clients.sqs.send(new CreateQueueCommand({ QueueName: `${rt.resources.catchAll.queue.name.replace(/-catch-all$/, "")}-${id}-b${freshQueues++}` }));
                lanes[id] = { ...lanes[id], queueUrl: QueueUrl };
                queues.push([id, QueueUrl!]);
            }
            const started = Date.now();
            const { failures, report } = await route(recordsFor(webhooks.slice(i, i + batchSize)));
            ms += Date.now() - started;
            expect(failures).to.deep.equal([]);
            totals.archive += report.calls.archive;
            totals.send += report.calls.send;
            totals.claims += report.calls.claims;
        }
        for (const [lane, url] of queues) {
            const { Attributes } = await rt.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
            const depth = Number(Attributes!.ApproximateNumberOfMessages);
            if (depth) delivered[lane] = (delivered[lane] ?? 0) + depth;
        }
        const secretReads = secrets.GetSecretValueCommand ?? 0;
        return {
            ...totals,
            secretReads,
            total: totals.archive + totals.send + totals.claims + secretReads,
            sdk: { PutObject: s3.PutObjectCommand ?? 0, GetObject: s3.GetObjectCommand ?? 0, SendMessageBatch: sqs.SendMessageBatchCommand ?? 0 },
            delivered,
            ms,
        };
    }

    // One edge time for all (inside one hour, so archive grouping is by provider only)
    const receivedAt = Date.now() - 1_000;

    it("GIVEN 1,000 webhooks of one provider WHEN routed in batches of 100 THEN 111 calls: 10 archive PUTs, 100 SendMessageBatch, 1 secret read", async () => {
        // Prepare
        const webhooks = Array.from({ length: 1000 }, (_, i) => signedWebhook(rt.provider("stripe"), JSON.stringify({ id: `evt_one_${i}`, type: "invoice.paid", data: { object: { customer: `cus_${i % 37}` } } }), rt.secrets.stripe[0], { receivedAt }));

        // Act
        const m = await measure(webhooks);
        console.log(`      router, 1 provider: ${m.total} AWS calls per 1,000 webhooks (archive ${m.archive}, send ${m.send}, claims ${m.claims}, secret reads ${m.secretReads}); ${m.ms} ms in the router against moto`);

        // Assess: exact counts, and the report agrees with the SDK
        expect({ archive: m.archive, send: m.send, claims: m.claims, secretReads: m.secretReads }).to.deep.equal({ archive: 10, send: 100, claims: 0, secretReads: 1 });
        expect(m.sdk).to.deep.equal({ PutObject: m.archive, GetObject: 0, SendMessageBatch: m.send });
        expect(m.delivered).to.deep.equal({ "stripe-default": 1000 });
    });

    it("GIVEN 1,000 webhooks spread over 3 providers WHEN routed in batches of 100 THEN one archive PUT per provider per batch and SendMessageBatch of 10 per lane", async () => {
        // Prepare: round robin, so each batch holds 34/33/33
        const names = ["stripe", "github", "shopify"];
        const webhooks = Array.from({ length: 1000 }, (_, i) => {
            const name = names[i % 3];
            return signedWebhook(rt.provider(name), JSON.stringify({ id: `evt_mix_${i}`, type: "invoice.paid", action: "created" }), rt.secrets[name][0], { receivedAt });
        });

        // Act
        const m = await measure(webhooks);
        console.log(`      router, 3 providers: ${m.total} AWS calls per 1,000 webhooks (archive ${m.archive}, send ${m.send}, claims ${m.claims}, secret reads ${m.secretReads}); ${m.ms} ms in the router against moto`);

        // Assess: per batch 3 archive objects and 4+4+4 (or 4+4+3) sends
        const expectedSends = Array.from({ length: 10 }, (_, b) => names.map((_, p) => Math.ceil(Array.from({ length: 100 }, (_, i) => b * 100 + i).filter((i) => i % 3 === p).length / 10)).reduce((a, c) => a + c, 0)).reduce((a, c) => a + c, 0);
        expect({ archive: m.archive, send: m.send, claims: m.claims, secretReads: m.secretReads }).to.deep.equal({ archive: 30, send: expectedSends, claims: 0, secretReads: 3 });
        expect(m.sdk).to.deep.equal({ PutObject: m.archive, GetObject: 0, SendMessageBatch: m.send });
        expect(m.delivered).to.deep.equal({ "stripe-default": 334, "github-default": 333, "shopify-default": 333 });
    });
});
