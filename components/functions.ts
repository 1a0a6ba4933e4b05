/**
 * A callback function the way this project needs it: its own role with an
 * exact inline policy (the CallbackFunction default attaches nine FullAccess
 * managed policies), its own log group, only the packages it runs in its zip,
 * and, for queue consumers, an event source mapping built by hand
 * (`queue.onEvent` cannot set ReportBatchItemFailures or maximumConcurrency).
 * Kafka lane workers get a Kafka event source mapping (components/kafka.ts
 * builds its settings); the router of a pipeline with Kafka lanes may run in a VPC.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { Actions, allow, assumeRolePolicy, PolicyDocument, Statement } from "./iam";

/** The newest Node.js runtime @pulumi/aws offers (Node.js 20 is end of life). */
export const LambdaRuntime = aws.lambda.Runtime.NodeJS24dX;

export interface CallbackArgs<E, R> {
    /** Called once per container; returns the handler. Create clients inside it, never at module level. */
    readonly factory: () => (event: E, context: aws.lambda.Context) => Promise<R>;
    readonly description: string;
    /** Statements besides writing its own logs. */
    readonly statements: pulumi.Input<Statement[]>;
    readonly timeoutSeconds: number;
    /** @default 256 */
    readonly memorySize?: number;
    /** Packages from `dependencies` the function requires at run time; everything else is left out of the zip. */
    readonly packages: readonly string[];
    readonly environment?: Record<string, pulumi.Input<string>>;
    /** @default 30 */
    readonly logRetentionDays?: number;
    /** X-Ray active tracing (`tracingConfig: { mode: "Active" }`); the caller grants the X-Ray actions. @default false */
    readonly tracing?: boolean;
    /** Run in these subnets with these security groups (the router, when Kafka brokers are only reachable in a VPC). @default no VPC */
    readonly vpc?: { readonly subnetIds: pulumi.Input<string[]>; readonly securityGroupIds: pulumi.Input<string[]> };
}

export interface QueueTrigger {
    readonly queueArn: pulumi.Input<string>;
    readonly batchSize: number;
    /** Seconds to wait to fill a batch. Must be >= 1 when batchSize > 10 on standard queues. */
    readonly batchWindowSeconds?: number;
    /** 2..1000: the most concurrent invocations this queue may cause. */
    readonly maximumConcurrency: number;
}

/** A Kafka event source mapping (MSK or self-managed brokers); everything but the function. */
export interface KafkaTrigger {
    readonly kind: "kafka";
    readonly mapping: Omit<aws.lambda.EventSourceMappingArgs, "functionName">;
}

export interface CreatedFunction {
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly fn: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly mapping?: aws.lambda.EventSourceMapping;
}

/** Runtime packages that Lambda's Node.js runtime already ships: never zipped. */
const providedByRuntime = (name: string) => name.startsWith("@aws-sdk/") || name === "aws-sdk";

/** Every dependency except `keep` (and what the runtime ships, which is always excluded). */
export function excludedPackages(keep: readonly string[], packageJsonPath = path.join(process.cwd(), "package.json")): string[] {
    const pkg = JSON.parse(fs.readFileSync(packageJsonPath, "utf8")) as { dependencies?: Record<string, string> };
    return Object.keys(pkg.dependencies ?? {}).filter((name) => providedByRuntime(name) || !keep.includes(name));
}

function isKafkaTrigger(trigger: QueueTrigger | KafkaTrigger | undefined): trigger is KafkaTrigger {
    return trigger !== undefined && "kind" in trigger && trigger.kind === "kafka";
}

export function createCallback<E, R>(name: string, args: CallbackArgs<E, R>, parent: pulumi.Resource, trigger?: QueueTrigger | KafkaTrigger): CreatedFunction {
    const opts = { parent };
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays ?? 30 }, opts);
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")), description: `${args.description} (least privilege)` }, opts);
    const document: pulumi.Output<PolicyDocument> = pulumi
        .all([args.statements, logGroup.arn])
        .apply(([statements, logArn]) => ({ Version: "2012-10-17" as const, Statement: [allow(Actions.writeLogs, `${logArn}:*`, "OwnLogs"), ...statements] }));
    const rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: document.apply((d) => JSON.stringify(d)) }, opts);

    const fn = new aws.lambda.CallbackFunction<E, R>(
        `${name}-fn`,
        {
            description: args.description,
            callbackFactory: args.factory as unknown as aws.lambda.CallbackFactory<E, R>,
            role: role.arn,
            runtime: LambdaRuntime,
            timeout: args.timeoutSeconds,
            memorySize: args.memorySize ?? 256,
            architectures: ["arm64"],
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
            environment: args.environment ? { variables: args.environment } : undefined,
            codePathOptions: { extraExcludePackages: excludedPackages(args.packages) },
            vpcConfig: args.vpc ? { subnetIds: args.vpc.subnetIds, securityGroupIds: args.vpc.securityGroupIds } : undefined,
            tracingConfig: args.tracing ? { mode: "Active" } : undefined,
        },
        { parent, dependsOn: [rolePolicy] },
    );

    if (isKafkaTrigger(trigger)) {
        const mapping = new aws.lambda.EventSourceMapping(`${name}-trigger`, { ...trigger.mapping, functionName: fn.arn }, { parent, dependsOn: [rolePolicy] });
        return { role, logGroup, fn: fn as unknown as aws.lambda.CallbackFunction<unknown, unknown>, mapping };
    }
    const mapping = trigger
        ? new aws.lambda.EventSourceMapping(
              `${name}-trigger`,
              {
                  eventSourceArn: trigger.queueArn,
                  functionName: fn.arn,
                  batchSize: trigger.batchSize,
                  // AWS requires a batching window for standard-queue batches above 10.
                  maximumBatchingWindowInSeconds: trigger.batchWindowSeconds ?? (trigger.batchSize > 10 ? 1 : undefined),
                  functionResponseTypes: ["ReportBatchItemFailures"],
                  scalingConfig: { maximumConcurrency: trigger.maximumConcurrency },
              },
              { parent, dependsOn: [rolePolicy] },
          )
        : undefined;
    return { role, logGroup, fn: fn as unknown as aws.lambda.CallbackFunction<unknown, unknown>, mapping };
}
