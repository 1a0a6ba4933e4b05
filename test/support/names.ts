/**
 * The physical name AWS would see for each resource of a graph recorded under
 * Pulumi's mocks, and the limit AWS (or the provider) puts on it.
 *
 * Autonaming (a resource without an explicit name): the Pulumi AWS provider
 * names it `<logical name>-<7 random hex characters>` (pulumi-aws
 * provider/resources.go: `tfbridge.AutoName("name", 64, "-")` for
 * aws_lambda_function and aws_iam_role, Maxlen 80 and Randlen 7 for
 * aws_sqs_queue, `AutoNameTransform("bucket", 63, strings.ToLower)` for
 * aws_s3_bucket, 255 for metric alarms, 100 for a Lambda permission's
 * statementId; every other `name` gets the provider's default autonaming with
 * the same suffix). The bridge refuses a name whose prefix plus the random part
 * exceeds Maxlen, and AWS refuses one over the service's own limit: both are
 * checked here as the service limit.
 */
import type { RecordedResource } from "../../scripts/pulumi-mocks";

/** `-` and 7 random hex characters. */
export const AutonameSuffix = "-abc1234";

export interface NameRule {
    /** Input property holding the name when it is set explicitly. */
    readonly field: string;
    /** Whether the provider autonames it when the field is unset. */
    readonly autonamed: boolean;
    /** Longest name AWS accepts, in characters. */
    readonly max: number;
    /** Characters AWS accepts (whole name). */
    readonly pattern: RegExp;
    /** Transformation the provider applies (S3 lowercases). */
    readonly transform?: (name: string) => string;
    /** Where the limit comes from. */
    readonly source: string;
}

/** Every resource type that carries a physical name, with its AWS limit. */
export const NameRules: Readonly<Record<string, NameRule>> = {
    "aws:lambda/function:Function": { field: "name", autonamed: true, max: 64, pattern: /^[A-Za-z0-9_-]+$/, source: "Lambda API CreateFunction: FunctionName, 64 characters for a name" },
    "aws:iam/role:Role": { field: "name", autonamed: true, max: 64, pattern: /^[\w+=,.@-]+$/, source: "IAM API CreateRole: RoleName, 1-64" },
    "aws:iam/rolePolicy:RolePolicy": { field: "name", autonamed: true, max: 128, pattern: /^[\w+=,.@-]+$/, source: "IAM API PutRolePolicy: PolicyName, 1-128" },
    "aws:sqs/queue:Queue": { field: "name", autonamed: true, max: 80, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/, source: "SQS API CreateQueue: QueueName, up to 80 characters including .fifo" },
    "aws:cloudwatch/logGroup:LogGroup": { field: "name", autonamed: true, max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, source: "CloudWatch Logs API CreateLogGroup: logGroupName, 1-512" },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { field: "name", autonamed: true, max: 255, pattern: /^[^\s].*$/, source: "CloudWatch API PutMetricAlarm: AlarmName, 1-255" },
    "aws:cloudwatch/dashboard:Dashboard": { field: "dashboardName", autonamed: false, max: 255, pattern: /^[A-Za-z0-9_-]+$/, source: "CloudWatch API PutDashboard: DashboardName, up to 255, alphanumerics, - and _" },
    "aws:secretsmanager/secret:Secret": { field: "name", autonamed: true, max: 512, pattern: /^[A-Za-z0-9/_+=.@-]+$/, source: "Secrets Manager API CreateSecret: Name, 1-512" },
    "aws:s3/bucket:Bucket": {
        field: "bucket",
        autonamed: true,
        max: 63,
        pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
        transform: (n) => n.toLowerCase(),
        source: "Amazon S3 User Guide, General purpose bucket naming rules: 3-63, lowercase letters, digits, . and -",
    },
    "aws:dynamodb/table:Table": { field: "name", autonamed: true, max: 255, pattern: /^[A-Za-z0-9_.-]{3,}$/, source: "DynamoDB API CreateTable: TableName, 3-255" },
    "aws:apigatewayv2/api:Api": { field: "name", autonamed: true, max: 128, pattern: /^.+$/, source: "API Gateway V2 API CreateApi: Name, up to 128" },
    "aws:apigatewayv2/stage:Stage": { field: "name", autonamed: false, max: 128, pattern: /^\$default$|^[A-Za-z0-9_-]+$/, source: "API Gateway V2 API CreateStage: StageName, up to 128" },
    "aws:lambda/permission:Permission": { field: "statementId", autonamed: true, max: 100, pattern: /^[A-Za-z0-9_-]+$/, source: "Lambda API AddPermission: StatementId, 1-100, ([a-zA-Z0-9-_]+)" },
    "aws:ec2/securityGroup:SecurityGroup": { field: "name", autonamed: true, max: 255, pattern: /^(?!sg-).+$/, source: "EC2 API CreateSecurityGroup: GroupName, up to 255, cannot start with sg-" },
    "aws:msk/serverlessCluster:ServerlessCluster": { field: "clusterName", autonamed: false, max: 64, pattern: /^[0-9A-Za-z][0-9A-Za-z-]*$/, source: "MSK API CreateClusterV2: ClusterName, 1-64, ^[0-9A-Za-z][0-9A-Za-z-]{0,}$" },
};

/** Types with no physical name of their own (or none that AWS limits beyond what the rules above cover). */
export const Unnamed = new Set([
    "webhook-pipeline:index:WebhookPipeline",
    "pulumi:providers:aws",
    "aws:apigatewayv2/integration:Integration",
    "aws:apigatewayv2/route:Route",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    // A remote component: under mocks its children do not exist; they carry only Name tags (256 characters).
    "awsx:ec2:Vpc",
]);

export interface PhysicalName {
    readonly type: string;
    readonly logical: string;
    /** The name AWS sees (autonamed: with the 7-character suffix). */
    readonly name: string;
    readonly explicit: boolean;
    readonly rule: NameRule;
}

/** The final name of every named resource; throws on a type neither named nor listed as unnamed. */
export function physicalNames(resources: readonly RecordedResource[]): PhysicalName[] {
    const out: PhysicalName[] = [];
    for (const r of resources) {
        const rule = NameRules[r.type];
        if (!rule) {
            if (!Unnamed.has(r.type) && !r.type.startsWith("pulumi:providers:")) throw new Error(`resource type ${r.type} (${r.name}) has no name rule: add it to test/support/names.ts`);
            continue;
        }
        const explicit = r.inputs[rule.field];
        if (explicit === undefined && !rule.autonamed) throw new Error(`${r.type} ${r.name}: ${rule.field} is required`);
        const raw = explicit ?? `${r.name}${AutonameSuffix}`;
        out.push({ type: r.type, logical: r.name, name: rule.transform ? rule.transform(raw) : raw, explicit: explicit !== undefined, rule });
    }
    return out;
}

/** One line per named resource: `<type> <logical> -> <physical>` (autonamed shown with the suffix), sorted. */
export function nameListing(resources: readonly RecordedResource[]): string[] {
    return physicalNames(resources)
        .map((n) => `${n.type} ${n.logical} -> ${n.name}`)
        .sort();
}
