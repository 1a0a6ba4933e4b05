/**
 * `destination` and `retry` in config: defaults, lane overrides, the rules
 * (conflicts, URL, headers, pace), and what the model and the local runtime
 * config carry. Pure, without the engine or the emulator.
 */
import { expect } from "chai";
import { parseConfig, validateConfig } from "../../model/config";
import { DestinationDefaults } from "../../model/delivery";
import { buildPipelineModel, destinationSecretsOf, paceLimitFor, paceMsFor } from "../../model/pipeline";
import { nominalDelaySeconds, retryDelaySeconds } from "../../handlers/destination/retry";
import { outcomeOf, parseRetryAfter } from "../../handlers/destination/outcome";
import { createPacer } from "../../handlers/destination/pace";
import { performance } from "perf_hooks";

const secret = `whsec_${Buffer.from("a-signing-key-of-24-bytes").toString("base64")}`;
const problemsOf = (provider: Record<string, unknown>) => {
    const result = validateConfig({ providers: [{ name: "stripe", plugin: "stripe", ...provider }] }, { handlers: ["log", "ledger"] });
    return result.ok ? [] : result.problems;
};

describe("config: destination and retry", () => {
    it("defaults: a destination with only a url gets POST, 10 s, no headers, no signing, no rate limit, and both backends for https", () => {
        // GIVEN
        const config = parseConfig({ providers: [{ name: "stripe", plugin: "stripe", destination: { url: "https://api.internal.example.com/hooks/stripe" } }] });
        // WHEN
        const model = buildPipelineModel(config);
        // THEN
        expect(model.lanes[0].destination).to.deep.equal({
            url: "https://api.internal.example.com/hooks/stripe",
            method: DestinationDefaults.method,
            timeoutSeconds: DestinationDefaults.timeoutSeconds,
            headers: {},
            signingSecretCount: 0,
            backends: ["aws", "local"],
        });
        expect(model.lanes[0].retry).to.equal(undefined);
        // The edge maps Content-Type for a provider with a destination lane, so the destination gets the original.
        expect(model.providers[0].headers).to.deep.equal(["stripe-signature", "content-type"]);
    });

    it("the example from the README: every field carried into the model, secrets only counted, pace from rate and concurrency", () => {
        const config = parseConfig({
            providers: [
                {
                    name: "stripe",
                    plugin: "stripe",
                    concurrency: 4,
                    timeoutSeconds: 30,
                    destination: {
                        url: "https://api.internal.example.com/hooks/stripe",
                        method: "PUT",
                        timeoutSeconds: 5,
                        headers: { "X-Team": "payments" },
                        auth: { header: "Authorization", secret: "Bearer xyz" },
                        signingSecret: [secret, secret.replace("YQ", "Yg")],
                        rateLimitPerSecond: 20,
                    },
                    retry: { backoff: "exponential", initialSeconds: 10, maxSeconds: 600 },
                },
            ],
        });
        const lane = buildPipelineModel(config).lanes[0];
        expect(lane.destination).to.deep.equal({
            url: "https://api.internal.example.com/hooks/stripe",
            method: "PUT",
            timeoutSeconds: 5,
            headers: { "X-Team": "payments" },
            authHeader: "Authorization",
            signingSecretCount: 2,
            rateLimitPerSecond: 20,
            paceMs: paceMsFor(20, 4),
            startsPerWindow: 5,
            windowMs: 1050,
            backends: ["aws", "local"],
        });
        expect(lane.retry).to.deep.equal({ backoff: "exponential", initialSeconds: 10, maxSeconds: 600 });
        expect(JSON.stringify(buildPipelineModel(config))).not.to.contain("Bearer xyz");
        expect(destinationSecretsOf(config)).to.deep.equal({ "stripe-default": { signing: [secret, secret.replace("YQ", "Yg")], auth: "Bearer xyz" } });
        // 4 workers at floor(20 / 4) = 5 starts per second: 200 ms apart, plus the 5% guard.
        expect(paceMsFor(20, 4)).to.equal(210);
        // Not a multiple: 22 over 4 is 5 each (20), as no worker knows which slot could take a sixth.
        expect(paceLimitFor(22, 4)).to.deep.equal({ paceMs: 210, startsPerWindow: 5, windowMs: 1050 });
    });

    it("lanes: a named lane inherits the provider's destination unless it names its own handler or destination; retry is inherited and overridable", () => {
        const config = parseConfig({
            providers: [
                {
                    name: "stripe",
                    plugin: "stripe",
                    destination: { url: "https://a.example.com/", signingSecret: secret },
                    retry: { backoff: "fixed", initialSeconds: 30 },
                    routes: { "invoice.*": "billing", "charge.*": "ledger", "customer.*": "crm" },
                    lanes: { billing: {}, ledger: { handler: "log" }, crm: { destination: { url: "https://crm.example.com/in" }, retry: { backoff: "exponential", initialSeconds: 1, maxSeconds: 8 } } },
                },
            ],
        });
        const lanes = Object.fromEntries(buildPipelineModel(config).lanes.map((l) => [l.name, l]));
        expect(lanes.default.destination?.url).to.equal("https://a.example.com/");
        expect(lanes.billing.destination?.url).to.equal("https://a.example.com/");
        expect(lanes.ledger.destination).to.equal(undefined);
        expect(lanes.ledger.handler).to.equal("log");
        expect(lanes.crm.destination?.url).to.equal("https://crm.example.com/in");
        expect(lanes.default.retry).to.deep.equal({ backoff: "fixed", initialSeconds: 30, maxSeconds: DestinationDefaults.retryMaxSeconds });
        expect(lanes.crm.retry).to.deep.equal({ backoff: "exponential", initialSeconds: 1, maxSeconds: 8 });
        expect(Object.keys(destinationSecretsOf(config)).sort()).to.deep.equal(["stripe-billing", "stripe-crm", "stripe-default"]);
        expect(destinationSecretsOf(config)["stripe-crm"]).to.deep.equal({ signing: [] });
    });

    it("destination conflicts with handler, naming both", () => {
        expect(problemsOf({ handler: "log", destination: { url: "https://a.example.com/" } })).to.deep.equal([
            "providers[0] (stripe).destination: conflicts with providers[0] (stripe).handler (a lane ends in a handler module or a destination; remove one)",
        ]);
        expect(problemsOf({ lanes: { bulk: { handler: "log", destination: { url: "https://a.example.com/" } } }, routes: { "*": "bulk" } })).to.deep.equal([
            "providers[0] (stripe).lanes.bulk.destination: conflicts with providers[0] (stripe).lanes.bulk.handler (a lane ends in a handler module or a destination; remove one)",
        ]);
    });

    it("URL rules: https on AWS, http only to loopback (local only, and the model says so), no credentials, an absolute URL", () => {
        expect(problemsOf({ destination: { url: "http://api.example.com/hooks" } })).to.deep.equal([
            `providers[0] (stripe).destination.url: must be https (http is allowed only to a loopback address, for npm start), got "http://api.example.com/hooks"`,
        ]);
        expect(problemsOf({ destination: { url: "ftp://api.example.com/hooks" } })).to.deep.equal([`providers[0] (stripe).destination.url: must be an https URL, got "ftp://api.example.com/hooks"`]);
        expect(problemsOf({ destination: { url: "/hooks" } })).to.deep.equal([`providers[0] (stripe).destination.url: must be an absolute URL such as https://api.internal.example.com/hooks, got "/hooks"`]);
        expect(problemsOf({ destination: { url: "https://user:pw@api.example.com/hooks" } })).to.deep.equal([
            "providers[0] (stripe).destination.url: must not carry credentials (put them in destination.auth, a Pulumi secret; the URL is shown in logs and the console)",
        ]);
        for (const url of ["http://127.0.0.1:8080/in", "http://localhost:3000/in", "http://[::1]:3000/in"]) {
            const config = parseConfig({ providers: [{ name: "stripe", plugin: "stripe", destination: { url } }] });
            expect(buildPipelineModel(config).lanes[0].destination?.backends, url).to.deep.equal(["local"]);
        }
    });

    it("headers: the pipeline's own and hop-by-hop ones are refused, and so is the auth header twice; bad secrets are named without their value", () => {
        const problems = problemsOf({
            destination: {
                url: "https://a.example.com/",
                headers: { "Content-Type": "text/plain", "webhook-signature": "x", "Webhook-Pipeline-Anything": "x", Connection: "close", "Transfer-Encoding": "chunked", Authorization: "x", "X-Ok": "fine" },
                auth: { header: "Authorization", secret: "s" },
                signingSecret: "not-a-whsec-secret",
            },
        });
        // Every problem in one pass: the refused secret (never its value), then each header problem.
        expect(problems[0]).to.equal("providers[0] (stripe).destination.signingSecret: must be a Standard Webhooks secret: whsec_ followed by a base64 key of at least 12 bytes (the value is not shown)");
        expect(problems.join("\n")).to.not.include("not-a-whsec-secret");
        const after = problemsOf({
            destination: {
                url: "https://a.example.com/",
                headers: { "Content-Type": "text/plain", "webhook-signature": "x", "Webhook-Pipeline-Anything": "x", Connection: "close", "Transfer-Encoding": "chunked", Authorization: "x", "X-Ok": "fine" },
                auth: { header: "Authorization", secret: "s" },
            },
        });
        expect(after).to.deep.equal([
            "providers[0] (stripe).destination.headers.Content-Type: is set by the pipeline or is a hop-by-hop header (remove it)",
            "providers[0] (stripe).destination.headers.webhook-signature: is set by the pipeline or is a hop-by-hop header (remove it)",
            "providers[0] (stripe).destination.headers.Webhook-Pipeline-Anything: is set by the pipeline or is a hop-by-hop header (remove it)",
            "providers[0] (stripe).destination.headers.Connection: is set by the pipeline or is a hop-by-hop header (remove it)",
            "providers[0] (stripe).destination.headers.Transfer-Encoding: is set by the pipeline or is a hop-by-hop header (remove it)",
            "providers[0] (stripe).destination.headers.Authorization: conflicts with destination.auth.header (the auth header's value comes from its secret; remove it here)",
        ]);
        expect(problems.slice(1)).to.deep.equal(after);
    });

    it("pace: the worker timeout must cover a batch at the rate limit's pace plus the destination timeout, and the limit must reach every worker", () => {
        // 10 records at 20/5 = 4 per second per worker: 2.5 s -> 3 s, + 10 s = 13 s > 10 s
        expect(problemsOf({ concurrency: 5, batchSize: 10, timeoutSeconds: 12, destination: { url: "https://a.example.com/", rateLimitPerSecond: 20, timeoutSeconds: 10 } })).to.deep.equal([
            "providers[0] (stripe).timeoutSeconds: a batch of 10 at 4 starts per second per worker (rateLimitPerSecond 20 / concurrency 5) plus the destination timeout of 10 s needs 13 s, the worker timeout is 12 s (raise timeoutSeconds to at least 13, or lower batchSize to 8)",
        ]);
        expect(problemsOf({ concurrency: 5, destination: { url: "https://a.example.com/", rateLimitPerSecond: 3 } })[0]).to.match(
            /^providers\[0\] \(stripe\)\.destination\.rateLimitPerSecond: must be at least the lane's concurrency \(5\), got 3: .*lower concurrency to 3 or raise the limit\)$/,
        );
        expect(problemsOf({ timeoutSeconds: 10, destination: { url: "https://a.example.com/", timeoutSeconds: 10 } })).to.deep.equal([
            "providers[0] (stripe).destination.timeoutSeconds: must be below the worker timeout (10 s), got 10 (raise providers[0] (stripe).timeoutSeconds or lower the destination's)",
        ]);
        // A lane that inherits the destination is checked with its own batch size and timeout.
        expect(problemsOf({ destination: { url: "https://a.example.com/", rateLimitPerSecond: 10 }, concurrency: 2, lanes: { bulk: { batchSize: 200 } }, routes: { "*": "bulk" } })).to.deep.equal([
            "providers[0] (stripe).lanes.bulk.timeoutSeconds: a batch of 200 at 5 starts per second per worker (rateLimitPerSecond 10 / concurrency 2) plus the destination timeout of 10 s needs 50 s, the worker timeout is 30 s (raise timeoutSeconds to at least 50, or lower batchSize to 100)",
        ]);
    });

    it("retry: maxSeconds below initialSeconds, unknown backoff and out-of-range values are named", () => {
        expect(problemsOf({ retry: { backoff: "exponential", initialSeconds: 60, maxSeconds: 10 } })).to.deep.equal(["providers[0] (stripe).retry.maxSeconds: must be at least retry.initialSeconds (60), got 10"]);
        expect(problemsOf({ retry: { backoff: "linear", initialSeconds: 0 } })).to.deep.equal([
            'providers[0] (stripe).retry.backoff: must be "exponential" or "fixed", got "linear"',
            "providers[0] (stripe).retry.initialSeconds: 0 is below the minimum of 1 (must be between 1 and 43200)",
        ]);
    });
});

