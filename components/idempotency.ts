/** The idempotency table the workers share (Powertools idempotency records, one per event). */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineModel } from "../model/pipeline";
import { childName } from "./naming";

/** Idempotency keys outlive provider retries (days), unlike FIFO deduplication (5 minutes). */
export function createIdempotencyTable(name: string, model: PipelineModel, parent: pulumi.Resource): aws.dynamodb.Table {
    void model;
    return new aws.dynamodb.Table(childName(name, "idempotency"), {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        ttl: { attributeName: "expiration", enabled: true },
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
    }, { parent });
}
