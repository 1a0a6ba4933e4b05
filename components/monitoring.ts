/**
 * Alarms and the dashboard: DLQ depth, oldest message age and function errors
 * per queue and worker, handler failures per lane, dead letters per Kafka
 * lane; one dashboard row per queue (Kafka lanes: their worker).
 *
 * Why handler failures need their own alarm: a worker reports failed records
 * as batch item failures (ReportBatchItemFailures) and the Kafka worker never
 * throws, so a lane whose every record fails shows no Lambda `Errors` at all.
 * The `Errors` alarms stay: they catch crashes and timeouts, where the worker
 * publishes nothing.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventSourceMappingMetrics, WorkerMetrics, workerMetricDimensions } from "../model/metrics";
import type { LaneModel, PipelineModel } from "../model/pipeline";
import type { CreatedFunction } from "./functions";
import type { KafkaLaneResources, LaneResources } from "./lanes";
import { autoName, childName, fitName, NameLimits, stackNamePart } from "./naming";
import type { QueuePair } from "./queues";

export interface MonitoredResources {
    readonly catchAll: QueuePair;
    readonly lanes: readonly LaneResources[];
    readonly kafkaLanes: readonly KafkaLaneResources[];
    readonly router: CreatedFunction;
}

/** DLQ has messages; oldest message too old; function errors; records failing in a lane's handler; Kafka records dead-lettered (or lost). */
export function createAlarms(name: string, model: PipelineModel, watched: MonitoredResources, topicArn: string | undefined, parent: pulumi.Resource) {
    const { catchAll, lanes, kafkaLanes, router } = watched;
    const actions = topicArn ? [topicArn] : [];
    const opts = { parent };
    /** One alarm: fires when the metric's statistic is above `threshold` (0: any), for `periods` periods; no data is not a breach. */
    const alarm = (
        logicalName: string,
        description: pulumi.Input<string>,
        metric: { namespace: string; metricName: string; dimensions: pulumi.Input<Record<string, pulumi.Input<string>>> },
        shape: { statistic: "Maximum" | "Sum"; period: number; periods?: number; threshold?: number },
    ) =>
        new aws.cloudwatch.MetricAlarm(autoName(logicalName, NameLimits.alarm), {
            alarmDescription: description,
            ...metric,
            statistic: shape.statistic,
            period: shape.period,
            evaluationPeriods: shape.periods ?? 1,
            threshold: shape.threshold ?? 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: actions,
        }, opts);
    const queueAlarms = (base: string, pair: QueuePair, maxAgeSeconds: number) => {
        alarm(childName(base, "dlq-alarm"), `${base}: messages in the DLQ (failed ${"`"}maxReceiveCount${"`"} times). Inspect, fix, then redrive.`,
            { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: pair.dlq.name } },
            { statistic: "Maximum", period: 60 });
        alarm(childName(base, "age-alarm"), `${base}: oldest message older than ${maxAgeSeconds}s (workers are not keeping up, or the lane is paused)`,
            { namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: pair.queue.name } },
            { statistic: "Maximum", period: 60, periods: 5, threshold: maxAgeSeconds });
    };
    // The age alarm fires minutes into a pause and then stays in ALARM, so it says nothing new as the pause goes on:
    // a second alarm on the same metric fires while the held messages can still be saved (retentionAlarmSeconds).
    const retentionAlarm = (base: string, pair: QueuePair, lane: LaneModel) => {
        const at = retentionAlarmSeconds(lane.retentionSeconds);
        alarm(childName(base, "retention-alarm"),
            `${base}: oldest message is ${Math.round(at / 3600)}h old; SQS deletes messages at ${lane.retentionSeconds / 86400} days (retentionDays). Resume the lane (npm run ops -- resume) or drain it now; past retention only the archive has them (npm run ops -- replay).`,
            { namespace: "AWS/SQS", metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: pair.queue.name } },
            { statistic: "Maximum", period: 300, threshold: at });
    };
    const errorAlarm = (base: string, fn: CreatedFunction) =>
        alarm(childName(base, "errors-alarm"), `${base}: function errors`, { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: fn.fn.name } }, { statistic: "Sum", period: 300 });
    // The metric every Lambda worker publishes per invocation (handlers/worker/lambda-worker.ts): exactly its namespace and dimensions.
    const failuresAlarm = (base: string, lane: LaneModel) =>
        alarm(childName(base, "failures-alarm"), `${base}: records failed in the handler (retried, then dead-lettered); see the worker's log for the error`,
            { namespace: WorkerMetrics.namespace, metricName: WorkerMetrics.names.handlerFailures, dimensions: workerMetricDimensions({ lane: lane.id, provider: lane.provider }) },
            { statistic: "Sum", period: 300 });
    // What Lambda publishes for the Kafka mapping once its metrics config is on (components/kafka.ts): records written to
    // <topic>.dlq after the last retry, and records it failed to write there (those are dropped).
    const deadLetterAlarm = (base: string, suffix: string, metricName: string, description: string, fn: CreatedFunction) =>
        alarm(childName(base, suffix), `${base}: ${description}`,
            { namespace: EventSourceMappingMetrics.namespace, metricName, dimensions: { [EventSourceMappingMetrics.dimension]: fn.mapping!.uuid } },
            { statistic: "Sum", period: 300 });
    queueAlarms(childName(name, "catch-all"), catchAll, Math.max(300, model.router.visibilityTimeoutSeconds));
    errorAlarm(childName(name, "router"), router);
    for (const l of lanes) {
        const base = childName(name, l.lane.id);
        queueAlarms(base, l, Math.max(300, l.lane.visibilityTimeoutSeconds));
        retentionAlarm(base, l, l.lane);
        errorAlarm(base, l.worker);
        failuresAlarm(base, l.lane);
    }
    // Kafka lanes have no queue to watch: worker errors, handler failures, and what reaches (or misses) <topic>.dlq.
    for (const l of kafkaLanes) {
        const base = childName(name, l.lane.id);
        const topic = l.lane.topic!;
        errorAlarm(base, l.worker);
        failuresAlarm(base, l.lane);
        deadLetterAlarm(base, "dead-letter-alarm", EventSourceMappingMetrics.names.deadLettered, `records sent to ${topic}.dlq after the last retry. Fix, then replay the topic (npm run kafka:replay).`, l.worker);
        deadLetterAlarm(base, "dead-letter-errors-alarm", EventSourceMappingMetrics.names.deadLetterErrors, `records Lambda could not write to ${topic}.dlq: they are dropped from the mapping. Replay the topic from before the failure.`, l.worker);
    }
}

