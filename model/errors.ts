/**
 * Named errors as plain Errors: made by factories and told apart by `name`,
 * not by class. A class that extends Error does not survive Pulumi's function
 * serialization: the uploaded constructor's instances are not `instanceof
 * Error` and have no name and no message (test/components/secret-error-deploy.test.ts,
 * test/components/input-error-deploy.test.ts). Every error that code uploaded
 * to a Lambda function can throw is made here (model/) or with this helper
 * (handlers/shared/errors.ts, handlers/destination/outcome.ts).
 */

/** An Error named `name`, its stack headed by that name as a class's would be. */
export function namedError<N extends string>(name: N, message: string): Error & { readonly name: N } {
    const e = new Error(message);
    e.name = name;
    if (e.stack?.startsWith("Error")) e.stack = name + e.stack.slice("Error".length);
    return e as Error & { readonly name: N };
}

/** True when `err` is an Error named `name` (what the factories above make). */
export const isNamedError = (err: unknown, name: string): boolean => err instanceof Error && err.name === name;
