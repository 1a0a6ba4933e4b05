/**
 * Child resource names. Logical names start with the component's name so two
 * pipelines in one stack never collide; physical names (where we must set
 * them) stay under AWS limits, shortened with a stable hash when too long.
 * Names are permanent once deployed: changing this file replaces resources.
 */
import { createHash } from "crypto";

export const NameLimits = {
    /** Lambda function and IAM role names. */
    lambda: 64,
    iamRole: 64,
    /** SQS queue name, including `.fifo`. */
    sqs: 80,
} as const;

/** `webhooks`, `stripe`, `default`, `queue` -> `webhooks-stripe-default-queue` */
export function childName(...parts: string[]): string {
    return parts.filter(Boolean).join("-");
}

/**
 * Fit `name` into `max` characters: unchanged when it fits, otherwise a prefix
 * plus an 8-character hash of the whole name (stable across runs).
 */
export function fitName(name: string, max: number): string {
    if (name.length <= max) return name;
    const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
    return `${name.slice(0, max - hash.length - 1)}-${hash}`;
}
