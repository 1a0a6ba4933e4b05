/**
 * Config validation and the pipeline model, without the engine.
 */
import { expect } from "chai";
import { ConfigError, formatPath, parseConfig, validateConfig } from "../../model/config";
import { ApiDefaults, ArchiveDefaults, claimsExpirationDays, Limits, ProviderDefaults, QueueSettings, RouterDefaults } from "../../model/constants";
import { buildPipelineModel, compileRoutes } from "../../model/pipeline";
import { readStackFile } from "../../model/stack-config";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const problemsOf = (raw: unknown, handlers?: string[]) => {
    const result = validateConfig(raw, { handlers });
    return result.ok ? [] : result.problems;
};

describe("config validation", () => {
    it("defaults: a minimal provider gets every documented default", () => {
        // GIVEN a provider with only the required fields
        const config = parseConfig({ providers: [{ name: "stripe", plugin: "stripe", secret: "s" }] });
        // WHEN the model is built
        const model = buildPipelineModel(config, "webhooks");
        // THEN every default is resolved from the constants
        expect(model.lanes).to.deep.equal([
            {
                id: "stripe-default",
                provider: "stripe",
                name: "default",
                kind: "sqs",
                ordering: false,
                concurrency: ProviderDefaults.concurrency,
                batchSize: ProviderDefaults.batchSize,
                batchWindowSeconds: 0,
                maxReceiveCount: ProviderDefaults.maxReceiveCount,
                timeoutSeconds: ProviderDefaults.timeoutSeconds,
                visibilityTimeoutSeconds: ProviderDefaults.timeoutSeconds * Limits.visibilityTimeoutFactor,
                paused: ProviderDefaults.paused,
                retentionSeconds: QueueSettings.retentionSeconds,
                handler: ProviderDefaults.handler,
                topic: undefined,
                worker: {
                    memorySize: ProviderDefaults.memorySize,
                    logRetentionDays: ProviderDefaults.logRetentionDays,
                    tracing: ProviderDefaults.tracing,
                    environment: {},
                    secrets: [],
                    permissions: [],
                    vpc: undefined,
                },
            },
        ]);
        expect(model.router).to.deep.equal({
            batchSize: RouterDefaults.batchSize,
            batchWindowSeconds: RouterDefaults.batchWindowSeconds,
            concurrency: RouterDefaults.concurrency,
            timeoutSeconds: RouterDefaults.timeoutSeconds,
            visibilityTimeoutSeconds: RouterDefaults.timeoutSeconds * 6,
            maxReceiveCount: RouterDefaults.maxReceiveCount,
            memorySize: RouterDefaults.memorySize,
        });
        expect(model.api).to.deep.equal({ throttleRateLimit: ApiDefaults.throttleRateLimit, throttleBurstLimit: ApiDefaults.throttleBurstLimit });
        expect(model.archive).to.deep.equal({ ...ArchiveDefaults, claimsExpirationDays });
        expect({ paused: ProviderDefaults.paused, retentionDays: ProviderDefaults.retentionDays }).to.deep.equal({ paused: false, retentionDays: 4 });
        expect(model.providers[0]).to.deep.include({ path: "/webhooks/stripe", ingress: "direct", toleranceSeconds: 300, secretCount: 1, signsTimestamp: true });
        expect(model.providers[0].routes).to.deep.equal([{ pattern: "*", targets: ["stripe-default"] }]);
        expect(model.usesKafka).to.equal(false);
    });

    it("GIVEN an archive lifecycle S3 would refuse THEN each problem names its path and value", () => {
        const provider = { name: "stripe", plugin: "stripe" };
        // S3 refuses a STANDARD_IA transition under 30 days.
        expect(problemsOf({ providers: [provider], archive: { transitionDays: 29 } })).to.deep.equal(["archive.transitionDays: 29 is below the minimum of 30 (must be between 30 and 3650)"]);
        expect(problemsOf({ providers: [provider], archive: { transitionDays: 1 } })).to.deep.equal(["archive.transitionDays: 1 is below the minimum of 30 (must be between 30 and 3650)"]);
        // One rule transitions and expires: expiration must come after the transition (or never).
        expect(problemsOf({ providers: [provider], archive: { transitionDays: 60, expirationDays: 60 } })).to.deep.equal([
            "archive.expirationDays: must be 0 (keep forever) or greater than archive.transitionDays (60), got 60",
        ]);
        expect(problemsOf({ providers: [provider], archive: { expirationDays: 10 } })).to.deep.equal([
            "archive.expirationDays: must be 0 (keep forever) or greater than archive.transitionDays (30, the default), got 10",
        ]);
        expect(problemsOf({ providers: [provider], archive: { transitionDays: 30, expirationDays: 31 } })).to.deep.equal([]);
        expect(problemsOf({ providers: [provider], archive: { transitionDays: 3650, expirationDays: 0 } })).to.deep.equal([]);
    });

    it("names every problem by path, all at once", () => {
        const problems = problemsOf({
            providers: [
                { name: "stripe", plugin: "stripe", concurrency: 1 },
                { name: "Bad_Name", plugin: "paypal", batchSize: 0 },
                { name: "x", plugin: "github", timeoutSeconds: 901, colour: "red" },
            ],
            routerr: {},
        });
        expect(problems).to.have.members([
            "providers[0] (stripe).concurrency: 1 is below the minimum of 2 (must be between 2 and 1000)",
            `providers[1] (Bad_Name).name: must be lowercase letters, digits and '-', starting and ending with a letter or digit, got "Bad_Name"`,
            'providers[1] (Bad_Name).plugin: must be one of stripe, github, shopify, slack, twilio, razorpay, standard-webhooks, hmac, got "paypal"',
            "providers[1] (Bad_Name).batchSize: 0 is below the minimum of 1 (must be between 1 and 10000)",
            "providers[2] (x).timeoutSeconds: 901 is above the maximum of 900 (must be between 1 and 900)",
            'providers[2] (x): unknown key "colour" (check the spelling against the README\'s config reference)',
            '(config): unknown key "routerr" (check the spelling against the README\'s config reference)',
        ]);
    });

    it("refuses duplicate names, undeclared lanes, hmac without a signature, and hmac-only keys on a built-in", () => {
        const problems = problemsOf({
            providers: [
                { name: "a", plugin: "hmac" },
                { name: "a", plugin: "stripe", eventIdPath: "id", routes: { "invoice.*": "billing" } },
            ],
        });
        expect(problems).to.have.members([
            "providers[0] (a).signature: is required when plugin is hmac (header, algorithm, encoding)",
            'providers[1] (a).name: "a" is already used by providers[0] (names must be unique; they are the URL path)',
            "providers[1] (a).eventIdPath: only applies to plugin hmac (plugin is stripe; remove it)",
            'providers[1] (a).routes["invoice.*"]: lane "billing" is not declared: this provider has no named lanes, only default (declare it under providers[1] (a).lanes.billing, or route to default or drop)',
        ]);
    });

    it("quotes route patterns and lane names that are not plain names in a problem's path", () => {
        const problems = problemsOf({
            providers: [{ name: "a", plugin: "github", lanes: { "a.b": {}, "": { concurrency: 1 }, ok: { batchSize: 0 } }, routes: { "invoice.*": "nope", "x y": 3 } }],
        });
        expect(problems).to.include.members([
            'providers[0] (a).lanes[""].concurrency: 1 is below the minimum of 2 (must be between 2 and 1000)',
            "providers[0] (a).lanes.ok.batchSize: 0 is below the minimum of 1 (must be between 1 and 10000)",
        ]);
        expect(problems.some((p) => p.startsWith('providers[0] (a).routes["x y"]: '))).to.equal(true, problems.join("\n"));
        const crossField = problemsOf({ providers: [{ name: "a", plugin: "github", lanes: { "a.b": {} }, routes: { "invoice.*": "nope" } }] });
        expect(crossField).to.have.members([
            `providers[0] (a).lanes["a.b"]: lane names must be lowercase letters, digits and '-', at most 16 characters`,
            'providers[0] (a).routes["invoice.*"]: lane "nope" is not declared (use default, drop, or one of providers[0] (a).lanes: default, a.b)',
        ]);
    });

    it("refuses a router batching window of 0 with batches above 10", () => {
        const providers = [{ name: "a", plugin: "github" }];
        expect(problemsOf({ providers, router: { batchWindowSeconds: 0 } })).to.deep.equal([
            "router.batchWindowSeconds: must be at least 1 when router.batchSize is above 10 (AWS requires a batching window there; batchSize is 500)",
        ]);
        expect(problemsOf({ providers, router: { batchWindowSeconds: 0, batchSize: 10 } })).to.deep.equal([]);
    });

    it("checks kafka.topicPrefix and allows kafka.replicationFactor only for brokers you run", () => {
        const providers = [{ name: "a", plugin: "github", lane: "kafka" }];
        expect(problemsOf({ providers, kafka: { topicPrefix: "prod webhooks" } })).to.deep.equal([`kafka.topicPrefix: must be 1 to 100 letters, digits, '.', '_' or '-' (Kafka topic characters), got "prod webhooks"`]);
        expect(problemsOf({ providers, kafka: { replicationFactor: 3 } })).to.deep.equal(["kafka.replicationFactor: only applies when kafka.mode is external (MSK Serverless sets its own)"]);
        expect(problemsOf({ providers, kafka: { mode: "external", brokers: ["k:9092"], replicationFactor: 3, topicPrefix: "webhooks-prod" } })).to.deep.equal([]);
        expect(buildPipelineModel(parseConfig({ providers, kafka: { topicPrefix: "webhooks-prod" } }), "webhooks").lanes[0].topic).to.equal("webhooks-prod.a.default");
    });

    it("puts providers that need the full request behind the ingress function, and refuses direct for a handshake", () => {
        const ingressOf = (providers: unknown[]) => Object.fromEntries(buildPipelineModel(parseConfig({ providers })).providers.map((p) => [p.name, p.ingress]));
        // Twilio signs the URL with its query string, which the direct integration cannot pass on; Slack answers a handshake.
        expect(ingressOf([{ name: "t", plugin: "twilio" }, { name: "s", plugin: "slack" }, { name: "g", plugin: "github" }])).to.deep.equal({ t: "function", s: "function", g: "direct" });
        // Your choice wins where it can work: exact bytes for a sender of non-UTF-8 bodies, or a Twilio URL without a query string.
        expect(ingressOf([{ name: "g", plugin: "github", ingress: "function" }, { name: "t", plugin: "twilio", ingress: "direct" }])).to.deep.equal({ g: "function", t: "direct" });
        expect(problemsOf({ providers: [{ name: "s", plugin: "slack", ingress: "direct" }] })).to.deep.equal([
            "providers[0] (s).ingress: plugin slack answers a handshake, which only the ingress function can do (remove ingress or set it to function)",
        ]);
        expect(problemsOf({ providers: [{ name: "g", plugin: "github", ingress: "lambda" }] })).to.deep.equal(['providers[0] (g).ingress: must be "direct" or "function", got "lambda"']);
    });

    it("refuses a FIFO batch above 10 and an unknown handler", () => {
        const problems = problemsOf({ providers: [{ name: "a", plugin: "github", ordering: true, batchSize: 50, handler: "nope" }] }, ["log"]);
        expect(problems).to.have.members(["providers[0] (a).batchSize: must be at most 10 on an ordered (FIFO) lane, got 50", 'providers[0] (a).handler: "nope" is not a module in handlers/app (known: log)']);
    });

    it("requires at least one provider", () => {
        expect(problemsOf({})).to.deep.equal(["providers: is required"]);
        expect(problemsOf({ providers: [] })).to.deep.equal(["providers: must declare at least one provider"]);
    });

    it("ConfigError lists every problem in its message", () => {
        expect(() => parseConfig({ providers: [{ name: "a", plugin: "x" }] })).to.throw(ConfigError, /providers\[0\] \(a\)\.plugin: must be one of/);
    });

    it("formats paths the way users write them", () => {
        expect(formatPath(["providers", 2, "signature", "header"])).to.equal("providers[2].signature.header");
    });

    it("GIVEN a schema error, a duplicate name and a route to an undeclared lane WHEN validated THEN all three are reported in one pass", () => {
        // GIVEN the stack from issue 14: zod refuses the concurrency, which used to hide the cross-field problems
        const problems = problemsOf({
            providers: [
                { name: "acme", plugin: "github", routes: { "order.*": "orders" } },
                { name: "stripe", plugin: "stripe" },
                { name: "shopify", plugin: "shopify", concurrency: 1 },
                { name: "stripe", plugin: "github" },
            ],
        });
        // THEN each problem names the provider beside its index and the refused value
        expect(problems).to.deep.equal([
            "providers[2] (shopify).concurrency: 1 is below the minimum of 2 (must be between 2 and 1000)",
            'providers[0] (acme).routes["order.*"]: lane "orders" is not declared: this provider has no named lanes, only default (declare it under providers[0] (acme).lanes.orders, or route to default or drop)',
            'providers[3] (stripe).name: "stripe" is already used by providers[1] (names must be unique; they are the URL path)',
        ]);
    });

    it("GIVEN refused values everywhere WHEN validated THEN the cross-field checks still run on the rest, and a secret's value is never shown", () => {
        const problems = problemsOf({
            providers: [
                null,
                { name: "a", plugin: "hmac", secret: 12345, concurrency: 1.5, signature: { algorithm: "md5" }, eventIdPath: "id", eventIdHeader: "X-Id" },
                { name: "b", plugin: "nope", eventIdPath: "id" },
            ],
            kafka: { sasl: { mechanism: "plain" }, replicationFactor: 3 },
        });
        expect(problems).to.deep.equal([
            "providers[0]: must be an object, got null",
            "providers[1] (a).secret: must be a string (set it with `pulumi config set --secret --path ...`)",
            "providers[1] (a).signature.header: is required",
            'providers[1] (a).signature.algorithm: must be sha1, sha256 or sha512, got "md5"',
            "providers[1] (a).signature.encoding: is required",
            "providers[1] (a).concurrency: 1.5 is not a whole number (must be a whole number between 2 and 1000)",
            'providers[2] (b).plugin: must be one of stripe, github, shopify, slack, twilio, razorpay, standard-webhooks, hmac, got "nope"',
            'kafka.sasl.mechanism: must be scram-sha-512, scram-sha-256 or aws-iam, got "plain"',
            // cross-field, on what the schema left: an unknown plugin decides nothing about hmac-only keys
            "providers[1] (a).eventIdHeader: conflicts with eventIdPath (set one of them)",
            "kafka.replicationFactor: only applies when kafka.mode is external (MSK Serverless sets its own)",
        ]);
        expect(problems.join("\n")).to.not.include("12345");
    });

    it("GIVEN a config's root THEN a provider's index carries its name", () => {
        const root = { providers: [{ name: "shopify" }, { name: "has space" }, {}] };
        expect(formatPath(["providers", 0, "concurrency"], root)).to.equal("providers[0] (shopify).concurrency");
        expect(formatPath(["providers", 1, "concurrency"], root)).to.equal("providers[1].concurrency");
        expect(formatPath(["providers", 2], root)).to.equal("providers[2]");
    });
});

