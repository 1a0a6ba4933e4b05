/**
 * Worker settings under the mock runtime: each setting appears on exactly the
 * worker it was given to (an SQS lane's and a Kafka lane's) and on no other:
 * memory, timeout, tracing, environment, VPC, log retention, role statements,
 * handler secrets and who may read them, and the VPC endpoints.
 */
import { expect } from "chai";
import type { WebhookPipeline, WebhookPipelineArgs } from "../../components";
import { NetworkInterfacesSid } from "../../components/kafka";
import { TracingActions, TracingSid } from "../../components/lanes";
import { MockSession, plain, RecordedResource, settled, setupMocks, uploadedCode, valueOf } from "../../scripts/pulumi-mocks";

/** Distinctive values: the handler secret must never appear in code or environment. */
const DB_PASSWORD = "pw_WORKER_SETTINGS_must_not_leak_5e1d";
const API_KEY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-key-AbC123";
const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"];
const GROUP = "sg-0123456789abcdef0";
const ROUTES = ["rtb-0123456789abcdef0"];

export function settingsConfig(): WebhookPipelineArgs {
    return {
        providers: [
            {
                name: "acme",
                plugin: "github",
                secret: "signing",
                routes: { "order.*": "db" },
                lanes: {
                    db: {
                        memorySize: 1024,
                        timeoutSeconds: 60,
                        logRetentionDays: 90,
                        tracing: true,
                        environment: { DB_HOST: "db.internal", DB_NAME: "orders" },
                        secrets: { DB_PASSWORD, API_KEY: API_KEY_ARN },
                        permissions: [{ actions: ["rds-db:connect"], resources: ["arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/app"] }],
                        vpc: { subnetIds: SUBNETS, securityGroupIds: [GROUP], endpoints: true, routeTableIds: ROUTES },
                    },
                },
            },
            // A Kafka lane (MSK Serverless) with its own settings, and a plain SQS lane beside it.
            { name: "orders", plugin: "stripe", secret: "signing", lane: "kafka", memorySize: 2048, tracing: true, secrets: { TOKEN: "tok_KAFKA_must_not_leak_77" }, vpc: { subnetIds: [SUBNETS[0]], securityGroupIds: [GROUP] } },
            { name: "plain", plugin: "github", secret: "signing" },
        ],
    };
}

