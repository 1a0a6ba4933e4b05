/**
 * The MSK IAM token reproduces AWS's official signer (aws-msk-iam-sasl-signer-js
 * 1.0.3, `generateAuthTokenFromCredentialsProvider`) byte for byte. The
 * expected tokens were produced by that package for the fixed credentials,
 * region and signing time below (its `User-Agent` included), so a change that
 * breaks the signature fails here rather than with an authentication error
 * against MSK.
 */
import { expect } from "chai";
import { MskIamToken, signMskIamToken } from "../../handlers/kafka/msk-iam";

const now = new Date(Date.UTC(2024, 4, 17, 12, 34, 56));
const officialUserAgent = "aws-msk-iam-sasl-signer-js/1.0.3";
const secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

const vectors = [
    {
        name: "long-term credentials",
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey },
        token:
            "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSURFWEFNUExFJTJGMjAyNDA1MTclMkZ1cy1lYXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDA1MTdUMTIzNDU2WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduYXR1cmU9MDMzMDEwNjE2ZTY2MTI3MWQxMGYxNDk3Njc1YWQzZWFhMmMyZTlhNWFhNjVjZWI4NWQzM2EyODM2MWMzNjU5OCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q",
    },
    {
        name: "temporary credentials (session token with characters that need escaping)",
        credentials: { accessKeyId: "ASIAEXAMPLE", secretAccessKey, sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=chars" },
        token:
            "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFFWEFNUExFJTJGMjAyNDA1MTclMkZ1cy1lYXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDA1MTdUMTIzNDU2WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TZWN1cml0eS1Ub2tlbj1JUW9KYjNKcFoybHVYMlZqRVhBTVBMRSUyRlRPS0VOJTJCd2l0aCUzRGNoYXJzJlgtQW16LVNpZ25hdHVyZT05N2M5NzBmYWIzMGUyYzM0N2QyYmIxZmVmMTczMmIwOGNhZjZlNDE2NDZhNzczMTY4YjlkZjY1ZDcxYmIxZjFjJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdA",
    },
];

describe("MSK IAM token (OAUTHBEARER for kafkajs)", () => {
    for (const v of vectors) {
        it(`GIVEN ${v.name} THEN the token equals the official signer's`, () => {
            const signed = signMskIamToken({ region: "us-east-1", credentials: v.credentials, now, userAgent: officialUserAgent });
            expect(signed).to.deep.equal({ token: v.token, expiresAt: now.getTime() + 900_000 });
        });
    }

    it("GIVEN credentials that expire in 5 minutes THEN the token expires with them, not after 15 minutes", () => {
        const expiration = new Date(now.getTime() + 300_000);
        const signed = signMskIamToken({ region: "eu-west-1", credentials: { ...vectors[1].credentials, expiration }, now });
        const url = new URL(Buffer.from(signed.token, "base64url").toString("utf8"));
        expect(url.host).to.equal("kafka.eu-west-1.amazonaws.com");
        expect(url.searchParams.get("X-Amz-Expires")).to.equal("300");
        expect(url.searchParams.get("X-Amz-Credential")).to.equal("ASIAEXAMPLE/20240517/eu-west-1/kafka-cluster/aws4_request");
        expect(url.searchParams.get("User-Agent")).to.equal(MskIamToken.userAgent);
        expect(signed.expiresAt).to.equal(expiration.getTime());
        expect(signed.token).to.not.match(/[=+/]/);
    });

    it("GIVEN no region THEN it says to set AWS_REGION", () => {
        expect(() => signMskIamToken({ region: "", credentials: vectors[0].credentials })).to.throw("set AWS_REGION");
    });
});
