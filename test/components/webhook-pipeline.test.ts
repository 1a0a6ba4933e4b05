/**
 * The component's graph under Pulumi's mock runtime: what exists per provider,
 * least privilege, encryption, and what each function would upload.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { MOCK_INTERNAL_KEY, MockSession, plain, RecordedResource, settled, setupMocks, uploadedCode, valueOf } from "../../scripts/pulumi-mocks";
import { bundleOf, lazilyRequiredNotInZip, missingPackages } from "../../scripts/bundles";
import { NotShippedFiles } from "../../components/functions";
import { WorkerMetrics, workerMetricDimensions } from "../../model/metrics";
import type { WebhookPipeline, WebhookPipelineArgs } from "../../components";
import { claimsExpirationDays, ClaimCheckMarginDays, Limits, QueueSettings } from "../../model/constants";

/** A distinctive secret: it must never appear in code or environment. */
const SECRET = "whsec_TEST_SECRET_must_not_leak_8f1c2a";

export function testConfig(): WebhookPipelineArgs {
    return {
        providers: [
            { name: "stripe", plugin: "stripe", secret: SECRET, concurrency: 10, routes: { "invoice.*": "billing", "radar.*": "drop" }, lanes: { billing: { concurrency: 2, ordering: true, batchSize: 10 } } },
            { name: "github", plugin: "github", secret: [SECRET + "-old", SECRET + "-new"], concurrency: 3 },
            { name: "slack", plugin: "slack", secret: SECRET + "-slack" },
            {
                name: "acme",
                plugin: "hmac",
                secret: SECRET + "-acme",
                signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex", prefix: "sha256=" },
                eventIdPath: "id",
                eventTypePath: "type",
                maxReceiveCount: 8,
            },
        ],
    };
}

