/** The archive bucket: every request as received (raw), quarantined requests, and claim-check bodies. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArchivePrefix } from "../model/constants";
import type { PipelineModel } from "../model/pipeline";
import { tlsOnlyBucketPolicy } from "./iam";
import { autoName, childName, NameLimits } from "./naming";

/** Encrypted, private, TLS-only; old requests move to a cheaper class. */
export function createArchiveBucket(name: string, model: PipelineModel, parent: pulumi.Resource): aws.s3.Bucket {
    const opts = { parent };
    const bucket = new aws.s3.Bucket(autoName(childName(name, "archive"), NameLimits.s3Bucket), { forceDestroy: false }, opts);
    new aws.s3.BucketServerSideEncryptionConfiguration(childName(name, "archive-sse"), {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    }, opts);
    new aws.s3.BucketPublicAccessBlock(childName(name, "archive-private"), {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }, opts);
    new aws.s3.BucketOwnershipControls(childName(name, "archive-owner"), { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    new aws.s3.BucketPolicy(childName(name, "archive-tls-only"), { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) }, opts);
    const expiration = model.archive.expirationDays > 0 ? { days: model.archive.expirationDays } : undefined;
    new aws.s3.BucketLifecycleConfiguration(childName(name, "archive-lifecycle"), {
        bucket: bucket.id,
        rules: [
            {
                id: "raw-and-quarantine-to-infrequent-access",
                status: "Enabled",
                filter: {},
                transitions: [{ days: model.archive.transitionDays, storageClass: "STANDARD_IA" }],
                expiration,
            },
            // Claim-check bodies are only needed while a message that points at one lives: its queue (the longest lane retention), then its DLQ (model/constants.ts).
            { id: "claims-expire", status: "Enabled", filter: { prefix: `${ArchivePrefix.Claims}/` }, expiration: { days: model.archive.claimsExpirationDays } },
        ],
    }, opts);
    return bucket;
}
