/**
 * Packages each function requires at run time, by role: everything else in
 * `dependencies` is left out of its zip (components/functions.ts).
 */

/** Packages each function requires at run time, the AWS SDK's included: the zip ships them (components/functions.ts `RuntimeProvidedPackages`). */
export const FunctionPackages = {
    router: ["@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics", "@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"],
    /** Powertools idempotency's DynamoDB persistence requires @aws-sdk/util-dynamodb; S3 is loaded for claim checks only; Parameters reads handler secrets (context.secrets), loaded on the first read only. */
    worker: ["@aws-lambda-powertools/batch", "@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics", "@aws-lambda-powertools/parameters", "@aws-sdk/client-dynamodb", "@aws-sdk/client-s3", "@aws-sdk/util-dynamodb"],
    /** SQS to enqueue, Secrets Manager to verify a challenge, S3 for claim checks. */
    ingress: ["@aws-sdk/client-s3", "@aws-sdk/client-secrets-manager", "@aws-sdk/client-sqs"] as string[],
    /** Added to the router's packages when the pipeline has Kafka lanes (and only then). */
    kafkaRouter: ["kafkajs", "aws-msk-iam-sasl-signer-js"],
    /** Kafka lane workers: Lambda's event source does the Kafka side, so no kafkajs and no batch utility. */
    kafkaWorker: ["@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics", "@aws-lambda-powertools/parameters", "@aws-sdk/client-dynamodb", "@aws-sdk/client-s3", "@aws-sdk/util-dynamodb"],
} as const;
