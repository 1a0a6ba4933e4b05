/**
 * Child resource names. Logical names start with the component's name so two
 * pipelines in one stack never collide; physical names stay under AWS limits,
 * shortened with a stable hash only when they would not fit.
 * Names are permanent once deployed: changing this file replaces resources.
 * test/components/names.test.ts checks every name in the graph for the
 * longest names validation allows, and that names that fit never change.
 */
import { createHash } from "crypto";
import { Limits } from "../model/constants";

/** Longest physical name AWS accepts, per resource (each checked in test/support/names.ts, with its source). */
export const NameLimits = {
    /** Lambda function names (Lambda API CreateFunction: FunctionName). */
    lambda: 64,
    /** IAM role names (IAM API CreateRole: RoleName). */
    iamRole: 64,
    /** IAM inline policy names (IAM API PutRolePolicy: PolicyName). */
    iamRolePolicy: 128,
    /** SQS queue name, including `.fifo` (SQS API CreateQueue: QueueName). */
    sqs: 80,
    /** CloudWatch Logs log group names (CreateLogGroup: logGroupName). */
    logGroup: 512,
    /** CloudWatch alarm names (PutMetricAlarm: AlarmName) and dashboard names (PutDashboard: DashboardName). */
    alarm: 255,
    dashboard: 255,
    /** Secrets Manager secret names (CreateSecret: Name). */
    secret: 512,
    /** S3 bucket names (Amazon S3 User Guide, General purpose bucket naming rules). */
    s3Bucket: 63,
    /** DynamoDB table names (CreateTable: TableName). */
    dynamoTable: 255,
    /** API Gateway HTTP API names (CreateApi: Name). */
    httpApi: 128,
    /** Lambda permission statement ids (AddPermission: StatementId). */
    lambdaStatementId: 100,
    /** EC2 security group names (CreateSecurityGroup: GroupName). */
    securityGroup: 255,
    /** MSK cluster names (CreateClusterV2: ClusterName). */
    mskCluster: 64,
    /** Lambda event source mapping poller groups (ProvisionedPollerConfig: PollerGroupName). */
    pollerGroup: 128,
} as const;

/**
 * What Pulumi's autonaming appends to a logical name: `-` and 7 random hex
 * characters (pulumi-aws provider/resources.go: `tfbridge.AutoName(name, max, "-")`,
 * Randlen 7; the bridge refuses a name longer than its max rather than cutting it).
 */
export const AutonameSuffixLength = 8;

/** `webhooks`, `stripe`, `default`, `queue` -> `webhooks-stripe-default-queue` */
export function childName(...parts: string[]): string {
    return parts.filter(Boolean).join("-");
}

/**
 * Fit `name` into `max` characters: unchanged when it fits, otherwise a prefix
 * plus an 8-character hash of the whole name (stable across runs).
 */
export function fitName(name: string, max: number): string {
    if (name.length <= max) return name;
    const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
    return `${name.slice(0, max - hash.length - 1)}-${hash}`;
}

/**
 * The logical name of an autonamed resource whose physical name (logical name
 * plus Pulumi's suffix) must fit `max`: unchanged when it fits, hashed when not.
 */
export function autoName(logical: string, max: number): string {
    return fitName(logical, max - AutonameSuffixLength);
}

/**
 * The stack name as part of an explicit physical name. Pulumi allows `.` (and
 * `_`) in stack names; SQS queue and CloudWatch dashboard names allow only
 * letters, digits, `-` and `_`, MSK cluster names only letters, digits and `-`.
 * Characters the resource refuses become `-`: a name with them never deployed.
 */
export function stackNamePart(stack: string, allowed: "alnum-underscore" | "alnum"): string {
    return stack.replace(allowed === "alnum" ? /[^A-Za-z0-9-]/g : /[^A-Za-z0-9_-]/g, "-");
}

/**
 * Problems with the component's name (`new WebhookPipeline(name, ...)`), which
 * starts every child's name: letters, digits and `-` (S3 lowercases the bucket
 * name and refuses `_` and `.` elsewhere), starting with a letter or digit, at
 * most `Limits.maxPipelineNameLength` characters. Longer names never deployed:
 * every worker's role name overflowed 64 characters.
 */
export function pipelineNameProblems(name: string): string[] {
    const max = Limits.maxPipelineNameLength;
    return name.length <= max && /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(name)
        ? []
        : [`name: "${name}" must be at most ${max} characters, letters, digits and '-', starting with a letter or digit (it starts every AWS resource name)`];
}