describe("worker settings (mocks)", function () {
    this.timeout(120_000);
    let session: MockSession;
    let pipeline: WebhookPipeline;
    const mine = (type: string) => session.byType(type).filter((r) => r.name.startsWith("ws-"));
    const one = (type: string, name: string): RecordedResource => {
        const found = mine(type).filter((r) => r.name === name);
        expect(found, `${type} ${name}`).to.have.length(1);
        return found[0];
    };
    const fn = (lane: string) => one("aws:lambda/function:Function", `ws-${lane}-worker-fn`);
    const statements = (lane: string): { Sid?: string; Action: string[]; Resource: string | string[] }[] => JSON.parse(one("aws:iam/rolePolicy:RolePolicy", `ws-${lane}-worker-policy`).inputs.policy).Statement;
    const bySid = (lane: string) => Object.fromEntries(statements(lane).map((s) => [s.Sid, s]));
    const others = ["acme-default", "plain-default"];

    before(async () => {
        session = await setupMocks();
        const { WebhookPipeline } = await import("../../components");
        pipeline = new WebhookPipeline("ws", settingsConfig());
        await valueOf(pipeline.webhookUrls);
        await Promise.all(mine("aws:lambda/function:Function").map((f) => uploadedCode(f)));
        await settled();
    });

    it("THEN memory, timeout, tracing, environment and VPC are on the db worker only", () => {
        const db = fn("acme-db").inputs;
        expect([db.memorySize, db.timeout, db.tracingConfig]).to.deep.equal([1024, 60, { mode: "Active" }]);
        expect(db.environment.variables).to.deep.equal({ DB_HOST: "db.internal", DB_NAME: "orders", POWERTOOLS_SERVICE_NAME: "webhook-worker-acme-db", POWERTOOLS_METRICS_NAMESPACE: "WebhookPipeline" });
        expect(db.vpcConfig).to.deep.equal({ subnetIds: SUBNETS, securityGroupIds: [GROUP] });
        for (const lane of others) {
            const f = fn(lane).inputs;
            expect([f.memorySize, f.timeout, f.tracingConfig, f.vpcConfig], lane).to.deep.equal([256, 30, undefined, undefined]);
            expect(Object.keys(f.environment.variables).sort(), lane).to.deep.equal(["POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"]);
        }
    });

    it("THEN the Kafka lane's worker gets its settings the same way", () => {
        const k = fn("orders-default").inputs;
        expect([k.memorySize, k.tracingConfig, k.vpcConfig]).to.deep.equal([2048, { mode: "Active" }, { subnetIds: [SUBNETS[0]], securityGroupIds: [GROUP] }]);
        const sids = bySid("orders-default");
        expect(sids[TracingSid]).to.deep.equal({ Sid: TracingSid, Effect: "Allow", Action: [...TracingActions], Resource: "*" });
        expect(sids.ReadHandlerSecrets.Resource).to.deep.equal([one("aws:secretsmanager/secret:Secret", "ws-orders-default-handler-secret-TOKEN").state.arn]);
        // The mapping's pollers (MSK in a VPC) and the worker in a VPC need network interfaces: one statement with both action lists.
        const network = statements("orders-default").filter((s) => s.Sid === NetworkInterfacesSid);
        expect(network).to.have.length(1);
        expect(network[0].Action).to.include.members(["ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]);
    });

    it("THEN the db worker's log group keeps 90 days, the others the default 30", () => {
        expect(one("aws:cloudwatch/logGroup:LogGroup", "ws-acme-db-worker-logs").inputs.retentionInDays).to.equal(90);
        for (const lane of others) expect(one("aws:cloudwatch/logGroup:LogGroup", `ws-${lane}-worker-logs`).inputs.retentionInDays, lane).to.equal(30);
    });

    it("THEN the db worker's role reads exactly its secrets, traces, manages its ENIs and has its extra statement; no other worker has any of it", () => {
        const created = one("aws:secretsmanager/secret:Secret", "ws-acme-db-handler-secret-DB_PASSWORD").state.arn;
        const sids = bySid("acme-db");
        expect(Object.keys(sids).sort()).to.deep.equal(["ConsumeLane", "Extra0", "Idempotency", NetworkInterfacesSid, "OwnLogs", "ReadClaimChecks", "ReadHandlerSecrets", TracingSid].sort());
        expect(sids.ReadHandlerSecrets).to.deep.equal({ Sid: "ReadHandlerSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [created, API_KEY_ARN] });
        expect(sids[TracingSid]).to.deep.equal({ Sid: TracingSid, Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" });
        expect(sids.Extra0).to.deep.equal({ Sid: "Extra0", Effect: "Allow", Action: ["rds-db:connect"], Resource: ["arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/app"] });
        expect(sids[NetworkInterfacesSid].Resource).to.equal("*");
        for (const lane of others) {
            expect(Object.keys(bySid(lane)).sort(), lane).to.deep.equal(["ConsumeLane", "Idempotency", "OwnLogs", "ReadClaimChecks"]);
        }
        // Nor does the router (it reads signing secrets only) or any other role name these secrets.
        for (const p of mine("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name !== "ws-acme-db-worker-policy")) {
            expect(p.inputs.policy.includes(created) || p.inputs.policy.includes(API_KEY_ARN), p.name).to.equal(false);
        }
    });

    it("THEN one Secrets Manager secret holds each handler secret value, as a Pulumi secret; the given ARN gets none", () => {
        const handlerSecrets = mine("aws:secretsmanager/secret:Secret").filter((s) => s.name.includes("handler-secret")).map((s) => s.name).sort();
        expect(handlerSecrets).to.deep.equal(["ws-acme-db-handler-secret-DB_PASSWORD", "ws-orders-default-handler-secret-TOKEN"]);
        const version = one("aws:secretsmanager/secretVersion:SecretVersion", "ws-acme-db-handler-secret-DB_PASSWORD-value");
        expect(plain<string>(version.inputs.secretString)).to.equal(DB_PASSWORD);
        expect(version.inputs.secretString).to.not.equal(DB_PASSWORD); // wrapped as a secret
    });

    it("THEN the worker's code maps secret names to ARNs and never holds a value", async () => {
        const { indexJs } = await uploadedCode(fn("acme-db"));
        expect(indexJs).to.include(API_KEY_ARN);
        expect(indexJs).to.include("ws-acme-db-handler-secret-DB_PASSWORD");
        for (const f of mine("aws:lambda/function:Function")) {
            const code = (await uploadedCode(f)).indexJs;
            expect(code.includes(DB_PASSWORD) || code.includes("tok_KAFKA"), f.name).to.equal(false);
            expect(JSON.stringify(f.inputs.environment ?? {}).includes("must_not_leak"), f.name).to.equal(false);
        }
    });

    it("THEN endpoints: gateways for S3 and DynamoDB on the route tables, Secrets Manager and X-Ray in one subnet per zone", () => {
        const endpoints = Object.fromEntries(mine("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.name.startsWith("ws-workers-")).map((e) => [e.name, e.inputs]));
        expect(Object.keys(endpoints).sort()).to.deep.equal(["ws-workers-dynamodb-endpoint", "ws-workers-s3-endpoint", "ws-workers-secretsmanager-endpoint", "ws-workers-xray-endpoint"]);
        expect(endpoints["ws-workers-s3-endpoint"]).to.deep.include({ vpcEndpointType: "Gateway", routeTableIds: ROUTES, vpcId: "vpc-0a1b2c3d4e5f60000", serviceName: "com.amazonaws.us-east-1.s3" });
        expect(endpoints["ws-workers-dynamodb-endpoint"]).to.deep.include({ vpcEndpointType: "Gateway", serviceName: "com.amazonaws.us-east-1.dynamodb" });
        // The mock puts subnet ...0 and ...2 in zone a, ...1 in zone b.
        expect(endpoints["ws-workers-xray-endpoint"]).to.deep.include({ vpcEndpointType: "Interface", privateDnsEnabled: true, subnetIds: [SUBNETS[0], SUBNETS[1]] });
        const ingress = mine("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.name.startsWith("ws-workers-"));
        expect(ingress.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort])).to.deep.equal([[GROUP, 443, 443]]);
    });
});
