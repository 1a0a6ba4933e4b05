/**
 * Alarms and the dashboard: DLQ depth, oldest message age and function errors
 * per queue and worker; one dashboard row per queue (Kafka lanes: their worker).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineModel } from "../model/pipeline";
import type { CreatedFunction } from "./functions";
import type { KafkaLaneResources, LaneResources } from "./lanes";
import { childName, fitName } from "./naming";
import type { QueuePair } from "./queues";

export interface MonitoredResources {
    readonly catchAll: QueuePair;
    readonly lanes: readonly LaneResources[];
    readonly kafkaLanes: readonly KafkaLaneResources[];
    readonly router: CreatedFunction;
}

/** DLQ has messages; oldest message too old; worker errors. */
export function createAlarms(name: string, model: PipelineModel, watched: MonitoredResources, topicArn: string | undefined, parent: pulumi.Resource) {
    const { catchAll, lanes, kafkaLanes, router } = watched;
    const actions = topicArn ? [topicArn] : [];
    const opts = { parent };
    const queueAlarms = (base: string, pair: QueuePair, maxAgeSeconds: number) => {
        new aws.cloudwatch.MetricAlarm(childName(base, "dlq-alarm"), {
            alarmDescription: `${base}: messages in the DLQ (failed ${"`"}maxReceiveCount${"`"} times). Inspect, fix, then redrive.`,
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: pair.dlq.name },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: actions,
        }, opts);
        new aws.cloudwatch.MetricAlarm(childName(base, "age-alarm"), {
            alarmDescription: `${base}: oldest message older than ${maxAgeSeconds}s (workers are not keeping up)`,
            namespace: "AWS/SQS",
            metricName: "ApproximateAgeOfOldestMessage",
            dimensions: { QueueName: pair.queue.name },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 5,
            threshold: maxAgeSeconds,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: actions,
        }, opts);
    };
    const errorAlarm = (base: string, fn: CreatedFunction) =>
        new aws.cloudwatch.MetricAlarm(childName(base, "errors-alarm"), {
            alarmDescription: `${base}: function errors`,
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: fn.fn.name },
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: actions,
        }, opts);
    queueAlarms(childName(name, "catch-all"), catchAll, Math.max(300, model.router.visibilityTimeoutSeconds));
    errorAlarm(childName(name, "router"), router);
    for (const l of lanes) {
        const base = childName(name, l.lane.id);
        queueAlarms(base, l, Math.max(300, l.lane.visibilityTimeoutSeconds));
        errorAlarm(base, l.worker);
    }
    // Kafka lanes have no queue to watch: worker errors (failed records are retried, then go to <topic>.dlq).
    for (const l of kafkaLanes) errorAlarm(childName(name, l.lane.id), l.worker);
}

/** One row per queue: the catch-all, then each SQS lane (queue and worker), then each Kafka lane's worker. */
export function createDashboard(name: string, watched: Omit<MonitoredResources, "router">, parent: pulumi.Resource) {
    const { catchAll, lanes, kafkaLanes } = watched;
    const region = aws.getRegionOutput({}, { parent }).region;
    const body = pulumi
        .all([region, catchAll.queue.name, catchAll.dlq.name, pulumi.all(lanes.map((l) => pulumi.all([l.queue.name, l.dlq.name, l.worker.fn.name]))), pulumi.all(kafkaLanes.map((l) => l.worker.fn.name))])
        .apply(([r, q, dlq, laneNames, kafkaWorkers]) => {
            const widget = (title: string, x: number, y: number, stat: string, metrics: unknown[][]) => ({ type: "metric", x, y, width: 12, height: 6, properties: { title, region: r, stat, metrics } });
            const queueWidget = (title: string, queue: string, deadLetters: string, y: number) =>
                widget(title, 0, y, "Maximum", [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue],
                    ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { yAxis: "right" }],
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", deadLetters, { label: "DLQ" }],
                ]);
            const workerWidget = (title: string, fn: string, y: number) =>
                widget(title, 12, y, "Sum", [
                    ["AWS/Lambda", "Invocations", "FunctionName", fn],
                    ["AWS/Lambda", "Errors", "FunctionName", fn],
                    ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", fn, { stat: "Maximum", yAxis: "right" }],
                ]);
            const widgets = [queueWidget("catch-all", q, dlq, 0)];
            laneNames.forEach(([queue, deadLetters, fn], i) => {
                widgets.push(queueWidget(lanes[i].lane.id, queue, deadLetters, 6 * (i + 1)));
                widgets.push(workerWidget(`${lanes[i].lane.id} worker`, fn, 6 * (i + 1)));
            });
            // Kafka lanes have no queue to chart: their worker, beside an empty left column.
            kafkaWorkers.forEach((fn, i) => widgets.push(workerWidget(`${kafkaLanes[i].lane.id} worker (Kafka, topic ${kafkaLanes[i].lane.topic})`, fn, 6 * (laneNames.length + 1 + i))));
            return JSON.stringify({ widgets });
        });
    new aws.cloudwatch.Dashboard(childName(name, "dashboard"), { dashboardName: fitName(`${name}-${pulumi.getStack()}`, 255), dashboardBody: body }, { parent });
}
