/**
 * A stand-in for the Lambda context, for running handler code outside Lambda
 * (the local pipeline's lane runners, the tests' deploy checks): what
 * Powertools reads (names, request id) and the remaining time, counted down
 * from `timeoutMs` after the call.
 */
import { randomUUID } from "crypto";
import type { Context } from "aws-lambda";

export function lambdaContext(functionName: string, options: { timeoutMs?: number; memoryMb?: number } = {}): Context {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    return {
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
        memoryLimitInMB: String(options.memoryMb ?? 512),
        awsRequestId: `local-${randomUUID()}`,
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: "local",
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
    };
}
