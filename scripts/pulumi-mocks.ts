/**
 * Pulumi's mock runtime, set up the way our tests and the offline synth need
 * it: realistic outputs for the resource types the component creates, every
 * registered resource recorded, and `call` refusing tokens it does not know
 * (so a new data-source call cannot slip past the tests unnoticed).
 *
 * Set the mocks before importing the program: `await setupMocks(...)`, then
 * `await import("../index")`.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly state: Record<string, any>;
}

const account = "123456789012";
const region = "us-east-1";

/** Outputs a real provider would compute, per resource type. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const physical = inputs.name ?? `${name}-abc1234`;
    switch (type) {
        case "aws:sqs/queue:Queue":
            return { name: physical, arn: `arn:aws:sqs:${region}:${account}:${physical}`, url: `https://sqs.${region}.amazonaws.com/${account}/${physical}` };
        case "aws:s3/bucket:Bucket":
            return { bucket: physical, arn: `arn:aws:s3:::${physical}` };
        case "aws:lambda/function:Function":
            return { name: physical, arn: `arn:aws:lambda:${region}:${account}:function:${physical}`, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:${account}:function:${physical}/invocations` };
        case "aws:iam/role:Role":
            return { name: physical, arn: `arn:aws:iam::${account}:role/${physical}` };
        case "aws:secretsmanager/secret:Secret":
            return { name: physical, arn: `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-AbCdEf` };
        case "aws:dynamodb/table:Table":
            return { name: physical, arn: `arn:aws:dynamodb:${region}:${account}:table/${physical}` };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { name: `/aws/lambda/${physical}`, arn: `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${physical}` };
        case "aws:apigatewayv2/api:Api":
            return { apiEndpoint: `https://a1b2c3d4e5.execute-api.${region}.amazonaws.com`, executionArn: `arn:aws:execute-api:${region}:${account}:a1b2c3d4e5` };
        case "aws:apigatewayv2/stage:Stage":
            return { invokeUrl: `https://a1b2c3d4e5.execute-api.${region}.amazonaws.com/` };
        // A regional custom domain: API Gateway's own target name and the Regional endpoint's hosted zone (us-east-1's).
        case "aws:apigatewayv2/domainName:DomainName":
            return { arn: `arn:aws:apigateway:${region}::/domainnames/${inputs.domainName}`, domainNameConfiguration: { ...inputs.domainNameConfiguration, targetDomainName: "d-mock12345.execute-api.us-east-1.amazonaws.com", hostedZoneId: "Z1UJRXOUMOOFQ8" } };
        case "aws:lambda/eventSourceMapping:EventSourceMapping":
            return { uuid: `${name}-uuid` };
        case "aws:sns/topic:Topic":
            return { arn: `arn:aws:sns:${region}:${account}:${physical}` };
        case "aws:msk/serverlessCluster:ServerlessCluster": {
            const uuid = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-s1";
            return {
                clusterName: inputs.clusterName ?? physical,
                clusterUuid: uuid,
                arn: `arn:aws:kafka:${region}:${account}:cluster/${inputs.clusterName ?? physical}/${uuid}`,
                bootstrapBrokersSaslIam: `boot-mock1234.c2.kafka-serverless.${region}.amazonaws.com:9098`,
            };
        }
        // awsx's Vpc is a remote (multi-language) component: under mocks its children do not exist, only its outputs.
        case "awsx:ec2:Vpc":
            return {
                vpcId: `vpc-${name}`,
                isolatedSubnetIds: ["a", "b", "c"].map((az) => `subnet-${name}-isolated-${az}`),
                privateSubnetIds: [],
                publicSubnetIds: [],
            };
        case "aws:ec2/securityGroup:SecurityGroup":
            return { arn: `arn:aws:ec2:${region}:${account}:security-group/sg-${name}` };
        case "aws:ec2/vpcEndpoint:VpcEndpoint":
            return { arn: `arn:aws:ec2:${region}:${account}:vpc-endpoint/vpce-${name}`, ...(inputs.vpcEndpointType === "Gateway" ? { prefixListId: "pl-63a5400a" } : {}) };
        default:
            return { arn: `arn:aws:mock:${region}:${account}:${name}` };
    }
}

/** What GetRandomPassword gives the pipeline-internal key under the mocks (tests look for it where it must not be). */
export const MOCK_INTERNAL_KEY = "mockInternalKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";

