/**
 * Kafka lanes at run time: the router's publisher, topic creation, the
 * consumer-group runner, the Lambda worker adapter, replay, and MSK IAM auth.
 * (The Lambda functions import the modules they need directly, so that a
 * function's zip carries only what it requires.)
 */
export { createKafkaClient, isKafkaCredentialsError, kafkaConfigOf, kafkaCredentialsError, parseScramSecret } from "./client";
export type { KafkaCredentialsError } from "./client";
export type { CredentialsProvider, KafkaClientDeps } from "./client";
export { DeadLetterHeader, deadLetterTopicOf, KafkaDefaults, KafkaNames, lambdaGroupOf, runnerGroupOf } from "./constants";
export { backoffMs, HandlerTimeoutError, startLaneConsumer } from "./consumer";
export type { ConsumerLane, ConsumerStats, LaneConsumer, LaneConsumerOptions, LaneProcess, MessageEvent } from "./consumer";
export { makeKafkaWorkerHandler, processKafkaEvent, recordText } from "./lambda";
export type { KafkaBatchResponse, KafkaEvent, KafkaItemIdentifier } from "./lambda";
export { MskIamToken, mskIamTokenProvider, signerCredentials } from "./msk-iam";
export type { AwsCredentials } from "./msk-iam";
export { createKafkaPublisher, routerKafkaPublisher, topicSpecsOf } from "./publisher";
export type { ClosablePublisher, KafkaPublisherOptions } from "./publisher";
export { replayGroupOf, ReplayError, replayLane } from "./replay";
export type { ReplayOptions, ReplayPlan, ReplayResult } from "./replay";
export { ensureTopics, laneTopicSpecs } from "./topics";
export type { EnsureTopicsResult, TopicSpec } from "./topics";
