/**
 * Packages each function requires at run time, by role: everything else in
 * `dependencies` is left out of its zip (components/functions.ts).
 */

/** Packages each function requires at run time (the AWS SDK v3 ships with the Lambda runtime). */
export const FunctionPackages = {
    router: ["@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"],
    /** Parameters reads handler secrets (context.secrets), loaded on the first read only. */
    worker: ["@aws-lambda-powertools/batch", "@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics", "@aws-lambda-powertools/parameters"],
    ingress: [] as string[],
    /** Added to the router's packages when the pipeline has Kafka lanes (and only then). */
    kafkaRouter: ["kafkajs"],
    /** Kafka lane workers: Lambda's event source does the Kafka side, so no kafkajs and no batch utility. */
    kafkaWorker: ["@aws-lambda-powertools/idempotency", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics", "@aws-lambda-powertools/parameters"],
} as const;
