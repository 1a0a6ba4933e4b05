/**
 * The retry schedule: how long a failed message waits before its next
 * attempt. One function for both lane kinds: the SQS worker sets the delay
 * as the message's visibility (ChangeMessageVisibility), the Kafka runner
 * sleeps it in place (heartbeating).
 *
 * Attempt n (1 on the first) failed: the nominal wait is `initialSeconds *
 * 2^(n-1)` (exponential) or `initialSeconds` (fixed), at most `maxSeconds`,
 * less up to 20% jitter so a burst of failures does not come back at once.
 * A destination's Retry-After wins when it is longer. The result never
 * exceeds `capSeconds` (SQS: a message's visibility can be extended to at
 * most 12 hours in all; see Limits.maxVisibilityTimeoutSeconds).
 */
import { Limits } from "../../model/constants";
import { DestinationDefaults, RetrySchedule } from "../../model/delivery";

export interface RetryDelayOptions {
    /** Seconds the destination asked to wait (Retry-After). */
    readonly retryAfterSeconds?: number;
    /** Upper bound of the result. @default 43200 (12 h, SQS's visibility limit) */
    readonly capSeconds?: number;
    /** [0, 1) @default Math.random */
    readonly random?: () => number;
}

/** The nominal delay of the schedule after attempt `attempt` failed, without jitter. */
export function nominalDelaySeconds(schedule: RetrySchedule, attempt: number): number {
    if (schedule.backoff === "fixed") return Math.min(schedule.initialSeconds, schedule.maxSeconds);
    return Math.min(schedule.maxSeconds, schedule.initialSeconds * 2 ** Math.max(0, attempt - 1));
}

/**
 * Seconds before the next attempt, whole (SQS takes whole seconds). Without a
 * schedule: the Retry-After when given, else undefined (the lane's default
 * applies: the queue's visibility timeout, or the runner's backoff).
 */
export function retryDelaySeconds(schedule: RetrySchedule | undefined, attempt: number, options: RetryDelayOptions = {}): number | undefined {
    const cap = options.capSeconds ?? Limits.maxVisibilityTimeoutSeconds;
    const after = options.retryAfterSeconds;
    if (!schedule) return after === undefined ? undefined : Math.min(cap, Math.ceil(after));
    const random = options.random ?? Math.random;
    const nominal = nominalDelaySeconds(schedule, attempt);
    const jittered = Math.max(1, Math.ceil(nominal * (1 - DestinationDefaults.retryJitter * random())));
    return Math.min(cap, Math.max(jittered, Math.ceil(after ?? 0)));
}
