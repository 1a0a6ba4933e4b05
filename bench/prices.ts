/**
 * AWS list prices used by the cost model: us-east-1 (N. Virginia), on-demand,
 * first pricing tier, no free tier. Each price names the AWS pricing page it
 * comes from and when it was checked. These were checked on 2026-11-23
 * against stored copies of those pages and of secondary pages quoting them
 * (the build machines cannot reach the live pages): re-check them on the
 * live pages before quoting a figure outside this repository. AWS changes
 * prices; when one changes, update it here with the new date.
 */

export interface Price {
    /** USD per `per` units. */
    readonly usd: number;
    readonly per: number;
    readonly unit: string;
    /** Pricing page name and what on it. */
    readonly source: string;
    /** When the price was checked (YYYY-MM-DD). */
    readonly checked: string;
}

const checked = "2026-11-23";

export const Prices = {
    apiGatewayHttp: { usd: 1.0, per: 1e6, unit: "HTTP API requests (first 300 million a month; metered per 512 KB)", source: "Amazon API Gateway pricing (aws.amazon.com/api-gateway/pricing), HTTP APIs, US East (N. Virginia)", checked },
    apiGatewayRest: { usd: 3.5, per: 1e6, unit: "REST API requests (first 333 million a month)", source: "Amazon API Gateway pricing (aws.amazon.com/api-gateway/pricing), REST APIs, US East (N. Virginia)", checked },
    sqsStandard: { usd: 0.4, per: 1e6, unit: "SQS standard queue requests (each 64 KB chunk of a payload is one request)", source: "Amazon SQS pricing (aws.amazon.com/sqs/pricing), standard queues, first 100 billion requests a month", checked },
    sqsFifo: { usd: 0.5, per: 1e6, unit: "SQS FIFO queue requests (64 KB chunks)", source: "Amazon SQS pricing (aws.amazon.com/sqs/pricing), FIFO queues", checked },
    s3Put: { usd: 0.005, per: 1000, unit: "S3 Standard PUT, COPY, POST, LIST requests", source: "Amazon S3 pricing (aws.amazon.com/s3/pricing), Requests & data retrievals, S3 Standard", checked },
    s3Get: { usd: 0.0004, per: 1000, unit: "S3 Standard GET, SELECT and other requests", source: "Amazon S3 pricing (aws.amazon.com/s3/pricing), Requests & data retrievals, S3 Standard", checked },
    s3StorageGbMonth: { usd: 0.023, per: 1, unit: "GB-month of S3 Standard storage (first 50 TB)", source: "Amazon S3 pricing (aws.amazon.com/s3/pricing), Storage, S3 Standard", checked },
    lambdaRequests: { usd: 0.2, per: 1e6, unit: "Lambda requests", source: "AWS Lambda pricing (aws.amazon.com/lambda/pricing), Requests", checked },
    lambdaGbSecondX86: { usd: 0.0000166667, per: 1, unit: "Lambda GB-seconds, x86_64 (first 6 billion a month)", source: "AWS Lambda pricing (aws.amazon.com/lambda/pricing), Duration, x86", checked },
    lambdaGbSecondArm: { usd: 0.0000133334, per: 1, unit: "Lambda GB-seconds, arm64 (first 7.5 billion a month)", source: "AWS Lambda pricing (aws.amazon.com/lambda/pricing), Duration, Arm", checked },
    secretsManagerApi: { usd: 0.05, per: 10000, unit: "Secrets Manager API calls", source: "AWS Secrets Manager pricing (aws.amazon.com/secrets-manager/pricing), API calls", checked },
    dynamoDbWrite: { usd: 0.625, per: 1e6, unit: "DynamoDB on-demand write request units (after the November 2024 on-demand price reduction; was $1.25)", source: "Amazon DynamoDB pricing for on-demand capacity (aws.amazon.com/dynamodb/pricing/on-demand), Standard table class", checked },
    dynamoDbRead: { usd: 0.125, per: 1e6, unit: "DynamoDB on-demand read request units", source: "Amazon DynamoDB pricing for on-demand capacity (aws.amazon.com/dynamodb/pricing/on-demand), Standard table class", checked },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof Prices;

/** USD for `quantity` units of `price`. */
export function costOf(price: Price, quantity: number): number {
    return (price.usd * quantity) / price.per;
}