/** Data-source calls the program makes; anything else is an error. */
function callResult(token: string, inputs: Record<string, any> = {}): Record<string, any> {
    switch (token) {
        // Worker VPC endpoints look up the subnets' VPC and zones. Mock: one VPC; the id's last hex digit's parity picks zone a or b.
        case "aws:ec2/getSubnet:getSubnet":
            return { id: inputs.id, vpcId: "vpc-0a1b2c3d4e5f60000", availabilityZone: `${region}${parseInt(String(inputs.id).slice(-1), 16) % 2 ? "b" : "a"}` };
        case "aws:index/getRegion:getRegion":
            return { name: region, region, id: region };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: account, arn: `arn:aws:iam::${account}:user/mock`, userId: "mock" };
        // The pipeline-internal key's first value (components: createInternalKey).
        case "aws:secretsmanager/getRandomPassword:getRandomPassword":
            return { id: "mock-random-password", randomPassword: MOCK_INTERNAL_KEY };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
        // The S3 gateway endpoint of a Kafka pipeline's VPC is added to the VPC's route tables.
        case "aws:ec2/getRouteTables:getRouteTables":
            return { id: "mock-route-tables", ids: ["rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002", "rtb-0a1b2c3d4e5f60003"] };
        default:
            throw new Error(`pulumi mocks: unexpected call ${token} (add it to scripts/pulumi-mocks.ts if the program really needs it)`);
    }
}

/**
 * Optionally create a resource for real (in an emulator) and return the
 * outputs to use instead of the computed ones; undefined keeps the mock's.
 */
export type Provisioner = (type: string, name: string, inputs: Record<string, any>) => Promise<Record<string, any> | undefined>;

export interface MockSession {
    readonly resources: RecordedResource[];
    byType(type: string): RecordedResource[];
}

export async function setupMocks(options: { stack?: string; project?: string; config?: Record<string, string>; secretKeys?: string[]; provision?: Provisioner } = {}): Promise<MockSession> {
    const resources: RecordedResource[] = [];
    if (options.config) pulumi.runtime.setAllConfig(options.config, options.secretKeys);
    await pulumi.runtime.setMocks(
        {
            async newResource(args: pulumi.runtime.MockResourceArgs) {
                const real = options.provision ? await options.provision(args.type, args.name, args.inputs) : undefined;
                const state = { ...args.inputs, ...(real ?? computedState(args.type, args.name, args.inputs)) };
                resources.push({ type: args.type, name: args.name, inputs: args.inputs, state });
                // Ids as the AWS provider sets them where other resources refer to them (a secret's id is its ARN, a queue's its URL).
                const id = real?.id ?? (args.type === "aws:secretsmanager/secret:Secret" ? state.arn : args.type === "aws:sqs/queue:Queue" ? state.url : args.type === "aws:s3/bucket:Bucket" ? state.bucket : `${args.name}-id`);
                return { id, state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return callResult(args.token, args.inputs);
            },
        },
        options.project ?? "webhook-pipeline",
        options.stack ?? "test",
        true,
    );
    return { resources, byType: (type) => resources.filter((r) => r.type === type) };
}

/** Await an Output's value under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The code a CallbackFunction would upload: the serialized `__index.js` text and the other paths in its archive. */
export async function uploadedCode(resource: RecordedResource): Promise<{ indexJs: string; paths: string[] }> {
    const archive = await resource.inputs.code;
    const assets = await archive.assets;
    const index = assets["__index.js"];
    const indexJs: string = await index.text;
    return { indexJs, paths: Object.keys(assets).filter((p) => p !== "__index.js") };
}

/**
 * Wait until every resource registration in flight has finished. Under mocks a
 * resource is recorded only once its inputs resolve, so a route that depends
 * on a function's ARN appears after that function's code was serialized: wait
 * for this before inspecting the graph.
 */
export async function settled(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { rpcDone: Promise<unknown> } } };
    for (;;) {
        const pending = state.getStore().settings.rpcDone;
        await pending;
        await new Promise((r) => setImmediate(r));
        if (state.getStore().settings.rpcDone === pending) return;
    }
}

/** A secret input as the mock monitor sees it (a wrapper object), unwrapped. */
export function plain<T = unknown>(value: unknown): T {
    if (value && typeof value === "object" && "4dabf18193072939515e22adb298388d" in value) return (value as unknown as { value: T }).value;
    return value as T;
}
