/**
 * VPC endpoints for workers in your VPC (`vpc.endpoints: true`), so a worker
 * in private subnets without a NAT still reaches what the pipeline's own
 * worker code calls:
 *
 * - S3 (claim-checked bodies) and DynamoDB (idempotency): gateway endpoints,
 *   free, added to the `routeTableIds` you give;
 * - Secrets Manager (handler secrets), when a lane in the VPC has `secrets`;
 * - X-Ray, when a lane in the VPC has `tracing` (safe either way: whether
 *   Lambda's own trace segments leave through the function's network could
 *   not be verified here);
 *
 * interface endpoints with private DNS, in one subnet per availability zone
 * (an interface endpoint takes at most one subnet per zone), behind a
 * security group admitting HTTPS from the workers' security groups.
 *
 * Not created, because the worker never calls them from its network: SQS
 * (the event source mapping polls and deletes from the Lambda service, not
 * from the function) and CloudWatch Logs (Lambda captures the function's
 * stdout and sends it itself: "Sending Lambda function logs to CloudWatch
 * Logs", Lambda developer guide). Your handler's own calls (your database,
 * other AWS services) are yours to route.
 *
 * `endpoints: false` (the default): your VPC routes these itself (NAT gateway
 * or your endpoints). An interface endpoint's private DNS name exists once
 * per VPC, so a VPC that already has one of these endpoints needs
 * `endpoints: false`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineModel } from "../model/pipeline";
import { childName } from "./naming";

/** What the worker endpoints are, by service: gateway (S3, DynamoDB) or interface. */
export const WorkerEndpointServices = {
    gateway: ["s3", "dynamodb"],
    /** When a lane in the VPC has handler secrets. */
    secrets: "secretsmanager",
    /** When a lane in the VPC has tracing. */
    tracing: "xray",
} as const;

/** Create the endpoints when a lane asks for them (validation makes every such lane give the same subnets and route tables). */
export function createWorkerEndpoints(name: string, model: PipelineModel, parent: pulumi.Resource): aws.ec2.VpcEndpoint[] {
    for (const l of model.lanes.filter((x) => x.worker.vpc && !x.worker.vpc.endpoints)) {
        pulumi.log.warn(
            `lane ${l.id}'s worker runs in your VPC without vpc.endpoints: its subnets must reach S3 and DynamoDB${l.worker.secrets.length ? ", Secrets Manager" : ""}${l.worker.tracing ? " and X-Ray" : ""} ` +
                `through your NAT gateway or VPC endpoints, or every message fails and ends in the lane's DLQ (set vpc.endpoints: true with routeTableIds to have them created)`,
            parent,
        );
    }
    const lanes = model.lanes.filter((l) => l.worker.vpc?.endpoints);
    if (lanes.length === 0) return [];
    const opts = { parent };
    const vpc = lanes[0].worker.vpc!;
    const base = childName(name, "workers");
    const subnets = pulumi.all(vpc.subnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, { parent })));
    const vpcId = subnets.apply((all) => {
        const vpcs = [...new Set(all.map((s) => s.vpcId))];
        if (vpcs.length !== 1) throw new pulumi.ResourceError(`vpc.subnetIds of lane ${lanes[0].id} are in ${vpcs.length} VPCs (${vpcs.join(", ")}): a worker's subnets must share one VPC`, parent);
        return vpcs[0];
    });
    // One subnet per availability zone: an interface endpoint refuses two in the same zone.
    const endpointSubnets = subnets.apply((all) => all.filter((s, i) => all.findIndex((o) => o.availabilityZone === s.availabilityZone) === i).map((s) => s.id));
    const region = aws.getRegionOutput({}, { parent }).region;
    const endpoints: aws.ec2.VpcEndpoint[] = [];
    for (const service of WorkerEndpointServices.gateway) {
        endpoints.push(
            new aws.ec2.VpcEndpoint(childName(base, service, "endpoint"), {
                vpcId,
                serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
                vpcEndpointType: "Gateway",
                routeTableIds: [...vpc.routeTableIds],
            }, opts),
        );
    }
    const interfaces = [
        ...(lanes.some((l) => l.worker.secrets.length) ? [WorkerEndpointServices.secrets] : []),
        ...(lanes.some((l) => l.worker.tracing) ? [WorkerEndpointServices.tracing] : []),
    ];
    if (interfaces.length === 0) return endpoints;
    const sg = new aws.ec2.SecurityGroup(childName(base, "endpoints-sg"), { vpcId, description: "Interface VPC endpoints for the webhook workers" }, opts);
    const groups = [...new Set(lanes.flatMap((l) => l.worker.vpc!.securityGroupIds))];
    groups.forEach((group) => {
        new aws.vpc.SecurityGroupIngressRule(childName(base, "endpoints-from", group), {
            securityGroupId: sg.id,
            referencedSecurityGroupId: group,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            description: "Webhook workers to AWS APIs",
        }, opts);
    });
    for (const service of interfaces) {
        endpoints.push(
            new aws.ec2.VpcEndpoint(childName(base, service, "endpoint"), {
                vpcId,
                serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
                vpcEndpointType: "Interface",
                privateDnsEnabled: true,
                subnetIds: endpointSubnets,
                securityGroupIds: [sg.id],
            }, opts),
        );
    }
    return endpoints;
}
