/**
 * The HTTP API: one POST route per provider, integrated directly with the
 * catch-all queue (SQS-SendMessage), or with the provider's ingress function
 * where the provider challenges the endpoint or signs the URL.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArchivePrefix } from "../model/constants";
import { apiGatewayMessageAttributes } from "../model/envelope";
import type { PipelineModel, ProviderModel } from "../model/pipeline";
import { createCallback, CreatedFunction } from "./functions";
import { Actions, allow, assumeRolePolicy, objectArns, sourceConditions } from "./iam";
import { autoName, childName, NameLimits } from "./naming";
import { FunctionPackages } from "./packages";
import type { QueuePair } from "./queues";
import { ingressFactory, providerRuntime } from "./runtime";

export interface ApiDependencies {
    readonly catchAll: QueuePair;
    readonly secrets: Map<string, aws.secretsmanager.Secret>;
    readonly bucket: aws.s3.Bucket;
    /** The pipeline-internal key's secret: ingress functions seal what they enqueue. */
    readonly internalKey: aws.secretsmanager.Secret;
}

export interface ApiResources {
    readonly api: aws.apigatewayv2.Api;
    readonly stage: aws.apigatewayv2.Stage;
    /** Base URL without the trailing slash: the custom domain's when api.domain is set, else the generated one. */
    readonly url: pulumi.Output<string>;
    /** The API's generated URL (execute-api), without the trailing slash; it keeps working beside a custom domain. */
    readonly endpointUrl: pulumi.Output<string>;
    /** Provider name -> its ingress function, for providers behind one. */
    readonly ingress: [string, CreatedFunction][];
}

