/**
 * The MSK IAM authentication token: what AWS's `aws-msk-iam-sasl-signer-js`
 * produces, done here with node:crypto so the router zip needs no extra
 * package. kafkajs sends it with the OAUTHBEARER SASL mechanism, which MSK
 * accepts on its IAM listener (port 9098).
 *
 * The token is a SigV4 presigned URL for `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect`
 * (service `kafka-cluster`, signed header `host`, empty payload, valid for at
 * most 15 minutes and never longer than the credentials), with a `User-Agent`
 * query parameter added after signing, base64url-encoded without padding.
 * test/kafka/msk-iam.test.ts holds tokens the official signer produced for
 * fixed inputs; this function reproduces them byte for byte.
 */
import { createHash, createHmac } from "crypto";

export const MskIamToken = {
    service: "kafka-cluster",
    action: "kafka-cluster:Connect",
    /** Longest validity MSK accepts. */
    maxExpirySeconds: 900,
    userAgent: "webhook-pipeline-msk-iam/1",
} as const;

export interface AwsCredentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
    /** When temporary credentials expire; the token never outlives them. */
    readonly expiration?: Date;
}

export interface MskIamTokenOptions {
    readonly region: string;
    readonly credentials: AwsCredentials;
    /** Signing time. @default now */
    readonly now?: Date;
    /** Sent as the `User-Agent` query parameter (not signed). @default MskIamToken.userAgent */
    readonly userAgent?: string;
}

export interface SignedToken {
    readonly token: string;
    /** Epoch ms after which MSK refuses the token. */
    readonly expiresAt: number;
}

/** RFC 3986 encoding as SigV4 wants it (`encodeURIComponent` plus `!'()*`). */
function escapeUri(value: string): string {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryString(query: Record<string, string>): string {
    return Object.keys(query)
        .sort()
        .map((key) => `${escapeUri(key)}=${escapeUri(query[key])}`)
        .join("&");
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text, "utf8").digest();

/** `2024-05-17T12:34:56.789Z` -> `20240517T123456Z` */
function amzDate(date: Date): string {
    return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Sign a token for the region's MSK IAM endpoint. Pure: same inputs, same token. */
export function signMskIamToken(options: MskIamTokenOptions): SignedToken {
    const { region, credentials } = options;
    if (!region) throw new Error("MSK IAM token: region is required (set AWS_REGION)");
    if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new Error("MSK IAM token: AWS credentials are required");
    const now = options.now ?? new Date();
    const lifetimeSeconds = credentials.expiration ? Math.floor((credentials.expiration.getTime() - now.getTime()) / 1000) : MskIamToken.maxExpirySeconds;
    const expiresIn = Math.max(1, Math.min(lifetimeSeconds, MskIamToken.maxExpirySeconds));
    const host = `kafka.${region}.amazonaws.com`;
    const longDate = amzDate(now);
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${region}/${MskIamToken.service}/aws4_request`;

    const query: Record<string, string> = {
        Action: MskIamToken.action,
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": `${credentials.accessKeyId}/${scope}`,
        "X-Amz-Date": longDate,
        "X-Amz-Expires": String(expiresIn),
        "X-Amz-SignedHeaders": "host",
    };
    if (credentials.sessionToken) query["X-Amz-Security-Token"] = credentials.sessionToken;

    const canonicalRequest = ["GET", "/", queryString(query), `host:${host}\n`, "host", sha256Hex("")].join("\n");
    const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256Hex(canonicalRequest)].join("\n");
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, shortDate), region), MskIamToken.service), "aws4_request");
    query["X-Amz-Signature"] = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
    query["User-Agent"] = options.userAgent ?? MskIamToken.userAgent;

    const url = `https://${host}/?${queryString(query)}`;
    return { token: Buffer.from(url, "utf8").toString("base64url"), expiresAt: now.getTime() + expiresIn * 1000 };
}