/**
 * Age of the oldest message at which a lane's retention alarm fires: a day before SQS deletes it, or half the
 * retention when that is shorter (a 1-day lane warns at 12 h). ApproximateAgeOfOldestMessage is the age since
 * the message was sent ("Available CloudWatch metrics for Amazon SQS", Amazon SQS Developer Guide).
 */
export function retentionAlarmSeconds(retentionSeconds: number): number {
    return Math.max(retentionSeconds / 2, retentionSeconds - 86400);
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
            // Beside Lambda's own series, the records that failed in the handler (what the failures alarm watches).
            const failures = (lane: LaneModel) => [WorkerMetrics.namespace, WorkerMetrics.names.handlerFailures, ...Object.entries(workerMetricDimensions({ lane: lane.id, provider: lane.provider })).flat(), { label: "handler failures" }];
            const workerWidget = (title: string, fn: string, lane: LaneModel, y: number) =>
                widget(title, 12, y, "Sum", [
                    ["AWS/Lambda", "Invocations", "FunctionName", fn],
                    ["AWS/Lambda", "Errors", "FunctionName", fn],
                    failures(lane),
                    ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", fn, { stat: "Maximum", yAxis: "right" }],
                ]);
            const widgets = [queueWidget("catch-all", q, dlq, 0)];
            laneNames.forEach(([queue, deadLetters, fn], i) => {
                widgets.push(queueWidget(lanes[i].lane.id, queue, deadLetters, 6 * (i + 1)));
                widgets.push(workerWidget(`${lanes[i].lane.id} worker`, fn, lanes[i].lane, 6 * (i + 1)));
            });
            // Kafka lanes have no queue to chart: their worker, beside an empty left column.
            kafkaWorkers.forEach((fn, i) => widgets.push(workerWidget(`${kafkaLanes[i].lane.id} worker (Kafka, topic ${kafkaLanes[i].lane.topic})`, fn, kafkaLanes[i].lane, 6 * (laneNames.length + 1 + i))));
            return JSON.stringify({ widgets });
        });
    new aws.cloudwatch.Dashboard(childName(name, "dashboard"), { dashboardName: fitName(`${name}-${stackNamePart(pulumi.getStack(), "alnum-underscore")}`, NameLimits.dashboard), dashboardBody: body }, { parent });
}