/** HTTP API: direct SQS integration per provider route, or the ingress function where the provider challenges the endpoint. */
export function createApi(name: string, model: PipelineModel, deps: ApiDependencies, parent: pulumi.Resource): ApiResources {
    const { catchAll, secrets, bucket, internalKey } = deps;
    const opts = { parent };
    const api = new aws.apigatewayv2.Api(autoName(childName(name, "api"), NameLimits.httpApi), { protocolType: "HTTP", description: "Webhook ingestion: POST /webhooks/{provider}" }, opts);
    const accessLogs = new aws.cloudwatch.LogGroup(autoName(childName(name, "api-access-logs"), NameLimits.logGroup), { retentionInDays: 30 }, opts);
    const stage = new aws.apigatewayv2.Stage(childName(name, "api-stage"), {
        apiId: api.id,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: { throttlingRateLimit: model.api.throttleRateLimit, throttlingBurstLimit: model.api.throttleBurstLimit },
        accessLogSettings: {
            destinationArn: accessLogs.arn,
            format: JSON.stringify({
                requestId: "$context.requestId",
                ip: "$context.identity.sourceIp",
                requestTime: "$context.requestTimeEpoch",
                routeKey: "$context.routeKey",
                status: "$context.status",
                responseLength: "$context.responseLength",
                integrationError: "$context.integrationErrorMessage",
            }),
        },
    }, opts);
    // Only this account's API may assume the role: its execution ARN (the API does not depend on the role; the integrations do).
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const sendRole = new aws.iam.Role(autoName(childName(name, "api-role"), NameLimits.iamRole), {
        assumeRolePolicy: pulumi
            .all([accountId, api.executionArn])
            .apply(([account, executionArn]) => JSON.stringify(assumeRolePolicy("apigateway.amazonaws.com", sourceConditions(account, `${executionArn}/*`)))),
        description: "API Gateway: send to the catch-all queue only",
    }, opts);
    new aws.iam.RolePolicy(autoName(childName(name, "api-policy"), NameLimits.iamRolePolicy), {
        role: sendRole.id,
        policy: catchAll.queue.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [allow(Actions.sendQueue, arn, "SendToCatchAll")] })),
    }, opts);

    const ingress: [string, CreatedFunction][] = [];
    for (const provider of model.providers) {
        const base = childName(name, provider.name);
        let integration: aws.apigatewayv2.Integration;
        if (provider.ingress === "direct") {
            integration = new aws.apigatewayv2.Integration(childName(base, "integration"), {
                apiId: api.id,
                integrationType: "AWS_PROXY",
                integrationSubtype: "SQS-SendMessage",
                credentialsArn: sendRole.arn,
                payloadFormatVersion: "1.0",
                requestParameters: {
                    QueueUrl: catchAll.queue.url,
                    MessageBody: "$request.body",
                    MessageAttributes: apiGatewayMessageAttributes(provider.name, provider.headers, provider.signsUrl, "https", provider.allowedSourceIps !== undefined),
                },
            }, opts);
        } else {
            const fn = createIngressFunction(base, provider, catchAll, secrets.get(provider.name)!, bucket, internalKey, parent);
            ingress.push([provider.name, fn]);
            new aws.lambda.Permission(autoName(childName(base, "ingress-invoke"), NameLimits.lambdaStatementId), {
                action: "lambda:InvokeFunction",
                function: fn.fn.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${api.executionArn}/*/*${provider.path}`,
            }, opts);
            integration = new aws.apigatewayv2.Integration(childName(base, "integration"), {
                apiId: api.id,
                integrationType: "AWS_PROXY",
                integrationUri: fn.fn.invokeArn,
                payloadFormatVersion: "2.0",
            }, opts);
        }
        new aws.apigatewayv2.Route(childName(base, "route"), {
            apiId: api.id,
            routeKey: `POST ${provider.path}`,
            target: pulumi.interpolate`integrations/${integration.id}`,
        }, opts);
    }
    const endpointUrl = stage.invokeUrl.apply((u) => u.replace(/\/$/, ""));
    const domain = model.api.domain;
    if (!domain) return { api, stage, url: endpointUrl, endpointUrl, ingress };
    // Regional endpoint, TLS 1.2 ("Setting up a regional custom domain name in API Gateway"; HTTP APIs support regional custom domains only).
    const domainName = new aws.apigatewayv2.DomainName(childName(name, "api-domain"), {
        domainName: domain.name,
        domainNameConfiguration: { certificateArn: domain.certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
    }, opts);
    const mapping = new aws.apigatewayv2.ApiMapping(childName(name, "api-mapping"), { apiId: api.id, domainName: domainName.domainName, stage: stage.name }, opts);
    if (domain.hostedZoneId) {
        const target = domainName.domainNameConfiguration;
        // A only: an HTTP API's regional endpoint is IPv4 unless its ipAddressType is dualstack, which this does not set.
        new aws.route53.Record(childName(name, "api-domain-record"), {
            zoneId: domain.hostedZoneId,
            name: domain.name,
            type: "A",
            aliases: [{ name: target.targetDomainName, zoneId: target.hostedZoneId, evaluateTargetHealth: false }],
        }, opts);
    }
    // The URL waits for the mapping: it is usable once the mapping exists.
    const url = pulumi.all([domainName.domainName, mapping.id]).apply(([host]) => `https://${host}`);
    return { api, stage, url, endpointUrl, ingress };
}

function createIngressFunction(
    base: string,
    provider: ProviderModel,
    catchAll: QueuePair,
    secret: aws.secretsmanager.Secret,
    bucket: aws.s3.Bucket,
    internalKey: aws.secretsmanager.Secret,
    parent: pulumi.Resource,
): CreatedFunction {
    const ingressConfig = pulumi.all([catchAll.queue.url, bucket.bucket, secret.arn, internalKey.arn]).apply(([catchAllQueueUrl, bucketName, secretArn, sealSecretId]) => ({
        provider: providerRuntime(provider, secretArn),
        headers: provider.headers,
        signsUrl: provider.signsUrl,
        catchAllQueueUrl,
        bucket: bucketName,
        sealSecretId,
    }));
    return createCallback(
        childName(base, "ingress"),
        {
            description: `Webhook ingress for ${provider.name}: answers the endpoint challenge, enqueues the rest`,
            factory: ingressFactory(ingressConfig),
            statements: pulumi.all([catchAll.queue.arn, bucket.arn, secret.arn, internalKey.arn]).apply(([queueArn, bucketArn, secretArn, internalKeyArn]) => [
                allow(Actions.sendQueue, queueArn, "SendToCatchAll"),
                allow(Actions.putObject, objectArns(bucketArn, `${ArchivePrefix.Claims}/ingress/${provider.name}`), "WriteClaimChecks"),
                allow(Actions.readSecret, secretArn, "ReadSigningSecret"),
                allow(Actions.readSecret, internalKeyArn, "ReadInternalKey"),
            ]),
            timeoutSeconds: 10,
            packages: FunctionPackages.ingress,
        },
        parent,
    );
}
