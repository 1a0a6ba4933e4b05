/**
 * The Pulumi program as `pulumi preview` runs it: index.ts with the dev
 * stack's config, under the mock runtime (what `npm run synth` prints).
 */
import { expect } from "chai";
import { loadStackConfig } from "../../components/stack-config";
import { ConfigError } from "../../model/config";
import { readStackConfig, readStackFile, resolveStackFile } from "../../model/stack-config";
import { synth, SynthResult } from "../../scripts/synth";
import * as fs from "fs";
import * as path from "path";
import { nameListing } from "../support/names";

describe("the program with Pulumi.dev.yaml (mocks)", function () {
    this.timeout(180_000);
    let result: SynthResult;

    before(async () => {
        const { config, secretKeys } = readStackFile(resolveStackFile("dev").file);
        result = await synth("dev", config, secretKeys);
    });

    it("GIVEN the dev stack THEN every declared provider gets a URL, including the one declared in config alone", () => {
        expect(Object.keys(result.outputs.webhookUrls as object).sort()).to.deep.equal(["acme", "github", "shopify", "slack", "stripe", "svix"]);
        expect((result.outputs.webhookUrls as Record<string, string>).acme).to.match(/\/webhooks\/acme$/);
    });

    it("THEN stack outputs hold the base URL, queue URLs, the bucket, the table and the internal key's secret (for npm run ops)", () => {
        expect(Object.keys(result.outputs).sort()).to.deep.equal(["apiEndpointUrl", "bucketName", "dlqUrls", "eventSourceMappings", "idempotencyTable", "internalKeySecretArn", "kafkaTopics", "lanePaused", "queueUrls", "url", "webhookUrls"]);
        // No api.domain in the dev stack: the base URL is the generated one.
        expect(result.outputs.url).to.equal(result.outputs.apiEndpointUrl);
        expect(result.outputs.internalKeySecretArn).to.match(/^arn:aws:secretsmanager:.*webhooks-internal-key/);
        expect(Object.keys(result.outputs.queueUrls as object)).to.include.members(["catch-all", "stripe-default", "stripe-billing", "acme-default"]);
        // ops pause|resume --aws: every lane's mapping, and what the stack configures (the dev stack pauses nothing).
        const lanes = Object.keys(result.outputs.lanePaused as object).sort();
        expect(Object.keys(result.outputs.eventSourceMappings as object).sort()).to.deep.equal(lanes).and.to.include.members(["stripe-default", "stripe-billing", "acme-default"]);
        expect(Object.values(result.outputs.lanePaused as object)).to.deep.equal(lanes.map(() => false));
    });

    it("THEN every function's zip is under 1 MB and needs nothing it lacks", () => {
        expect(result.functions.length).to.equal(1 + 1 + 7); // router, slack ingress, 7 lanes
        for (const f of result.functions) {
            expect(f.missing, f.name).to.deep.equal([]);
            expect(f.zipBytes, f.name).to.be.below(1_000_000);
        }
    });

    it("THEN every resource keeps the physical name it had before names were fitted (names are permanent)", () => {
        const before = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "test", "program", "fixtures", "dev-names.json"), "utf8"));
        // Resources added since (new alarms, secrets) have names of their own; every one recorded then must still be there, named the same.
        const now = new Set(nameListing(result.resources));
        expect((before as string[]).filter((line) => !now.has(line))).to.deep.equal([]);
    });

    it("THEN no secret from the stack file reaches a function's environment", () => {
        for (const r of result.resources.filter((x) => x.type === "aws:lambda/function:Function")) {
            expect(JSON.stringify(r.inputs.environment ?? {})).to.not.match(/secret:|v1:/);
        }
    });
});

describe("stack config reading", () => {
    it("GIVEN a provider secret in plain text THEN the error says how to store it as a secret", () => {
        const all = { "webhook-pipeline:providers": JSON.stringify([{ name: "a", plugin: "github", secret: "plain" }]) };
        expect(() => loadStackConfig(all, () => false)).to.throw(ConfigError, "providers[0].secret: is stored in plain text (run `pulumi config set --secret --path 'webhook-pipeline:providers[0].secret' <value>`)");
    });

    it("GIVEN an unknown key in the namespace THEN it is an error together with the schema's problems", () => {
        const all = { "webhook-pipeline:provider": "[]", "webhook-pipeline:providers": JSON.stringify([{ name: "a", plugin: "github", concurrency: 0 }]), "aws:region": "us-east-1" };
        let error: ConfigError | undefined;
        try {
            loadStackConfig(all, () => true);
        } catch (err) {
            error = err as ConfigError;
        }
        expect(error?.problems).to.deep.equal([
            'provider: unknown key "webhook-pipeline:provider" (known: providers, router, api, archive, kafka, alarmTopicArn)',
            "providers[0] (a).concurrency: 0 is below the minimum of 2 (must be between 2 and 1000)",
        ]);
    });

    it("GIVEN secure values THEN they are kept out of the values read, and the key is marked secret", () => {
        const { config, secretKeys } = readStackFile(resolveStackFile("dev").file);
        expect(secretKeys).to.deep.equal(["webhook-pipeline:providers"]);
        const { values, problems } = readStackConfig(config, (k) => secretKeys.includes(k));
        expect(problems).to.deep.equal([]);
        expect(JSON.stringify(values)).to.not.include("v1:");
    });
});
