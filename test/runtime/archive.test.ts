/**
 * The archive against moto: every accepted request is kept in gzip NDJSON
 * objects, one per provider and hour per router batch (not one PUT per
 * webhook), under Hive-style partitions, and each line reproduces the
 * request's exact bytes and declared headers.
 */
import { expect } from "chai";
import { S3Client } from "@aws-sdk/client-s3";
import { createRouter, RouterResult } from "../../handlers/router/router";
import { archivedBody } from "../../handlers/router/archive";
import { cachedSecretReader } from "../../handlers/shared/secrets";
import { localClients } from "../../local/resources";
import { services } from "../support/services";
import { byteDiff, CallCounts, countCalls, createRuntime, listKeys, readArchive, recordsFor, RuntimeFixture, signedWebhook, SignedWebhook } from "../support/runtime";

const config = {
    providers: [
        { name: "stripe", plugin: "stripe" },
        { name: "github", plugin: "github" },
        { name: "acme", plugin: "hmac", signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex", timestampHeader: "X-Acme-Timestamp" }, eventIdPath: "id", eventTypePath: "type" },
    ],
};

const hourMs = 3_600_000;

describe("runtime: the archive holds every accepted request, batched per provider and hour (moto)", function () {
    this.timeout(60_000);
    let rt: RuntimeFixture;
    let s3: S3Client;
    let puts: CallCounts;
    const webhooks: SignedWebhook[] = [];
    const results: RouterResult[] = [];
    const putsPerBatch: number[] = [];
    // Two past hours (edge times fixed inside each, so the test never straddles a boundary or runs ahead of the clock)
    const thisHour = Math.floor(Date.now() / hourMs) * hourMs;
    const hours = [thisHour - 2 * hourMs, thisHour - hourMs];

    before(async () => {
        // Prepare: two router batches, each with 2 webhooks per provider per hour (12 per batch)
        rt = await createRuntime(config, { suite: "arch" });
        s3 = localClients(services.awsEndpoint).s3;
        puts = countCalls(s3);
        const route = createRouter({ config: rt.resources.router, sqs: rt.clients.sqs, s3, secrets: cachedSecretReader(rt.clients.secrets) });
        for (let batch = 0; batch < 2; batch++) {
            const batchWebhooks: SignedWebhook[] = [];
            for (const provider of ["stripe", "github", "acme"]) {
                for (const [h, hour] of hours.entries()) {
                    for (let i = 0; i < 2; i++) {
                        const id = `${provider}-${batch}-${h}-${i}`;
                        const body = provider === "github" ? `{"action":"created","n":"${id}"}` : `{"id":"${id}","type":"thing.done","text":"ünïcödé ${i}"}`;
                        batchWebhooks.push(signedWebhook(rt.provider(provider), body, rt.secrets[provider][0], { receivedAt: hour + 60_000 * (batch * 4 + h * 2 + i + 1), headers: provider === "github" ? { "X-GitHub-Delivery": id } : {} }));
                    }
                }
            }
            webhooks.push(...batchWebhooks);
            // Act
            const putsBefore = puts.PutObjectCommand ?? 0;
            results.push(await route(recordsFor(batchWebhooks)));
            putsPerBatch.push((puts.PutObjectCommand ?? 0) - putsBefore);
        }
    });

    it("GIVEN two batches of 12 webhooks over 3 providers and 2 hours WHEN routed THEN each batch writes 6 archive objects (one per provider and hour), not 12", () => {
        expect(results.map((r) => [r.failures.length, r.report.accepted, r.report.calls.archive])).to.deep.equal([
            [0, 12, 6],
            [0, 12, 6],
        ]);
        expect(putsPerBatch).to.deep.equal([6, 6]);
    });

    it("GIVEN the archive THEN raw/ holds 12 objects under provider=/dt=/hour= partitions that match the edge time of every line", async () => {
        const keys = await listKeys(rt.clients.s3, rt.resources.bucket, "raw/");
        expect(keys).to.have.length(12);
        for (const key of keys) expect(key).to.match(/^raw\/provider=(stripe|github|acme)\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/\d+-[0-9a-f-]{36}\.ndjson\.gz$/);
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "raw/");
        for (const l of lines) {
            const iso = new Date(l.receivedAt).toISOString();
            expect(l.key, l.requestId).to.contain(`raw/provider=${l.provider}/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`);
        }
        // 2 batches x 3 providers x 2 hours, 2 lines each
        expect(Object.values(lines.reduce<Record<string, number>>((acc, l) => ({ ...acc, [l.key]: (acc[l.key] ?? 0) + 1 }), {}))).to.deep.equal(Array(12).fill(2));
    });

    it("GIVEN the archive THEN every accepted request is there once, with its exact bytes, declared headers, edge metadata, event id and lane", async () => {
        const lines = await readArchive(rt.clients.s3, rt.resources.bucket, "raw/");
        expect(lines.map((l) => l.requestId).sort()).to.deep.equal(webhooks.map((w) => w.requestId).sort());
        for (const w of webhooks) {
            const line = lines.find((l) => l.requestId === w.requestId)!;
            const declared = rt.provider(w.provider).headers;
            expect(byteDiff(archivedBody(line), w.body), w.requestId).to.equal("equal");
            expect(line.headers, w.requestId).to.deep.equal(Object.fromEntries(declared.filter((h) => w.headers[h] !== undefined).map((h) => [h, w.headers[h]])));
            expect({ provider: line.provider, receivedAt: line.receivedAt, sourceIp: line.sourceIp, target: line.target }, w.requestId).to.deep.equal({ provider: w.provider, receivedAt: w.receivedAt, sourceIp: "203.0.113.9", target: `${w.provider}-default` });
            expect(line.eventId, w.requestId).to.be.a("string").and.not.equal("");
        }
    });
});
