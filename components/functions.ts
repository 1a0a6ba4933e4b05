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
import { autoName, NameLimits } from "./naming";

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
    /** Packages from `dependencies` the function requires at run time, AWS SDK clients included (see RuntimeProvidedPackages); everything else is left out of the zip. */
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
    /** False creates the mapping disabled: Lambda does not poll the queue, messages wait in it (a paused lane). @default true */
    readonly enabled?: boolean;
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

/**
 * Packages we rely on the Lambda Node.js runtime to provide, so left out of
 * every zip: none. AWS documents no list. "Building Lambda functions with
 * Node.js" (Runtime-included SDK versions) says only that each Node.js
 * runtime includes "a specific minor version of the AWS SDK for JavaScript
 * v3, not the latest", which "depends on the runtime version and your AWS
 * Region"; the one package it names is @aws-sdk/client-s3, in its example.
 * The SDK's maintainers: "either 1) only use dependencies included in the
 * Lambda runtime, or 2) fully provide all `@aws-sdk` and `@smithy` node
 * module dependencies" (aws/aws-sdk-js-v3#5594), and runtime users found
 * SDK packages missing (@aws-sdk/util-retry #5122, @aws-sdk/util-utf8 #4401).
 * Powertools idempotency needs @aws-sdk/util-dynamodb, which no AWS page
 * names. So each function ships every SDK package it loads, at the versions
 * the tests ran (test/components/zip-isolation.test.ts runs each zip with
 * exactly this set beside it).
 */
export const RuntimeProvidedPackages: readonly string[] = [];

const providedByRuntime = (name: string) => RuntimeProvidedPackages.includes(name);

/**
 * Files of installed packages that no function loads: ES-module builds
 * (`dist-es/`, Powertools' `lib/esm/`; Lambda loads our CommonJS `__index.js`,
 * whose requires resolve to the CommonJS builds), type declarations
 * (`dist-types/`, `*.d.ts`), TypeScript sources and tests shipped beside
 * the build (`*.ts`: Node requires no `.ts`), ES-module files (`*.mjs`: a
 * CommonJS require resolves to the package's CommonJS entry), builds for
 * browsers and React Native (`*.browser.js`, `*.native.js`: picked only by
 * bundlers through package.json's `browser`/`react-native` fields), source
 * maps and Markdown. Without them the worker's zip is about 0.8 MB instead
 * of 3.6 MB, and 360 files instead of 4,500 (measured on the dev stack,
 * `npm run synth`); the zip-isolation tests run every zip without them.
 */
export const NotShippedFiles = /(^|[\\/])(dist-es|dist-types)[\\/]|[\\/]lib[\\/]esm[\\/]|\.[cm]?ts$|\.mjs$|\.(browser|native)\.js$|\.map$|\.md$/i;

/** Where Node finds package `name` from `fromDir`: the nearest `node_modules/<name>` at or above it, not above `root`. */
function resolvePackageDir(name: string, fromDir: string, root: string): string | undefined {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "node_modules", name);
        if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
        if (dir === root || path.dirname(dir) === dir) return undefined;
    }
}

function filesOf(dir: string, out: string[]) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        // A nested node_modules holds other packages: each is added if something depends on it.
        if (entry.isDirectory()) {
            if (entry.name !== "node_modules") filesOf(full, out);
        } else if (!NotShippedFiles.test(full)) {
            out.push(full);
        }
    }
}

const zipFilesCache = new Map<string, string[]>();

/**
 * The files a function's zip holds besides `__index.js`, relative to `root`:
 * the `packages` it runs and every package they depend on (package.json
 * `dependencies`, resolved as Node resolves them from each package's
 * folder), without NotShippedFiles and without what the runtime provides.
 * The same closure Pulumi's computeCodePaths walks, listed file by file so
 * that what never loads stays out.
 */
export function zipFiles(packages: readonly string[], root = process.cwd()): string[] {
    const key = `${root}\n${[...packages].sort().join(",")}`;
    const cached = zipFilesCache.get(key);
    if (cached) return cached;
    const dirs = new Set<string>();
    const visit = (name: string, fromDir: string) => {
        if (providedByRuntime(name)) return;
        const dir = resolvePackageDir(name, fromDir, root);
        if (!dir) throw new Error(`package ${name} (needed from ${path.relative(root, fromDir) || "the project"}) is not installed: run npm install`);
        if (dirs.has(dir)) return;
        dirs.add(dir);
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
        for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir);
    };
    for (const name of packages) visit(name, root);
    const files: string[] = [];
    for (const dir of [...dirs].sort()) filesOf(dir, files);
    const relative = files.map((f) => path.relative(root, f).split(path.sep).join("/"));
    zipFilesCache.set(key, relative);
    return relative;
}

/**
 * The CallbackFunction's code paths: exactly `zipFiles(packages)`. Every
 * dependency is excluded from Pulumi's own package walk, which would add
 * whole package folders.
 */
export function codePathOptionsFor(packages: readonly string[], root = process.cwd()): pulumi.runtime.CodePathOptions {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    return { extraIncludePaths: zipFiles(packages, root), extraExcludePackages: Object.keys(pkg.dependencies ?? {}) };
}

function isKafkaTrigger(trigger: QueueTrigger | KafkaTrigger | undefined): trigger is KafkaTrigger {
    return trigger !== undefined && "kind" in trigger && trigger.kind === "kafka";
}

export function createCallback<E, R>(name: string, args: CallbackArgs<E, R>, parent: pulumi.Resource, trigger?: QueueTrigger | KafkaTrigger): CreatedFunction {
    const opts = { parent };
    const logGroup = new aws.cloudwatch.LogGroup(autoName(`${name}-logs`, NameLimits.logGroup), { retentionInDays: args.logRetentionDays ?? 30 }, opts);
    const role = new aws.iam.Role(autoName(`${name}-role`, NameLimits.iamRole), { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")), description: `${args.description} (least privilege)` }, opts);
    const document: pulumi.Output<PolicyDocument> = pulumi
        .all([args.statements, logGroup.arn])
        .apply(([statements, logArn]) => ({ Version: "2012-10-17" as const, Statement: [allow(Actions.writeLogs, `${logArn}:*`, "OwnLogs"), ...statements] }));
    const rolePolicy = new aws.iam.RolePolicy(autoName(`${name}-policy`, NameLimits.iamRolePolicy), { role: role.id, policy: document.apply((d) => JSON.stringify(d)) }, opts);

    const fn = new aws.lambda.CallbackFunction<E, R>(
        autoName(`${name}-fn`, NameLimits.lambda),
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
            codePathOptions: codePathOptionsFor(args.packages),
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
                  enabled: trigger.enabled ?? true,
              },
              { parent, dependsOn: [rolePolicy] },
          )
        : undefined;
    return { role, logGroup, fn: fn as unknown as aws.lambda.CallbackFunction<unknown, unknown>, mapping };
}
