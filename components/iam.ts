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

/** Trust policy letting a service assume a role (trust policies name no Resource). */
export function assumeRolePolicy(service: "lambda.amazonaws.com" | "apigateway.amazonaws.com") {
    return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] } as const;
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
