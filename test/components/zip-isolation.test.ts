/**
 * What is in each zip: every serialized function runs in a fresh Node
 * process that can resolve only its zip's own files (the paths Pulumi's
 * computeCodePaths gives its code archive, with the same excludes) and the
 * packages we rely on the Lambda runtime for (components/functions.ts
 * `RuntimeProvidedPackages`), nothing from the repository's node_modules
 * (scripts/bundles.ts `isolateBundle`). The program runs under the mock runtime
 * while its queues, bucket, secrets and table exist in moto, and each
 * function is called far enough to load every module it needs, the lazy ones
 * included: the ingress reads a secret and sends to SQS, the router archives
 * to S3 and writes a claim check, the worker runs Powertools idempotency's
 * DynamoDB persistence (@aws-sdk/util-dynamodb) and reads the claim check
 * (@aws-sdk/client-s3, loaded only then).
 */
import { expect } from "chai";
import { deleteAll as deleteAllFrom, receiveAll as receiveAllFrom } from "../support/queue-io";
import { Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { SQSBatchResponse } from "aws-lambda";
import { RuntimeProvidedPackages } from "../../components/functions";
import { bundleOf, IsolatedBundle, isolateBundle, IsolatedRun } from "../../scripts/bundles";
import { functionEnv, packagesLoaded } from "../support/zip";
import { motoProvisioner } from "../support/moto-provisioner";
import { MockSession, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";
import { toLambdaEvent } from "../../local/sqs-event";
import { encodeEnvelope } from "../../model/envelope";
import { getPlugin } from "../../providers";
import type { WebhookPipeline } from "../../components";

const secret = "zip-isolation-secret";
const acmeHmac = { signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex" }, eventIdPath: "id", eventTypePath: "type" } as const;

describe("zip contents: each function runs alone in a fresh process with only its zip and what the runtime provides (mocks + moto)", function () {
    this.timeout(300_000);
    const sqs = new SQSClient({});
    let session: MockSession;
    let pipeline: WebhookPipeline;
    let queueUrls: Record<string, string>;

    before(async () => {
        session = await setupMocks({ provision: motoProvisioner() });
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("zi", {
            providers: [
                // Slack challenges the endpoint: its route goes through the ingress function.
                { name: "slack", plugin: "slack", secret },
                { name: "acme", plugin: "hmac", secret, ...acmeHmac },
            ],
        });
        queueUrls = await valueOf(pipeline.queueUrls);
        await settled();
    });

    const fn = (name: string) => {
        const found = session.byType("aws:lambda/function:Function").find((f) => f.name === name);
        if (!found) throw new Error(`no function ${name}: ${session.byType("aws:lambda/function:Function").map((f) => f.name).join(", ")}`);
        return found;
    };
    const isolated = new Map<string, IsolatedBundle>();
    /** One call of function `name`'s zip in a fresh process (the zip is laid out once per function). */
    async function run<R>(name: string, event: unknown): Promise<IsolatedRun<R>> {
        if (!isolated.has(name)) {
            const resource = fn(name);
            isolated.set(name, isolateBundle(await bundleOf(resource), { env: functionEnv(resource), provided: RuntimeProvidedPackages }));
        }
        return isolated.get(name)!.run<R>(event);
    }
    after(() => isolated.forEach((b) => b.dispose()));
    const receiveAll = (queueUrl: string, atLeast: number) => receiveAllFrom(sqs, queueUrl, atLeast);
    const deleteAll = (queueUrl: string, messages: Message[]) => deleteAllFrom(sqs, queueUrl, messages);

    /** An HTTP API (payload 2.0) request for a Slack body signed now. */
    function slackRequest(body: string) {
        const signed = getPlugin("slack").sign(Buffer.from(body), secret, Date.now(), "");
        return {
            headers: { "content-type": "application/json", ...Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v])) },
            body,
            isBase64Encoded: false,
            rawPath: "/webhooks/slack",
            requestContext: { requestId: `api-${Date.now()}-${Math.random()}`, timeEpoch: Date.now(), domainName: "hooks.example.com", http: { sourceIp: "198.51.100.4" } },
        };
    }

    it("GIVEN a signed Slack challenge and event, and an acme webhook too large to travel inline WHEN the ingress, router and worker zips run in turn, each alone THEN every call succeeds, each event is processed once, and the lazily loaded SDK packages came from the zip", async () => {
        // WHEN the ingress zip answers a signed url_verification (Secrets Manager) and enqueues an ordinary event (SQS)
        const challenge = await run<{ statusCode: number; body: string }>("zi-slack-ingress-fn", slackRequest(JSON.stringify({ type: "url_verification", challenge: "c-42", token: "t" })));
        expect(challenge.result).to.deep.include({ statusCode: 200, body: "c-42" });
        const enqueued = await run<{ statusCode: number }>("zi-slack-ingress-fn", slackRequest(JSON.stringify({ type: "event_callback", team_id: "T1", event_id: "EvZip1", event: { type: "app_mention" } })));
        expect(enqueued.result.statusCode).to.equal(200);

        // AND an acme webhook of 200 KiB (above the 192 KiB inline limit: the router writes a claim check) arrives by the direct integration
        const acme = getPlugin("hmac", acmeHmac);
        const now = Date.now();
        const acmeBody = Buffer.from(JSON.stringify({ id: `evt_zip_${now}`, type: "order.created", pad: "x".repeat(200 * 1024) }));
        const acmeHeaders = Object.fromEntries(Object.entries(acme.sign(acmeBody, secret, now, "")).map(([k, v]) => [k.toLowerCase(), v]));
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls["catch-all"], ...encodeEnvelope({ provider: "acme", requestId: "r-zip-acme", receivedAt: now, sourceIp: "203.0.113.7", headers: acmeHeaders, body: acmeBody }, acme.headers) }));

        // WHEN the router zip handles the catch-all batch (Secrets Manager, S3 archive and claim check, SQS)
        const inbound = await receiveAll(queueUrls["catch-all"], 2);
        expect(inbound).to.have.length(2);
        const routed = await run<SQSBatchResponse>("zi-router-fn", toLambdaEvent(inbound, "arn:aws:sqs:us-east-1:123456789012:catch-all"));
        await deleteAll(queueUrls["catch-all"], inbound);
        expect(routed.result).to.deep.equal({ batchItemFailures: [] });

        // WHEN each lane's worker zip gets its message, twice (a redelivery)
        for (const [lane, worker] of [["slack-default", "zi-slack-default-worker-fn"], ["acme-default", "zi-acme-default-worker-fn"]]) {
            const messages = await receiveAll(queueUrls[lane], 1);
            expect(messages, lane).to.have.length(1);
            const event = toLambdaEvent(messages, `arn:aws:sqs:us-east-1:123456789012:${lane}`);
            const first = await run<SQSBatchResponse>(worker, event);
            const again = await run<SQSBatchResponse>(worker, event);
            await deleteAll(queueUrls[lane], messages);
            // THEN both succeed
            expect(first.result, lane).to.deep.equal({ batchItemFailures: [] });
            expect(again.result, lane).to.deep.equal({ batchItemFailures: [] });
            // AND Powertools' DynamoDB persistence ran on the zip's own SDK packages
            expect(packagesLoaded(first), lane).to.include.members(["@aws-sdk/client-dynamodb", "@aws-sdk/util-dynamodb", "@aws-lambda-powertools/idempotency"]);
            // AND S3 was loaded exactly when a claim check had to be read
            expect(packagesLoaded(first).includes("@aws-sdk/client-s3"), lane).to.equal(lane === "acme-default");
        }

        // THEN the idempotency table holds one completed record per event
        const { Items = [] } = await new DynamoDBClient({}).send(new ScanCommand({ TableName: await valueOf(pipeline.tableName) }));
        expect(Items.map((i) => i.status?.S)).to.deep.equal(["COMPLETED", "COMPLETED"]);
        // AND the router and the ingress also ran on their zips' own SDK clients
        expect(packagesLoaded(routed)).to.include.members(["@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"]);
        expect(packagesLoaded(challenge)).to.include.members(["@aws-sdk/client-secrets-manager"]);
        expect(packagesLoaded(enqueued)).to.include.members(["@aws-sdk/client-sqs"]);
    });
});
