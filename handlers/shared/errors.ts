/** Named errors of the runtime (handler code); each says what to check. */

/** A provider's secret could not be read for a reason other than "not set": retried. */
export class SecretUnavailableError extends Error {
    public readonly name = "SecretUnavailableError";
}

/** A lane has no way to send (a Kafka lane without a producer, an SQS lane without a queue URL): retried, then the catch-all DLQ. */
export class LaneUnavailableError extends Error {
    public readonly name = "LaneUnavailableError";
}

/** A handler asked `context.secrets` for a name its lane does not declare: a bug in the handler or its config, retried then the DLQ. */
export class UnknownHandlerSecretError extends Error {
    public readonly name = "UnknownHandlerSecretError";
}