describe("delivery runtime rules (pure)", () => {
    it("outcomes: 2xx delivered; 408, 429, 5xx retryable; 410, other 4xx and 3xx permanent", () => {
        const table = Object.fromEntries([200, 201, 204, 299, 301, 302, 304, 400, 401, 403, 404, 408, 409, 410, 422, 429, 500, 502, 503, 504].map((s) => [s, outcomeOf(s)]));
        expect(table).to.deep.equal({
            200: "delivered",
            201: "delivered",
            204: "delivered",
            299: "delivered",
            301: "permanent",
            302: "permanent",
            304: "permanent",
            400: "permanent",
            401: "permanent",
            403: "permanent",
            404: "permanent",
            408: "retryable",
            409: "permanent",
            410: "permanent",
            422: "permanent",
            429: "retryable",
            500: "retryable",
            502: "retryable",
            503: "retryable",
            504: "retryable",
        });
    });

    it("Retry-After: delay-seconds or an HTTP date; anything else is ignored", () => {
        const now = Date.parse("2026-12-01T08:00:00Z");
        expect(parseRetryAfter("120", now)).to.equal(120);
        expect(parseRetryAfter("Tue, 01 Dec 2026 08:00:30 GMT", now)).to.equal(30);
        expect(parseRetryAfter("Tue, 01 Dec 2026 07:00:00 GMT", now)).to.equal(0);
        expect(parseRetryAfter("soon", now)).to.equal(undefined);
        expect(parseRetryAfter(null, now)).to.equal(undefined);
    });

    it("retry delay: exponential doubles to maxSeconds, fixed stays, jitter only shortens (by at most 20%), Retry-After wins when longer, the 12 h cap holds", () => {
        const exp = { backoff: "exponential" as const, initialSeconds: 10, maxSeconds: 60 };
        expect([1, 2, 3, 4, 5].map((n) => nominalDelaySeconds(exp, n))).to.deep.equal([10, 20, 40, 60, 60]);
        expect([1, 2, 3].map((n) => nominalDelaySeconds({ backoff: "fixed", initialSeconds: 7, maxSeconds: 900 }, n))).to.deep.equal([7, 7, 7]);
        expect(retryDelaySeconds(exp, 2, { random: () => 0 })).to.equal(20);
        expect(retryDelaySeconds(exp, 2, { random: () => 0.999999 })).to.equal(17); // 16.000004, rounded up to whole seconds
        expect(retryDelaySeconds(exp, 1, { random: () => 0.5, retryAfterSeconds: 120 })).to.equal(120);
        expect(retryDelaySeconds(exp, 3, { random: () => 0, retryAfterSeconds: 5 })).to.equal(40);
        expect(retryDelaySeconds(exp, 1, { retryAfterSeconds: 999_999, capSeconds: 43_200 - 30 })).to.equal(43_170);
        expect(retryDelaySeconds(undefined, 1, {})).to.equal(undefined);
        expect(retryDelaySeconds(undefined, 1, { retryAfterSeconds: 3 })).to.equal(3);
    });

    it("pacer: starts are at least windowMs / startsPerWindow apart, even when callers come at once", async () => {
        const pacer = createPacer({ startsPerWindow: 2, windowMs: 100 });
        const starts: number[] = [];
        await Promise.all(Array.from({ length: 6 }, async () => {
            const start = await pacer.acquire();
            start.answered();
            starts.push(start.at);
        }));
        const gaps = starts.slice(1).map((t, i) => t - starts[i]);
        expect(Math.min(...gaps)).to.be.at.least(49.5);
        const before = performance.now();
        await pacer.release();
        expect(performance.now() - starts[5]).to.be.at.least(49.5);
        expect(performance.now() - before).to.be.at.most(80);
    });
});
