/**
 * Least-privilege policy documents, as pure functions so tests can assert the
 * exact statements. Actions are exact lists: no wildcard actions anywhere.
 */

export interface Statement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: string | string[];
    readonly Resource: string | string[];
    readonly Condition?: Record<string, Record<string, string | string[] | boolean>>;
    readonly Principal?: unknown;
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: Statement[];
}

export const Actions = {
    /** What an SQS event source mapping needs on its queue (as AWS documents it). */
    consumeQueue: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
    /** SendMessage also covers SendMessageBatch. */
    sendQueue: ["sqs:SendMessage"],
    writeLogs: ["logs:CreateLogStream", "logs:PutLogEvents"],
    readSecret: ["secretsmanager:GetSecretValue"],
    putObject: ["s3:PutObject"],
    getObject: ["s3:GetObject"],
    /** Powertools idempotency: conditional put, get, update, delete of one record. */
    idempotency: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
} as const;

export function policy(...statements: Statement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

export function allow(action: readonly string[], resource: string | string[], sid?: string): Statement {
    return { ...(sid ? { Sid: sid } : {}), Effect: "Allow", Action: [...action], Resource: resource };
}

/**
 * Trust policy letting a service assume a role (trust policies name no Resource), optionally only
 * on behalf of one account's resources (`sourceConditions`).
 *
 * Lambda execution roles get no condition: Lambda assumes them for the function itself, and the
 * protection AWS documents for them is that only a principal of this account allowed
 * `iam:PassRole` can attach the role to a function, plus `lambda:SourceFunctionArn` in policies
 * that should honour only this function's credentials (AWS Lambda Developer Guide, "Using source
 * function ARN to control function access behavior"); a SourceArn condition would name the
 * function's ARN, which depends on the role (a cycle).
 */
export function assumeRolePolicy(service: "lambda.amazonaws.com" | "apigateway.amazonaws.com", condition?: Statement["Condition"]) {
    return { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow" as const, Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }] };
}

/**
 * Cross-service confused-deputy guard for a role a service assumes for one of this account's
 * resources: when the service says on whose behalf it assumes the role (`aws:SourceAccount`,
 * `aws:SourceArn`), it must be this account and `sourceArn` (IAM User Guide, "The confused deputy
 * problem", cross-service confused deputy prevention; AWS global condition context keys).
 *
 * `...IfExists`: API Gateway is reported not to populate `aws:SourceAccount` when it assumes an
 * integration credentials role (aws-solutions-library-samples/accelerated-intelligent-document-
 * processing-on-aws PR #479: a StringEquals condition there denied every request with a 500). A
 * plain condition could therefore refuse every webhook; with IfExists a request that carries the
 * keys must match them, and one that does not is allowed as before. Unverifiable here: see the
 * README's known limits.
 */
export function sourceConditions(accountId: string, sourceArn: string): NonNullable<Statement["Condition"]> {
    return { StringEqualsIfExists: { "aws:SourceAccount": accountId }, ArnLikeIfExists: { "aws:SourceArn": sourceArn } };
}

/** Deny any request to the bucket that does not use TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
    return policy({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": false } },
    });
}

/** Object ARNs for key prefixes of a bucket: `arn:...:bucket/raw/*`. */
export function objectArns(bucketArn: string, ...prefixes: string[]): string[] {
    return prefixes.map((p) => `${bucketArn}/${p}/*`);
}
