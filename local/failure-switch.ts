/**
 * Breaking a handler on demand, to watch retries fill a DLQ and `redrive`
 * empty it (local mode only). A provider's handler fails while its switch is
 * on: set at start with `WEBHOOK_FAIL_<NAME>=1` (name upper-cased, `-` as
 * `_`), flipped at run time with `POST /_control/fail?provider=<name>&on=true|false`.
 *
 * Failing at random, for drills: `WEBHOOK_FAIL_RATE=0.05` makes each handler
 * call of every provider fail with that probability, drawn from a seeded
 * generator (`WEBHOOK_FAIL_SEED`, default 1), so a run's sequence of draws can
 * be repeated (which call gets which draw still depends on timing).
 *
 * The switch sits inside the worker's idempotency, exactly where a throwing
 * handler would: a failed attempt is not remembered, so the retry runs again.
 */
import type { WebhookHandler } from "../handlers/app/types";

export class InjectedFailureError extends Error {
    public readonly name = "InjectedFailureError";
}

export function failEnvName(provider: string): string {
    return `WEBHOOK_FAIL_${provider.toUpperCase().replace(/-/g, "_")}`;
}

/** The environment variables of the random mode. */
export const FailRateEnv = { Rate: "WEBHOOK_FAIL_RATE", Seed: "WEBHOOK_FAIL_SEED" } as const;

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** WEBHOOK_FAIL_RATE as a probability; throws on anything but a number in [0, 1]. */
export function failRateFrom(env: NodeJS.ProcessEnv): number {
    const raw = env[FailRateEnv.Rate];
    if (raw === undefined || raw === "") return 0;
    const rate = Number(raw);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`${FailRateEnv.Rate} must be a probability between 0 and 1, not "${raw}"`);
    return rate;
}

export class FailureSwitch {
    private readonly on: Record<string, boolean> = {};
    /** Probability that any handler call fails (random mode). 0 when off. */
    readonly rate: number;
    readonly seed: number;
    private readonly random: () => number;

    constructor(providers: readonly string[], env: NodeJS.ProcessEnv = process.env) {
        for (const p of providers) this.on[p] = /^(1|true|yes|on)$/i.test(env[failEnvName(p)] ?? "");
        this.rate = failRateFrom(env);
        const seed = Number(env[FailRateEnv.Seed] ?? 1);
        if (!Number.isInteger(seed)) throw new Error(`${FailRateEnv.Seed} must be a whole number, not "${env[FailRateEnv.Seed]}"`);
        this.seed = seed;
        this.random = seededRandom(seed);
    }

    has(provider: string): boolean {
        return provider in this.on;
    }

    failing(provider: string): boolean {
        return this.on[provider] === true;
    }

    set(provider: string, on: boolean): void {
        if (!this.has(provider)) throw new Error(`unknown provider "${provider}" (configured: ${Object.keys(this.on).join(", ")})`);
        this.on[provider] = on;
    }

    /** `handler`, failing while the event's provider is switched on, and at random at `rate`. */
    wrap(handler: WebhookHandler): WebhookHandler {
        return async (event, context) => {
            if (this.failing(event.provider)) throw new InjectedFailureError(`handler for ${event.provider} fails on demand (${failEnvName(event.provider)} or POST /_control/fail)`);
            if (this.rate > 0 && this.random() < this.rate) throw new InjectedFailureError(`handler for ${event.provider} fails at random (${FailRateEnv.Rate}=${this.rate})`);
            return handler(event, context);
        };
    }
}
