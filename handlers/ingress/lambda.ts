/**
 * The ingress function as a Lambda behind an HTTP API route (payload 2.0),
 * for providers that challenge the endpoint. Created once per container.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { awsClients } from "../shared/clients";
import { cachedSecretReader } from "../shared/secrets";
import { createIngress, HttpRequestEvent, IngressRuntimeConfig } from "./ingress";

export function makeIngressHandler(getConfig: () => IngressRuntimeConfig) {
    const clients = awsClients();
    const handle = createIngress({
        sqs: clients.sqs,
        // S3 holds only bodies too large for SQS: a getter keeps @aws-sdk/client-s3 unloaded until one arrives.
        get s3() {
            return clients.s3;
        },
        secrets: cachedSecretReader(clients.secrets),
        config: getConfig(),
    });
    return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => handle(event as unknown as HttpRequestEvent);
}
