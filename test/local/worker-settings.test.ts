/**
 * Worker settings in the local backend (`npm start`): handler secrets come
 * from WEBHOOK_HANDLER_SECRET_<PROVIDER>[_<LANE>]_<NAME> or are generated once
 * and kept, are put into the emulator's Secrets Manager per lane, and the SQS
 * lane runner's handler reads them through context.secrets, with the lane's
 * environment as context.env.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { HandlerContext, WebhookEvent } from "../../handlers/app/types";
import { startSqsLaneRunner } from "../../local/lane-runners";
import { createLocalLogger, LogLevel } from "../../local/log";
import { createLocalResources, localClients } from "../../local/resources";
import { handlerSecretsFile, loadLocalStack } from "../../local/stack";
import { PipelineStats } from "../../local/stats";
import { LaneMessageVersion } from "../../model/lane-message";
import { uniquePrefix } from "../support/runtime";

const stackYaml = `config:
  webhook-pipeline:providers:
    - name: acme
      plugin: github
      secret:
        secure: v1:c2lnbmluZw==
      secrets:
        DB_PASSWORD:
          secure: v1:cHJvdmlkZXItcHc=
      environment:
        DB_HOST: db.internal
      routes:
        "invoice.*": billing
      lanes:
        billing:
          environment:
            DB_NAME: billing
`;

describe("local worker settings (npm start)", function () {
    this.timeout(60_000);
    let dir: string;
    let file: string;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "worker-settings-"));
        file = path.join(dir, "Pulumi.settings.yaml");
        fs.writeFileSync(file, stackYaml);
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("GIVEN one lane's secret in the environment WHEN the stack loads twice THEN that lane uses it, the other gets a generated value that is kept", () => {
        const env = { WEBHOOK_PIPELINE_LOCAL_DIR: dir, WEBHOOK_HANDLER_SECRET_ACME_BILLING_DB_PASSWORD: "from-env" };
        const first = loadLocalStack(file, env, "ws1");
        expect(first.handlerSecrets["acme-billing"]).to.deep.equal({ DB_PASSWORD: "from-env" });
        expect(first.handlerSecrets["acme-default"].DB_PASSWORD).to.match(/^dev_[0-9a-f]{32}$/);
        expect(first.generatedHandlerSecrets).to.deep.equal(["WEBHOOK_HANDLER_SECRET_ACME_DEFAULT_DB_PASSWORD"]);
        expect(JSON.parse(fs.readFileSync(handlerSecretsFile(env), "utf8"))).to.deep.equal({ "acme-default": first.handlerSecrets["acme-default"] });
        // The provider-wide name applies to every lane without its own.
        const again = loadLocalStack(file, { WEBHOOK_PIPELINE_LOCAL_DIR: dir, WEBHOOK_HANDLER_SECRET_ACME_DB_PASSWORD: "provider-wide" }, "ws1");
        expect(again.handlerSecrets).to.deep.equal({ "acme-default": { DB_PASSWORD: "provider-wide" }, "acme-billing": { DB_PASSWORD: "provider-wide" } });
        expect(loadLocalStack(file, { WEBHOOK_PIPELINE_LOCAL_DIR: dir }, "ws1").handlerSecrets["acme-default"]).to.deep.equal(first.handlerSecrets["acme-default"]);
    });

    it("GIVEN the local resources WHEN the billing lane's runner handles a message THEN its handler reads the secret from moto and its environment", async () => {
        // GIVEN
        const env = { WEBHOOK_PIPELINE_LOCAL_DIR: dir, WEBHOOK_HANDLER_SECRET_ACME_BILLING_DB_PASSWORD: "billing-pw" };
        const prefix = uniquePrefix("ws");
        const stack = loadLocalStack(file, env, prefix);
        const clients = localClients(process.env.AWS_ENDPOINT_URL!);
        const resources = await createLocalResources(stack.model, stack.secrets, clients, { prefix, handlerSecrets: stack.handlerSecrets });
        const lane = stack.model.lanes.find((l) => l.id === "acme-billing")!;
        const seen: { secret: string; env: HandlerContext["env"] }[] = [];
        const handler = async (_event: WebhookEvent, context: HandlerContext) => void seen.push({ secret: await context.secrets.get("DB_PASSWORD"), env: context.env });
        const stats = new PipelineStats(["acme"], { "acme-default": "acme", "acme-billing": "acme" });
        const runner = await startSqsLaneRunner({ lane, resources, clients, handler, stats, logger: createLocalLogger(LogLevel.SILENT) });
        try {
            // WHEN a lane message arrives
            const message = { v: LaneMessageVersion, provider: "acme", lane: lane.id, requestId: "r-1", eventId: `evt-${prefix}`, eventType: "invoice.paid", receivedAt: Date.now(), archiveKey: "raw/x", body: "{}" };
            await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.lanes[lane.id].queue.url, MessageBody: JSON.stringify(message) }));
            for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
        } finally {
            await runner.stop();
        }
        // THEN
        expect(seen).to.deep.equal([{ secret: "billing-pw", env: { DB_HOST: "db.internal", DB_NAME: "billing" } }]);
        expect(resources.workers[lane.id].secrets).to.have.keys(["DB_PASSWORD"]);
        expect(JSON.stringify(resources.workers)).to.not.include("billing-pw");
    });
});
