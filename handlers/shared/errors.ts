/**
 * Named errors of the runtime (handler code); each says what to check.
 *
 * Plain Errors made by factories and told apart by `name`, not classes: a
 * class that extends Error does not survive Pulumi's function serialization
 * (the uploaded constructor's instances are not `instanceof Error`, and have
 * no name and no message: test/components/secret-error-deploy.test.ts),
 * like the destination's errors (handlers/destination/outcome.ts).
 */

/** A provider's or handler's secret could not be read for a reason other than "not set": retried. */
export interface SecretUnavailableError extends Error {
    readonly name: "SecretUnavailableError";
}

/** A lane has no way to send (a Kafka lane without a producer, an SQS lane without a queue URL): retried, then the catch-all DLQ. */
export interface LaneUnavailableError extends Error {
    readonly name: "LaneUnavailableError";
}

/** A handler asked `context.secrets` for a name its lane does not declare: a bug in the handler or its config, retried then the DLQ. */
export interface UnknownHandlerSecretError extends Error {
    readonly name: "UnknownHandlerSecretError";
}

/** An Error named `name`, its stack headed by that name as a class's would be. */
function namedError<N extends string>(name: N, message: string): Error & { readonly name: N } {
    const e = new Error(message);
    e.name = name;
    if (e.stack?.startsWith("Error")) e.stack = name + e.stack.slice("Error".length);
    return e as Error & { readonly name: N };
}

const isNamed = (err: unknown, name: string): boolean => err instanceof Error && err.name === name;

export const secretUnavailableError = (message: string): SecretUnavailableError => namedError("SecretUnavailableError", message);
export const laneUnavailableError = (message: string): LaneUnavailableError => namedError("LaneUnavailableError", message);
export const unknownHandlerSecretError = (message: string): UnknownHandlerSecretError => namedError("UnknownHandlerSecretError", message);

export const isSecretUnavailableError = (err: unknown): err is SecretUnavailableError => isNamed(err, "SecretUnavailableError");
export const isLaneUnavailableError = (err: unknown): err is LaneUnavailableError => isNamed(err, "LaneUnavailableError");
export const isUnknownHandlerSecretError = (err: unknown): err is UnknownHandlerSecretError => isNamed(err, "UnknownHandlerSecretError");
