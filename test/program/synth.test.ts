/**
 * `npm run synth -- --json`: the plan `pulumi up` would carry out, per provider and lane, in a stable order.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as path from "path";
import { repoRoot } from "../../local/stack";
import type { SynthPlan } from "../../scripts/synth-plan";

function synthJson(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot(), "dist", "scripts", "synth.js"), "--stack", "dev", "--json"], { env: { ...process.env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("npm run synth -- --json (dev stack)", function () {
    this.timeout(300_000);
    let first: { code: number | null; stdout: string; stderr: string };
    let second: { code: number | null; stdout: string; stderr: string };
    let out: { stack: string; resources: number; plan: SynthPlan; functions: { name: string }[]; outputs: Record<string, unknown> };

    before(async () => {
        [first, second] = await Promise.all([synthJson(), synthJson()]);
        expect(first.code, first.stderr).to.equal(0);
        out = JSON.parse(first.stdout);
    });

    it("GIVEN two runs THEN the JSON is identical, byte for byte", () => {
        expect(second.code, second.stderr).to.equal(0);
        expect(second.stdout).to.equal(first.stdout);
        expect(out.functions.map((f) => f.name)).to.deep.equal(out.functions.map((f) => f.name).sort());
    });

    it("THEN each provider's lanes carry their queue, DLQ, worker, IAM by resource and alarms", () => {
        const { plan } = out;
        expect(plan.providers.map((p) => [p.name, p.lanes.map((l) => l.lane)])).to.deep.equal([
            ["acme", ["acme-default"]],
            ["github", ["github-default"]],
            ["shopify", ["shopify-default"]],
            ["slack", ["slack-default"]],
            ["stripe", ["stripe-billing", "stripe-default"]],
            ["svix", ["svix-default"]],
        ]);
        const acme = plan.providers[0].lanes[0];
        expect(acme.queue).to.deep.equal({ name: "webhooks-acme-default-queue-abc1234", kind: "standard", retentionSeconds: 345600, visibilitySeconds: 180, maxReceiveCount: 8 });
        expect(acme.dlq).to.deep.include({ name: "webhooks-acme-default-dlq-abc1234", kind: "standard", retentionSeconds: 1209600 });
        const { iam, ...worker } = acme.worker!;
        expect(worker).to.deep.equal({ function: "webhooks-acme-default-worker-fn-abc1234", runtime: "nodejs24.x", architecture: "arm64", memoryMb: 256, timeoutSeconds: 30, concurrency: 3, batchSize: 10 });
        expect(iam).to.deep.include({ resource: "arn:aws:sqs:us-east-1:123456789012:webhooks-acme-default-queue-abc1234", actions: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"] });
        expect(iam.map((g) => g.resource)).to.deep.equal([...iam.map((g) => g.resource)].sort());
        expect(acme.alarms.map((a) => a.name)).to.deep.equal(["webhooks-acme-default-age-alarm", "webhooks-acme-default-dlq-alarm", "webhooks-acme-default-errors-alarm", "webhooks-acme-default-retention-alarm"]);
        const stripe = plan.providers.find((p) => p.name === "stripe")!;
        expect(stripe.lanes.map((l) => [l.queue?.kind, l.dlq?.kind])).to.deep.equal([["fifo", "fifo"], ["fifo", "fifo"]]);
        // Slack answers a handshake: its ingress function, with its own role
        const slack = plan.providers.find((p) => p.name === "slack")!;
        expect(slack.ingress?.iam.map((g) => g.actions).flat()).to.include.members(["sqs:SendMessage", "secretsmanager:GetSecretValue", "s3:PutObject"]);
        expect(plan.router.worker).to.deep.include({ memoryMb: 512, timeoutSeconds: 60, concurrency: 10, batchSize: 500, batchWindowSeconds: 1 });
        expect(plan.router.queue).to.deep.include({ maxReceiveCount: 10, visibilitySeconds: 360 });
        expect(plan.resourceCounts).to.include({ "aws:dynamodb/table:Table": 1, "aws:s3/bucket:Bucket": 1 });
    });
});
