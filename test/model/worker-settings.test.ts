/**
 * Worker settings (memory, log retention, tracing, environment, secrets,
 * permissions, vpc): how a named lane overrides its provider, and every
 * refusal, each naming the path, the provider and the value.
 */
import { expect } from "chai";
import { parseConfig, validateConfig } from "../../model/config";
import { buildPipelineModel, handlerSecretValuesOf } from "../../model/pipeline";
import { readStackConfig } from "../../model/stack-config";

const problemsOf = (provider: Record<string, unknown>, more: Record<string, unknown>[] = []) => {
    const result = validateConfig({ providers: [{ name: "acme", plugin: "github", ...provider }, ...more] });
    return result.ok ? [] : result.problems;
};

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123";
const vpc = { subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], securityGroupIds: ["sg-0123456789abcdef0"] };

describe("worker settings", () => {
    it("GIVEN settings on a provider and a named lane WHEN the model is built THEN the lane merges environment and secrets, adds permissions, replaces the rest", () => {
        // GIVEN
        const config = parseConfig({
            providers: [
                {
                    name: "acme",
                    plugin: "github",
                    memorySize: 512,
                    tracing: true,
                    environment: { DB_HOST: "db.internal", DB_NAME: "orders" },
                    secrets: { DB_PASSWORD: "s3cr3t", API_KEY: ARN },
                    permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::reports/*"] }],
                    vpc,
                    lanes: {
                        billing: {
                            memorySize: 1024,
                            logRetentionDays: 90,
                            environment: { DB_NAME: "billing" },
                            secrets: { DB_PASSWORD: "billing-pw" },
                            permissions: [{ actions: ["sns:Publish"], resources: ["arn:aws:sns:us-east-1:123456789012:billing"], effect: "Allow" }],
                            vpc: { ...vpc, subnetIds: ["subnet-0123456789abcdef2"] },
                        },
                    },
                },
            ],
        });
        // WHEN
        const [main, billing] = buildPipelineModel(config).lanes;
        // THEN
        expect(main.worker).to.deep.equal({
            memorySize: 512,
            logRetentionDays: 30,
            tracing: true,
            environment: { DB_HOST: "db.internal", DB_NAME: "orders" },
            secrets: [{ name: "DB_PASSWORD" }, { name: "API_KEY", arn: ARN }],
            permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::reports/*"] }],
            vpc: { ...vpc, endpoints: false, routeTableIds: [] },
        });
        expect(billing.worker).to.deep.equal({
            memorySize: 1024,
            logRetentionDays: 90,
            tracing: true,
            environment: { DB_HOST: "db.internal", DB_NAME: "billing" },
            secrets: [{ name: "DB_PASSWORD" }, { name: "API_KEY", arn: ARN }],
            permissions: [
                { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::reports/*"] },
                { actions: ["sns:Publish"], resources: ["arn:aws:sns:us-east-1:123456789012:billing"] },
            ],
            vpc: { subnetIds: ["subnet-0123456789abcdef2"], securityGroupIds: vpc.securityGroupIds, endpoints: false, routeTableIds: [] },
        });
        // Values stay in config, never in the model: only the pipeline-created ones are read from it.
        expect(handlerSecretValuesOf(config, main)).to.deep.equal({ DB_PASSWORD: "s3cr3t" });
        expect(handlerSecretValuesOf(config, billing)).to.deep.equal({ DB_PASSWORD: "billing-pw" });
        expect(JSON.stringify(buildPipelineModel(config))).to.not.include("s3cr3t");
    });

    it("refuses memory outside 128..10240 and a retention CloudWatch Logs does not accept, naming the provider and the value", () => {
        expect(problemsOf({ memorySize: 64, logRetentionDays: 10, lanes: { big: { memorySize: 20000.5 } } })).to.have.members([
            "providers[0] (acme).memorySize: must be a whole number of MB between 128 and 10240, got 64 (provider acme)",
            "providers[0] (acme).logRetentionDays: CloudWatch Logs accepts only 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (or 0: never expire), got 10 (provider acme)",
            "providers[0] (acme).lanes.big.memorySize: must be a whole number of MB between 128 and 10240, got 20000.5 (provider acme)",
        ]);
        expect(problemsOf({ memorySize: 10240, logRetentionDays: 0, lanes: { big: { logRetentionDays: 3653 } } })).to.deep.equal([]);
    });

    it("refuses environment names the pipeline or Lambda own, bad keys, and more than 4 KB in all", () => {
        const problems = problemsOf({
            environment: { AWS_REGION: "x", aws_endpoint_url: "x", POWERTOOLS_LOG_LEVEL: "DEBUG", WEBHOOK_FAIL_ACME: "1", NODE_OPTIONS: "--require x", TZ: "UTC", LAMBDA_TASK_ROOT: "/", "1BAD": "x", A: "x", "DB-HOST": "x", DB_HOST: "ok" },
        });
        expect(problems).to.have.members([
            'providers[0] (acme).environment.AWS_REGION: names starting with AWS_ are refused (reserved by Lambda and the AWS SDK), got "AWS_REGION" (provider acme); pick another name',
            'providers[0] (acme).environment.aws_endpoint_url: names starting with AWS_ are refused (reserved by Lambda and the AWS SDK), got "aws_endpoint_url" (provider acme); pick another name',
            'providers[0] (acme).environment.POWERTOOLS_LOG_LEVEL: names starting with POWERTOOLS_ are refused (set by the pipeline for its own Powertools logger, metrics, idempotency and batch code), got "POWERTOOLS_LOG_LEVEL" (provider acme); pick another name',
            'providers[0] (acme).environment.WEBHOOK_FAIL_ACME: names starting with WEBHOOK_ are refused (the pipeline\'s own variables), got "WEBHOOK_FAIL_ACME" (provider acme); pick another name',
            'providers[0] (acme).environment.NODE_OPTIONS: "NODE_OPTIONS" is refused (it changes how the pipeline\'s own code runs, and npm start runs every lane in one process) (provider acme)',
            'providers[0] (acme).environment.TZ: "TZ" is refused (reserved by Lambda) (provider acme)',
            'providers[0] (acme).environment.LAMBDA_TASK_ROOT: names starting with LAMBDA_ are refused (reserved by Lambda), got "LAMBDA_TASK_ROOT" (provider acme); pick another name',
            `providers[0] (acme).environment["1BAD"]: must start with a letter and hold at least 2 letters, digits or '_' (Lambda's key pattern), got "1BAD" (provider acme)`,
            `providers[0] (acme).environment["A"]: must start with a letter and hold at least 2 letters, digits or '_' (Lambda's key pattern), got "A" (provider acme)`,
            `providers[0] (acme).environment["DB-HOST"]: must start with a letter and hold at least 2 letters, digits or '_' (Lambda's key pattern), got "DB-HOST" (provider acme)`,
        ]);
        // 4 KB counts the lane's merged variables and the pipeline's own: fine on the provider, too much on the lane.
        const big = "x".repeat(3000);
        expect(problemsOf({ environment: { BIG: big }, lanes: { more: { environment: { MORE: "y".repeat(1000) } } } })).to.deep.equal([
            "providers[0] (acme).lanes.more.environment: lane acme-more's variables take 4122 bytes with the pipeline's own, Lambda allows 4096 in all (provider acme; move large values to secrets or S3)",
        ]);
        expect(problemsOf({ environment: { N: 5 } })).to.deep.equal(["providers[0] (acme).environment.N: must be a string (quote numbers and booleans), got 5"]);
    });

    it("refuses bad secret names and ARNs that are not a secret's full ARN", () => {
        expect(problemsOf({ secrets: { "db-password": "x", OK: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", FINE: ARN } })).to.have.members([
            `providers[0] (acme).secrets["db-password"]: a secret name must be a letter then up to 63 letters, digits or '_', got "db-password" (provider acme)`,
            'providers[0] (acme).secrets.OK: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db" is not a Secrets Manager secret\'s full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>; IAM matches the full ARN) (provider acme)',
        ]);
        expect(problemsOf({ secrets: { EMPTY: "" } })).to.deep.equal(["providers[0] (acme).secrets.EMPTY: must not be empty"]);
    });

    it("refuses wildcard actions, Deny, and resources that are not ARNs", () => {
        expect(
            problemsOf({
                permissions: [
                    { actions: ["*"], resources: ["*"] },
                    { actions: ["s3:*", "s3:Get*", "s3:GetObject?", "GetObject"], resources: ["bucket"], effect: "Deny" },
                    { actions: [], resources: [] },
                ],
            }),
        ).to.have.members([
            'providers[0] (acme).permissions[0].actions[0]: wildcard actions are refused (list the exact actions, e.g. s3:GetObject), got "*" (provider acme)',
            'providers[0] (acme).permissions[1].actions[0]: wildcard actions are refused (list the exact actions, e.g. s3:GetObject), got "s3:*" (provider acme)',
            'providers[0] (acme).permissions[1].actions[1]: wildcard actions are refused (list the exact actions, e.g. s3:GetObject), got "s3:Get*" (provider acme)',
            'providers[0] (acme).permissions[1].actions[2]: wildcard actions are refused (list the exact actions, e.g. s3:GetObject), got "s3:GetObject?" (provider acme)',
            'providers[0] (acme).permissions[1].actions[3]: must be an IAM action such as s3:GetObject (service:Action), got "GetObject" (provider acme)',
            'providers[0] (acme).permissions[1].resources[0]: must be an ARN (arn:...) or "*", got "bucket" (provider acme)',
            'providers[0] (acme).permissions[1].effect: only "Allow" (the worker\'s role grants nothing else, so a Deny has nothing to take away), got "Deny" (provider acme)',
            "providers[0] (acme).permissions[2].actions: must list at least one action (provider acme)",
            "providers[0] (acme).permissions[2].resources: must list at least one resource ARN (provider acme)",
        ]);
        expect(problemsOf({ permissions: [{ actions: ["s3:GetObject"] }] })).to.deep.equal(["providers[0] (acme).permissions[0].resources: is required"]);
    });

    it("refuses a vpc without subnets or groups, bad ids, endpoints without route tables, and two sets of endpoints", () => {
        expect(problemsOf({ vpc: { subnetIds: [], securityGroupIds: ["sg-123", "sg-0123456789abcdef0", "sg-0123456789abcdef0"], routeTableIds: ["rtb-0123456789abcdef0"] } })).to.have.members([
            "providers[0] (acme).vpc.subnetIds: must list at least one (subnet-0123456789abcdef0) (provider acme)",
            'providers[0] (acme).vpc.securityGroupIds[0]: must be an id like sg-0123456789abcdef0, got "sg-123" (provider acme)',
            'providers[0] (acme).vpc.securityGroupIds: lists "sg-0123456789abcdef0" more than once (provider acme)',
            "providers[0] (acme).vpc.routeTableIds: only applies with vpc.endpoints: true (provider acme)",
        ]);
        expect(problemsOf({ vpc: { subnetIds: ["subnet-1"] } })).to.have.members([
            "providers[0] (acme).vpc.securityGroupIds: is required",
            'providers[0] (acme).vpc.subnetIds[0]: must be an id like subnet-0123456789abcdef0, got "subnet-1" (provider acme)',
        ]);
        expect(problemsOf({ vpc: { ...vpc, endpoints: true } })).to.deep.equal([
            "providers[0] (acme).vpc.routeTableIds: is required with vpc.endpoints: true (the S3 and DynamoDB gateway endpoints are routes in the subnets' route tables) (provider acme)",
        ]);
        const withEndpoints = { ...vpc, endpoints: true, routeTableIds: ["rtb-0123456789abcdef0"] };
        expect(problemsOf({ vpc: withEndpoints, lanes: { other: { vpc: { ...withEndpoints, subnetIds: ["subnet-0123456789abcdef9"] } } } })).to.deep.equal([
            "providers[0] (acme).lanes.other.vpc: endpoints: true with other subnets or route tables than providers[0] (acme).vpc (provider acme); the pipeline creates one set of endpoints: give the same subnetIds and routeTableIds, or set endpoints: false and route through your NAT or endpoints",
        ]);
        expect(problemsOf({ vpc: withEndpoints }, [{ name: "other", plugin: "stripe", vpc: withEndpoints }])).to.deep.equal([]);
    });

    it("GIVEN stack config with a handler secret in plain text THEN it names the command that fixes it; an ARN is fine", () => {
        const providers = JSON.stringify([{ name: "acme", plugin: "github", secrets: { DB_PASSWORD: "plain", API_KEY: ARN }, lanes: { billing: { secrets: { TOKEN: "plain" } } } }]);
        const { problems } = readStackConfig({ "webhook-pipeline:providers": providers }, () => false);
        expect(problems).to.deep.equal([
            "providers[0].secrets.DB_PASSWORD: is stored in plain text (run `pulumi config set --secret --path 'webhook-pipeline:providers[0].secrets.DB_PASSWORD' <value>`, or give an existing secret's ARN)",
            "providers[0].lanes.billing.secrets.TOKEN: is stored in plain text (run `pulumi config set --secret --path 'webhook-pipeline:providers[0].lanes.billing.secrets.TOKEN' <value>`, or give an existing secret's ARN)",
        ]);
        expect(readStackConfig({ "webhook-pipeline:providers": providers }, () => true).problems).to.deep.equal([]);
    });
});