describe("stack file reading", () => {
    it("GIVEN a stack file with a YAML syntax error WHEN read THEN the error names the file and the line", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stack-")), "Pulumi.broken.yaml");
        fs.writeFileSync(file, "config:\n  webhook-pipeline:providers:\n    - name: a\n     plugin: github\n");
        expect(() => readStackFile(file)).to.throw(Error, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is not valid YAML: .*line 4`, "s"));
    });
});

describe("routing rules", () => {
    it("first match wins, * matches any run of characters, unmatched events go to the default lane", () => {
        const config = parseConfig({
            providers: [{ name: "stripe", plugin: "stripe", routes: { "invoice.paid": "billing", "invoice.*": "drop", "customer.*.created": "billing" }, lanes: { billing: {} } }],
        });
        const route = compileRoutes(buildPipelineModel(config).providers[0].routes);
        expect(["invoice.paid", "invoice.voided", "customer.subscription.created", "customer.created", "charge.succeeded", "invoice"].map(route)).to.deep.equal([
            ["stripe-billing"],
            ["drop"],
            ["stripe-billing"],
            ["stripe-default"],
            ["stripe-default"],
            ["stripe-default"],
        ]);
    });

    it("treats regex characters in patterns literally", () => {
        const config = parseConfig({ providers: [{ name: "p", plugin: "github", routes: { "a+b": "drop" } }] });
        const route = compileRoutes(buildPipelineModel(config).providers[0].routes);
        expect([route("a+b"), route("aab")]).to.deep.equal([["drop"], ["p-default"]]);
    });

    it("GIVEN a route naming a list of lanes (fan-out) WHEN compiled THEN the event goes to every lane of the list, in order; a one-lane list and a string route the same", () => {
        // Prepare
        const config = parseConfig({
            providers: [
                {
                    name: "stripe",
                    plugin: "stripe",
                    routes: { "invoice.*": ["billing", "analytics"], "charge.*": ["billing"], "customer.*": "analytics", "ping": ["drop"] },
                    lanes: { billing: {}, analytics: { lane: "kafka" } },
                },
            ],
        });

        // Act
        const model = buildPipelineModel(config);
        const route = compileRoutes(model.providers[0].routes);

        // Assess
        expect(model.providers[0].routes).to.deep.equal([
            { pattern: "invoice.*", targets: ["stripe-billing", "stripe-analytics"] },
            { pattern: "charge.*", targets: ["stripe-billing"] },
            { pattern: "customer.*", targets: ["stripe-analytics"] },
            { pattern: "ping", targets: ["drop"] },
            { pattern: "*", targets: ["stripe-default"] },
        ]);
        expect(["invoice.paid", "charge.succeeded", "customer.created", "ping", "other"].map(route)).to.deep.equal([["stripe-billing", "stripe-analytics"], ["stripe-billing"], ["stripe-analytics"], ["drop"], ["stripe-default"]]);
    });
});

describe("fan-out routes: validation", () => {
    const provider = (routes: unknown) => ({ providers: [{ name: "stripe", plugin: "stripe", routes, lanes: { billing: {}, analytics: {} } }] });
    const problemsOf = (raw: unknown) => {
        const result = validateConfig(raw);
        return result.ok ? [] : result.problems;
    };

    it("GIVEN lists of declared, distinct lanes (default included) WHEN validated THEN they are accepted", () => {
        expect(problemsOf(provider({ "invoice.*": ["billing", "analytics"], "charge.*": ["default", "billing"], "x": ["drop"] }))).to.deep.equal([]);
    });

    it("GIVEN a list with an undeclared lane, a repeat, drop beside a lane and an empty list WHEN validated THEN each is named by its path and index, all in one pass", () => {
        const problems = problemsOf(provider({ "invoice.*": ["billing", "x"], "charge.*": ["billing", "billing"], "ping": ["drop", "billing"], "empty": [] }));
        expect(problems).to.have.members([
            'providers[0] (stripe).routes.empty: must list at least one lane (or route to drop)',
            'providers[0] (stripe).routes["invoice.*"][1]: lane "x" is not declared (use default, drop, or one of providers[0] (stripe).lanes: default, billing, analytics)',
            'providers[0] (stripe).routes["charge.*"][1]: lane "billing" is already listed at providers[0] (stripe).routes["charge.*"][0] (each lane gets the event once; remove the repeat)',
            'providers[0] (stripe).routes.ping[0]: "drop" cannot be combined with lanes (a dropped event is archived and not processed; route "ping" to drop alone, or list lanes only)',
        ]);
        expect(problems).to.have.length(4);
    });

    it("GIVEN a list element that is not a string WHEN validated THEN the element's path is named and the other elements are still checked", () => {
        const problems = problemsOf(provider({ "invoice.*": ["billing", 7, "nope"] }));
        expect(problems).to.have.members([
            'providers[0] (stripe).routes["invoice.*"][1]: must be a lane name, got 7',
            'providers[0] (stripe).routes["invoice.*"][2]: lane "nope" is not declared (use default, drop, or one of providers[0] (stripe).lanes: default, billing, analytics)',
        ]);
    });

    it("GIVEN a route value that is neither a lane name nor a list WHEN validated THEN it says what it must be", () => {
        expect(problemsOf(provider({ "invoice.*": { lane: "billing" } }))).to.deep.equal(['providers[0] (stripe).routes["invoice.*"]: must be a lane name or a list of lane names, got an object']);
    });
});
