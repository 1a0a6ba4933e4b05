/**
 * The retry strategy of the workers' DynamoDB client (the idempotency table),
 * on Lambda (clients.ts) and in the local pipeline: transient errors,
 * throttling and 5xx are retried for about 10 seconds, without the SDK's
 * shared retry quota.
 *
 * Why: the worker marks an event done (Powertools `saveSuccess`) after the
 * handler returned. If that write fails, the record stays IN_PROGRESS, the
 * message is retried, and once the in-progress record expires (the
 * invocation's remaining time) the handler runs a second time for the same
 * event. The drill found it: with the emulator restarting while workers were
 * busy, the SDK's default (3 attempts in well under a second, and a retry
 * quota that a burst of failures empties) gave up during the outage and 11-31
 * of 300 webhooks were processed twice. Retrying the write through a short
 * outage closes that window (test/drill/completion-write.test.ts).
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";

export const PatientRetry = {
    /** Attempts in all, the first included. */
    maxAttempts: 12,
    /** First retry delay; doubles each retry up to maxDelayMs (each with up to 50% jitter). */
    baseDelayMs: 100,
    maxDelayMs: 2_000,
} as const;

export function patientRetryStrategy(options: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number } = PatientRetry): RetryStrategyV2 {
    const token = (count: number, delay: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delay });
    return {
        acquireInitialRetryToken: async () => token(0, 0),
        refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
            const count = previous.getRetryCount() + 1;
            // A client error (a failed condition, a validation error) is an answer, not an outage.
            if (info.errorType === "CLIENT_ERROR" || count >= options.maxAttempts) throw info.error ?? new Error("not retried");
            const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (count - 1));
            return token(count, Math.round(ceiling * (0.5 + Math.random() / 2)));
        },
        recordSuccess: () => undefined,
    };
}