describe("WebhookPipeline (mocks)", function () {
    this.timeout(120_000);
    let session: MockSession;
    let pipeline: WebhookPipeline;
    const mine = (type: string) => session.byType(type).filter((r) => r.name.startsWith("wp-"));
    const one = (type: string, name: string): RecordedResource => {
        const found = mine(type).filter((r) => r.name === name);
        expect(found, `${type} ${name}`).to.have.length(1);
        return found[0];
    };

    before(async () => {
        session = await setupMocks();
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("wp", testConfig());
        await valueOf(pipeline.webhookUrls);
        await valueOf(pipeline.queueUrls);
        // Let every function finish serializing before the graph is inspected.
        await Promise.all(mine("aws:lambda/function:Function").map((f) => uploadedCode(f)));
        // Routes to ingress functions register only once those functions' ARNs resolve.
        await settled();
    });

    describe("GIVEN four providers, one of them declared in config alone", () => {
        it("THEN each provider has a POST route at /webhooks/<name>", () => {
            const routes = mine("aws:apigatewayv2/route:Route").map((r) => r.inputs.routeKey).sort();
            expect(routes).to.deep.equal(["POST /webhooks/acme", "POST /webhooks/github", "POST /webhooks/slack", "POST /webhooks/stripe"]);
        });

        it("THEN direct providers use the SQS-SendMessage integration and map their declared headers", () => {
            const github = one("aws:apigatewayv2/integration:Integration", "wp-github-integration");
            expect(github.inputs.integrationSubtype).to.equal("SQS-SendMessage");
            expect(github.inputs.requestParameters.MessageBody).to.equal("$request.body");
            const attributes = JSON.parse(github.inputs.requestParameters.MessageAttributes);
            expect(Object.keys(attributes).sort()).to.deep.equal(["h.x-github-delivery", "h.x-github-event", "h.x-hub-signature-256", "wp-provider", "wp-received-at", "wp-request-id", "wp-source-ip"]);
            expect(attributes["wp-provider"]).to.deep.equal({ DataType: "String", StringValue: "github" });
            expect(attributes["h.x-hub-signature-256"]).to.deep.equal({ DataType: "String", StringValue: "=${request.header.x-hub-signature-256}" });
            expect(Object.keys(attributes).length).to.be.at.most(10);

            const acme = JSON.parse(one("aws:apigatewayv2/integration:Integration", "wp-acme-integration").inputs.requestParameters.MessageAttributes);
            expect(acme).to.have.property("h.x-acme-signature");
        });

        it("THEN a provider with a handshake (slack) gets an ingress function on its route", () => {
            const slack = one("aws:apigatewayv2/integration:Integration", "wp-slack-integration");
            expect(slack.inputs.integrationType).to.equal("AWS_PROXY");
            expect(slack.inputs.integrationSubtype).to.equal(undefined);
            expect(slack.inputs.integrationUri).to.match(/wp-slack-ingress-fn/);
            one("aws:lambda/permission:Permission", "wp-slack-ingress-invoke");
        });

        it("THEN every lane has a queue, a DLQ, a worker and a mapping with its concurrency", () => {
            const lanes = ["stripe-default", "stripe-billing", "github-default", "slack-default", "acme-default"];
            for (const lane of lanes) {
                one("aws:sqs/queue:Queue", `wp-${lane}-queue`);
                one("aws:sqs/queue:Queue", `wp-${lane}-dlq`);
                one("aws:lambda/function:Function", `wp-${lane}-worker-fn`);
            }
            const concurrency = Object.fromEntries(
                mine("aws:lambda/eventSourceMapping:EventSourceMapping").map((m) => [m.name, m.inputs.scalingConfig.maximumConcurrency]),
            );
            expect(concurrency).to.deep.equal({
                "wp-router-trigger": 10,
                "wp-stripe-default-worker-trigger": 10,
                "wp-stripe-billing-worker-trigger": 2,
                "wp-github-default-worker-trigger": 3,
                "wp-slack-default-worker-trigger": 5,
                "wp-acme-default-worker-trigger": 5,
            });
        });

        it("THEN every mapping reports batch item failures", () => {
            for (const m of mine("aws:lambda/eventSourceMapping:EventSourceMapping")) {
                expect(m.inputs.functionResponseTypes, m.name).to.deep.equal(["ReportBatchItemFailures"]);
            }
        });

        it("THEN the ordered lane is FIFO with a .fifo name under 80 characters, others are standard", () => {
            const billing = one("aws:sqs/queue:Queue", "wp-stripe-billing-queue");
            expect(billing.inputs.fifoQueue).to.equal(true);
            expect(billing.inputs.name).to.match(/\.fifo$/);
            expect(billing.inputs.name.length).to.be.at.most(80);
            expect(one("aws:sqs/queue:Queue", "wp-stripe-billing-dlq").inputs.fifoQueue).to.equal(true);
            expect(one("aws:sqs/queue:Queue", "wp-github-default-queue").inputs.fifoQueue).to.equal(undefined);
        });

        it("THEN every non-DLQ queue has a redrive policy with its maxReceiveCount, and every queue is encrypted", () => {
            const queues = mine("aws:sqs/queue:Queue");
            expect(queues).to.have.length(12); // catch-all + 5 lanes, each with a DLQ
            for (const q of queues) {
                expect(q.inputs.sqsManagedSseEnabled, q.name).to.equal(true);
                if (q.name.endsWith("-dlq")) {
                    expect(q.inputs.redrivePolicy, q.name).to.equal(undefined);
                    continue;
                }
                const redrive = JSON.parse(q.inputs.redrivePolicy);
                expect(redrive.deadLetterTargetArn, q.name).to.match(/-dlq/);
            }
            expect(JSON.parse(one("aws:sqs/queue:Queue", "wp-acme-default-queue").inputs.redrivePolicy).maxReceiveCount).to.equal(8);
            expect(JSON.parse(one("aws:sqs/queue:Queue", "wp-github-default-queue").inputs.redrivePolicy).maxReceiveCount).to.equal(5);
        });

        it("THEN every queue and DLQ takes the largest message the code sends (the provider default is 256 KiB)", () => {
            const queues = mine("aws:sqs/queue:Queue");
            expect(queues).to.have.length(12);
            for (const q of queues) expect(q.inputs.maxMessageSize, q.name).to.equal(Limits.sqsMaxMessageBytes);
            expect(Limits.sqsMaxMessageBytes).to.equal(1024 * 1024);
        });

        it("THEN queues keep messages 4 days, DLQs 14, and claim checks outlive both with a margin", () => {
            for (const q of mine("aws:sqs/queue:Queue")) {
                expect(q.inputs.messageRetentionSeconds, q.name).to.equal(q.name.endsWith("-dlq") ? QueueSettings.dlqRetentionSeconds : QueueSettings.retentionSeconds);
            }
            const rules = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "wp-archive-lifecycle").inputs.rules;
            const claims = rules.find((r: { id: string }) => r.id === "claims-expire");
            expect(claims.filter).to.deep.equal({ prefix: "claims/" });
            // A FIFO lane message can wait in its queue, then as long again in its DLQ (the enqueue time resets there).
            const longestLifeDays = (QueueSettings.retentionSeconds + QueueSettings.dlqRetentionSeconds) / 86400;
            expect(claims.expiration.days).to.equal(claimsExpirationDays);
            expect(claims.expiration.days).to.be.at.least(longestLifeDays + ClaimCheckMarginDays);
            expect(claims.expiration.days).to.equal(21);
        });

        it("THEN queue visibility is 6x the function timeout", () => {
            expect(one("aws:sqs/queue:Queue", "wp-github-default-queue").inputs.visibilityTimeoutSeconds).to.equal(180);
            expect(one("aws:lambda/function:Function", "wp-github-default-worker-fn").inputs.timeout).to.equal(30);
            expect(one("aws:sqs/queue:Queue", "wp-catch-all-queue").inputs.visibilityTimeoutSeconds).to.equal(360);
        });

        it("THEN each provider's secret lives in Secrets Manager as a Pulumi secret", async () => {
            expect(mine("aws:secretsmanager/secret:Secret").map((s) => s.name).sort()).to.deep.equal(["wp-acme-secret", "wp-github-secret", "wp-internal-key", "wp-slack-secret", "wp-stripe-secret"]);
            const versions = mine("aws:secretsmanager/secretVersion:SecretVersion");
            expect(versions).to.have.length(5);
            const github = one("aws:secretsmanager/secretVersion:SecretVersion", "wp-github-secret-value");
            expect(JSON.parse(plain<string>(github.inputs.secretString))).to.deep.equal({ secrets: [SECRET + "-old", SECRET + "-new"] });
        });

        it("THEN the pipeline-internal key is one secret, created with a random key as a Pulumi secret and never rewritten by a later update", async () => {
            // (the mocks do not see resource options: ignoreChanges on the version is not asserted here)
            const version = one("aws:secretsmanager/secretVersion:SecretVersion", "wp-internal-key-value");
            expect(JSON.stringify(version.inputs.secretString)).to.include("4dabf18193072939515e22adb298388d"); // Pulumi's secret marker
            expect(JSON.parse(plain<string>(version.inputs.secretString))).to.deep.equal({ secrets: [MOCK_INTERNAL_KEY] });
            expect(await valueOf(pipeline.internalKeySecretArn)).to.match(/^arn:aws:secretsmanager:.*wp-internal-key/);
        });

        it("THEN the archive bucket is encrypted, private, TLS-only and tiered", () => {
            const sse = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "wp-archive-sse");
            expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("AES256");
            const block = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wp-archive-private");
            expect([block.inputs.blockPublicAcls, block.inputs.blockPublicPolicy, block.inputs.ignorePublicAcls, block.inputs.restrictPublicBuckets]).to.deep.equal([true, true, true, true]);
            const policy = JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", "wp-archive-tls-only").inputs.policy);
            expect(policy.Statement[0]).to.deep.include({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": false } } });
            const lifecycle = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "wp-archive-lifecycle");
            expect(lifecycle.inputs.rules[0].transitions).to.deep.equal([{ days: 30, storageClass: "STANDARD_IA" }]);
        });

        it("THEN the idempotency table has a TTL and is encrypted", () => {
            const table = one("aws:dynamodb/table:Table", "wp-idempotency");
            expect(table.inputs.ttl).to.deep.equal({ attributeName: "expiration", enabled: true });
            expect(table.inputs.serverSideEncryption).to.deep.equal({ enabled: true });
            expect(table.inputs.hashKey).to.equal("id");
        });

        it("THEN the stage throttles and writes access logs; there is one dashboard; each queue and function has alarms", () => {
            const stage = one("aws:apigatewayv2/stage:Stage", "wp-api-stage");
            expect(stage.inputs.defaultRouteSettings).to.deep.equal({ throttlingRateLimit: 1000, throttlingBurstLimit: 2000 });
            expect(stage.inputs.accessLogSettings.destinationArn).to.match(/api-access-logs/);
            expect(mine("aws:cloudwatch/dashboard:Dashboard")).to.have.length(1);
            const alarms = mine("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name);
            expect(alarms).to.include.members(["wp-github-default-dlq-alarm", "wp-github-default-age-alarm", "wp-github-default-errors-alarm", "wp-catch-all-dlq-alarm", "wp-router-errors-alarm"]);
            // 2 queue alarms per queue pair, 1 error alarm per queue consumer, 1 failures and 1 retention alarm per lane
            expect(alarms).to.have.length(2 * 6 + 6 + 5 + 5);
        });

        it("THEN each lane has a handler-failures alarm on exactly the metric its worker publishes: namespace, name and the complete dimension set of model/metrics.ts", () => {
            const lanes = [["stripe", "default"], ["stripe", "billing"], ["github", "default"], ["slack", "default"], ["acme", "default"]];
            const failures = mine("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-failures-alarm"));
            expect(failures.map((a) => a.name).sort()).to.deep.equal(lanes.map(([p, l]) => `wp-${p}-${l}-failures-alarm`).sort());
            for (const [provider, lane] of lanes) {
                const alarm = one("aws:cloudwatch/metricAlarm:MetricAlarm", `wp-${provider}-${lane}-failures-alarm`).inputs;
                expect(alarm, `${provider}-${lane}`).to.deep.include({
                    namespace: WorkerMetrics.namespace,
                    metricName: WorkerMetrics.names.handlerFailures,
                    dimensions: workerMetricDimensions({ lane: `${provider}-${lane}`, provider }),
                    statistic: "Sum",
                    threshold: 0,
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                });
                expect(alarm.dimensions).to.deep.equal({ service: "worker", lane: `${provider}-${lane}`, provider });
            }
            // The Lambda Errors alarms stay: a crash or timeout publishes no metric.
            expect(mine("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-errors-alarm"))).to.have.length(6);
        });

        it("THEN outputs name each provider's URL and every queue", async () => {
            expect(await valueOf(pipeline.webhookUrls)).to.deep.equal({
                stripe: "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhooks/stripe",
                github: "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhooks/github",
                slack: "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhooks/slack",
                acme: "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhooks/acme",
            });
            expect(Object.keys(await valueOf(pipeline.queueUrls)).sort()).to.deep.equal(["acme-default", "catch-all", "github-default", "slack-default", "stripe-billing", "stripe-default"]);
            expect(await valueOf(pipeline.bucketName)).to.match(/^wp-archive/);
        });
    });

    describe("least privilege", () => {
        const policies = () => mine("aws:iam/rolePolicy:RolePolicy").map((p) => ({ name: p.name, doc: JSON.parse(p.inputs.policy) }));

        it("THEN no managed policy is attached to any role", () => {
            expect(mine("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
            for (const role of mine("aws:iam/role:Role")) expect(role.inputs.managedPolicyArns, role.name).to.equal(undefined);
        });

        it("THEN every function has its own role and there are exactly the functions expected", () => {
            const fns = mine("aws:lambda/function:Function").map((f) => f.name).sort();
            expect(fns).to.deep.equal([
                "wp-acme-default-worker-fn",
                "wp-github-default-worker-fn",
                "wp-router-fn",
                "wp-slack-default-worker-fn",
                "wp-slack-ingress-fn",
                "wp-stripe-billing-worker-fn",
                "wp-stripe-default-worker-fn",
            ]);
            const roles = new Set(mine("aws:lambda/function:Function").map((f) => f.inputs.role));
            expect(roles.size).to.equal(fns.length);
        });

        it("THEN no statement uses a wildcard action", () => {
            for (const { name, doc } of policies()) {
                for (const s of doc.Statement) {
                    for (const action of [].concat(s.Action)) expect(action, `${name}: ${action}`).to.not.match(/\*/);
                }
            }
        });

        it("THEN the router may consume the catch-all, send to lanes, write archive prefixes and read provider secrets", () => {
            const router = policies().find((p) => p.name === "wp-router-policy")!.doc;
            const bySid = Object.fromEntries(router.Statement.map((s: any) => [s.Sid, s]));
            expect(Object.keys(bySid).sort()).to.deep.equal(["ConsumeCatchAll", "OwnLogs", "ReadIngressClaimChecks", "ReadInternalKey", "ReadSigningSecrets", "SendToLanes", "WriteArchive"]);
            expect(bySid.ConsumeCatchAll.Action).to.deep.equal(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]);
            expect(bySid.ConsumeCatchAll.Resource).to.match(/wp-catch-all-queue/);
            expect(bySid.SendToLanes.Action).to.deep.equal(["sqs:SendMessage"]);
            expect(bySid.SendToLanes.Resource).to.have.length(5);
            expect(bySid.WriteArchive.Resource.map((r: string) => r.split(":::")[1].replace(/^[^/]+/, ""))).to.deep.equal(["/raw/*", "/quarantine/*", "/claims/*"]);
            expect(bySid.ReadSigningSecrets.Action).to.deep.equal(["secretsmanager:GetSecretValue"]);
            expect(bySid.ReadSigningSecrets.Resource).to.have.length(4);
            expect(bySid.ReadInternalKey).to.deep.include({ Action: ["secretsmanager:GetSecretValue"] });
            expect(bySid.ReadInternalKey.Resource).to.match(/wp-internal-key/);
        });

        it("THEN an ingress function may send to the catch-all, write its claim checks, and read its provider's secret and the internal key", () => {
            const ingress = policies().find((p) => p.name === "wp-slack-ingress-policy")!.doc;
            const bySid = Object.fromEntries(ingress.Statement.map((s: any) => [s.Sid, s]));
            expect(Object.keys(bySid).sort()).to.deep.equal(["OwnLogs", "ReadInternalKey", "ReadSigningSecret", "SendToCatchAll", "WriteClaimChecks"]);
            expect(bySid.ReadSigningSecret.Resource).to.match(/wp-slack-secret/);
            expect(bySid.ReadInternalKey).to.deep.include({ Action: ["secretsmanager:GetSecretValue"] });
            expect(bySid.ReadInternalKey.Resource).to.match(/wp-internal-key/);
        });

        it("THEN workers and API Gateway cannot read the internal key", () => {
            for (const { name, doc } of policies()) {
                if (name === "wp-router-policy" || /-ingress-policy$/.test(name)) continue;
                expect(JSON.stringify(doc), name).to.not.match(/internal-key/);
            }
        });

        it("THEN a worker may consume only its lane, read its provider's claim checks and use the idempotency table", () => {
            const worker = policies().find((p) => p.name === "wp-github-default-worker-policy")!.doc;
            const bySid = Object.fromEntries(worker.Statement.map((s: any) => [s.Sid, s]));
            expect(Object.keys(bySid).sort()).to.deep.equal(["ConsumeLane", "Idempotency", "OwnLogs", "ReadClaimChecks"]);
            expect(bySid.ConsumeLane.Resource).to.match(/wp-github-default-queue/);
            expect(bySid.ReadClaimChecks.Resource[0]).to.match(/\/claims\/github\/\*$/);
            expect(bySid.Idempotency.Action).to.deep.equal(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]);
        });

        it("THEN only this account's API may assume the API Gateway role, when the service says who it acts for", () => {
            const trust = JSON.parse(one("aws:iam/role:Role", "wp-api-role").inputs.assumeRolePolicy);
            expect(trust).to.deep.equal({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: "apigateway.amazonaws.com" },
                        Action: "sts:AssumeRole",
                        Condition: {
                            StringEqualsIfExists: { "aws:SourceAccount": "123456789012" },
                            ArnLikeIfExists: { "aws:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*" },
                        },
                    },
                ],
            });
            // Lambda execution roles: only the Lambda service principal (protection is iam:PassRole; see components/iam.ts).
            const worker = JSON.parse(one("aws:iam/role:Role", "wp-github-default-worker-role").inputs.assumeRolePolicy);
            expect(worker).to.deep.equal({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });
        });

        it("THEN API Gateway may only send to the catch-all queue", () => {
            const api = policies().find((p) => p.name === "wp-api-policy")!.doc;
            expect(api.Statement).to.have.length(1);
            expect(api.Statement[0].Action).to.deep.equal(["sqs:SendMessage"]);
            expect(api.Statement[0].Resource).to.match(/wp-catch-all-queue/);
        });
    });

    describe("what each function uploads", () => {
        it("THEN every function runs on the newest Node.js runtime with an explicit role, JSON logs and its own log group", () => {
            for (const fn of mine("aws:lambda/function:Function")) {
                expect(fn.inputs.runtime, fn.name).to.equal("nodejs24.x");
                expect(fn.inputs.loggingConfig.logFormat).to.equal("JSON");
                expect(fn.inputs.role).to.match(/:role\//);
            }
        });

        it("THEN no secret value (signing secret, internal key) appears in any function's code or environment", async () => {
            for (const fn of mine("aws:lambda/function:Function")) {
                const { indexJs } = await uploadedCode(fn);
                expect(indexJs.includes("TEST_SECRET"), `${fn.name} code`).to.equal(false);
                expect(indexJs.includes(MOCK_INTERNAL_KEY), `${fn.name} code`).to.equal(false);
                expect(JSON.stringify(fn.inputs.environment ?? {}).includes("TEST_SECRET"), `${fn.name} env`).to.equal(false);
                expect(JSON.stringify(fn.inputs.environment ?? {}).includes(MOCK_INTERNAL_KEY), `${fn.name} env`).to.equal(false);
            }
        });

        it("THEN each zip holds what it runs, its AWS SDK clients included (the runtime is relied on for none), without ES-module builds or type declarations, stays under 1 MB, and needs nothing the zip lacks", async () => {
            // The AWS clients' getters (handlers/shared/clients.ts) are serialized whole: each function carries the require of clients it never creates.
            const neverCreated: Record<string, string[]> = { router: ["@aws-sdk/client-dynamodb"], ingress: ["@aws-sdk/client-dynamodb"], worker: ["@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"] };
            const sdk: Record<string, string[]> = {
                router: ["@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"],
                ingress: ["@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"],
                worker: ["@aws-sdk/client-dynamodb", "@aws-sdk/client-s3", "@aws-sdk/util-dynamodb"],
            };
            for (const fn of mine("aws:lambda/function:Function")) {
                const bundle = await bundleOf(fn);
                const kind = /-(router|ingress|worker)-fn$/.exec(fn.name)![1];
                const packages = new Set(bundle.paths.map((p) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1]));
                expect(missingPackages(bundle), fn.name).to.deep.equal([]);
                expect(lazilyRequiredNotInZip(bundle), fn.name).to.deep.equal(neverCreated[kind]);
                expect(bundle.zipBytes, fn.name).to.be.below(1_000_000);
                expect(sdk[kind].filter((p) => !packages.has(p)), `${fn.name} lacks`).to.deep.equal([]);
                expect([...packages].filter((p) => /^(@pulumi\/|kafkajs$|aws-msk-iam-sasl-signer-js$|zod$|yaml$)/.test(p!)), fn.name).to.deep.equal([]);
                expect(bundle.paths.filter((p) => NotShippedFiles.test(p)), fn.name).to.deep.equal([]);
            }
        });
    });
});

describe("WebhookPipeline validation (mocks)", function () {
    this.timeout(60_000);
    before(async () => {
        await setupMocks();
    });

    it("GIVEN a bad config WHEN the component is created THEN one ResourceError lists every problem by path", async () => {
        const { WebhookPipeline } = await import("../../components");
        const config = testConfig();
        const bad = {
            ...config,
            providers: [{ ...config.providers[0], concurrency: 1 }, { ...config.providers[1], name: "stripe" }, { ...config.providers[2], colour: "red" }],
        } as unknown as WebhookPipelineArgs;
        let error: unknown;
        try {
            new WebhookPipeline("bad", bad);
        } catch (err) {
            error = err;
        }
        expect(error).to.be.instanceOf(pulumi.ResourceError);
        const message = (error as Error).message;
        // Every problem in one message: the schema's and the cross-field checks' (the duplicate name) together.
        expect(message).to.include("providers[0] (stripe).concurrency: 1 is below the minimum of 2 (must be between 2 and 1000)");
        expect(message).to.include('providers[1] (stripe).name: "stripe" is already used by providers[0]');
        expect(message).to.include('providers[2] (slack): unknown key "colour"');
    });
});
