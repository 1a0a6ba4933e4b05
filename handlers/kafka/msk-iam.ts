/**
 * MSK IAM authentication for kafkajs: the OAUTHBEARER token is made by AWS's
 * own signer, `aws-msk-iam-sasl-signer-js` (generateAuthTokenFromCredentialsProvider:
 * a SigV4 presigned `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect`,
 * base64url), which MSK accepts on its IAM listener (port 9098).
 *
 * The signer is required on the first token, not when this module loads: it
 * loads @aws-sdk/client-sts and @aws-sdk/credential-providers at its top,
 * which SCRAM and plaintext clients never need. The router's zip carries it
 * only when the pipeline has Kafka lanes (FunctionPackages.kafkaRouter).
 */
import type { generateAuthTokenFromCredentialsProvider } from "aws-msk-iam-sasl-signer-js";

export const MskIamToken = {
    /** Longest validity MSK accepts (the signer's EXPIRY_IN_SECONDS). */
    maxExpirySeconds: 900,
} as const;

export interface AwsCredentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
    /** When temporary credentials expire. */
    readonly expiration?: Date;
}

/**
 * The credentials as the signer gets them. Signer 1.0.3 takes the token's
 * lifetime from `expiration` unrounded, `min((expiration - now) / 1000, 900)`,
 * so credentials with less than 15 minutes left give a fractional
 * `X-Amz-Expires` (e.g. 299.873), which is not a valid SigV4 expiry
 * (aws/aws-msk-iam-sasl-signer-js pull request #33, "Account for partial
 * seconds in credential expiration", open). Without `expiration` the token
 * says 900 s; a presigned request still stops being valid when its temporary
 * credentials expire, and kafkajs reconnects with a fresh token then.
 */
export function signerCredentials(credentials: AwsCredentials, now = Date.now()): AwsCredentials {
    const { expiration, ...rest } = credentials;
    if (!expiration || expiration.getTime() - now >= MskIamToken.maxExpirySeconds * 1000) return credentials;
    return rest;
}

/** kafkajs' `oauthBearerProvider` for MSK IAM: a fresh token from AWS's signer on every call (each new connection). */
export function mskIamTokenProvider(region: string, credentials: () => Promise<AwsCredentials>): () => Promise<{ value: string }> {
    if (!region) throw new Error("MSK IAM token: region is required (set AWS_REGION)");
    return async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const signer = require("aws-msk-iam-sasl-signer-js") as { generateAuthTokenFromCredentialsProvider: typeof generateAuthTokenFromCredentialsProvider };
        const { token } = await signer.generateAuthTokenFromCredentialsProvider({ region, awsCredentialsProvider: async () => signerCredentials(await credentials()) });
        return { value: token };
    };
}
