/**
 * api.domain under Pulumi's mock runtime: the regional custom domain (TLS 1.2), the mapping of the
 * $default stage, the Route 53 alias when a hosted zone is given; `url` and `webhookUrls` on the custom
 * host while the generated URL stays an output of its own; and the config refusals, by path.
 */
import { expect } from "chai";
import type { WebhookPipeline } from "../../components";
import { loadStackConfig } from "../../components/stack-config";
import { validateConfig } from "../../model/config";
import { MockSession, plain, RecordedResource, settled, setupMocks, valueOf } from "../../scripts/pulumi-mocks";

const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";

describe("WebhookPipeline with api.domain (mocks)", function () {
    this.timeout(120_000);
    let session: MockSession;
    let pipeline: WebhookPipeline;
    const mine = (type: string): RecordedResource[] => session.byType(type).filter((r) => r.name.startsWith("cd-"));

    before(async () => {
        session = await setupMocks();
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("cd", {
            providers: [{ name: "stripe", plugin: "stripe", secret: "whsec_x" }, { name: "twilio", plugin: "twilio", secret: "tw" }],
            api: { domain: { name: "hooks.example.com", certificateArn, hostedZoneId: "Z0123456789ABCDEFGHIJ" } },
        });
        await valueOf(pipeline.webhookUrls);
        await settled();
    });

    it("THEN a regional TLS 1.2 domain name with the certificate, a mapping of the API's $default stage, and an A alias at the domain's target", () => {
        const domains = mine("aws:apigatewayv2/domainName:DomainName");
        expect(domains).to.have.length(1);
        expect(plain(domains[0].inputs.domainName)).to.equal("hooks.example.com");
        expect(plain(domains[0].inputs.domainNameConfiguration)).to.deep.equal({ certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" });
        const mappings = mine("aws:apigatewayv2/apiMapping:ApiMapping");
        expect(mappings).to.have.length(1);
        expect({ apiId: plain(mappings[0].inputs.apiId), domainName: plain(mappings[0].inputs.domainName), stage: plain(mappings[0].inputs.stage) }).to.deep.equal({ apiId: "cd-api-id", domainName: "hooks.example.com", stage: "$default" });
        const records = mine("aws:route53/record:Record");
        expect(records.map((r) => ({ zoneId: plain(r.inputs.zoneId), name: plain(r.inputs.name), type: plain(r.inputs.type), aliases: plain(r.inputs.aliases) }))).to.deep.equal([
            { zoneId: "Z0123456789ABCDEFGHIJ", name: "hooks.example.com", type: "A", aliases: [{ name: "d-mock12345.execute-api.us-east-1.amazonaws.com", zoneId: "Z1UJRXOUMOOFQ8", evaluateTargetHealth: false }] },
        ]);
    });

    it("THEN url and webhookUrls use the custom domain, and apiEndpointUrl keeps the generated one", async () => {
        expect(await valueOf(pipeline.url)).to.equal("https://hooks.example.com");
        expect(await valueOf(pipeline.webhookUrls)).to.deep.equal({ stripe: "https://hooks.example.com/webhooks/stripe", twilio: "https://hooks.example.com/webhooks/twilio" });
        expect(await valueOf(pipeline.apiEndpointUrl)).to.equal("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com");
    });
});

describe("config: api.domain", () => {
    const problemsOf = (domain: unknown, region?: string) => {
        const result = validateConfig({ providers: [{ name: "stripe", plugin: "stripe" }], api: { domain } }, { region });
        return result.ok ? [] : result.problems;
    };
    it("GIVEN a host name, an ACM ARN in the stack's region and a zone id WHEN validated THEN accepted; without a zone too", () => {
        expect(problemsOf({ name: "hooks.example.com", certificateArn, hostedZoneId: "Z0123456789ABCDEFGHIJ" }, "us-east-1")).to.deep.equal([]);
        expect(problemsOf({ name: "hooks.example.com", certificateArn })).to.deep.equal([]);
    });
    it("GIVEN a bad host name, a non-ACM ARN and a bad zone id WHEN validated THEN each is named by its path with the value", () => {
        expect(problemsOf({ name: "https://hooks.example.com/", certificateArn: "arn:aws:iam::123456789012:server-certificate/x", hostedZoneId: "zone-1" })).to.deep.equal([
            'api.domain.name: must be a lowercase host name such as hooks.example.com, got "https://hooks.example.com/"',
            'api.domain.certificateArn: must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got "arn:aws:iam::123456789012:server-certificate/x"',
            'api.domain.hostedZoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got "zone-1"',
        ]);
    });
    it("GIVEN a certificate in another region than aws:region WHEN the stack config is loaded THEN refused before anything is created", () => {
        expect(problemsOf({ name: "hooks.example.com", certificateArn: certificateArn.replace("us-east-1", "eu-west-1") }, "us-east-1")[0]).to.match(/^api\.domain\.certificateArn: the certificate is in eu-west-1 but the stack deploys to us-east-1/);
        expect(() =>
            loadStackConfig(
                { "aws:region": "us-east-1", "webhook-pipeline:providers": JSON.stringify([{ name: "stripe", plugin: "stripe" }]), "webhook-pipeline:api": JSON.stringify({ domain: { name: "hooks.example.com", certificateArn: certificateArn.replace("us-east-1", "eu-west-1") } }) },
                () => false,
            ),
        ).to.throw(/api\.domain\.certificateArn: the certificate is in eu-west-1/);
    });
    it("GIVEN a domain without a name or certificate WHEN validated THEN both are required, by path", () => {
        const problems = problemsOf({});
        expect(problems.some((p) => p.startsWith("api.domain.name: is required"))).to.equal(true);
        expect(problems.some((p) => p.startsWith("api.domain.certificateArn: is required"))).to.equal(true);
    });
});
