/**
 * Breaking a handler on demand, to watch retries fill a DLQ and `redrive`
 * empty it (local mode only). A provider's handler fails while its switch is
 * on: set at start with `WEBHOOK_FAIL_<NAME>=1` (name upper-cased, `-` as
 * `_`), flipped at run time with `POST /_control/fail?provider=<name>&on=true|false`.
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

export class FailureSwitch {
    private readonly on: Record<string, boolean> = {};

    constructor(providers: readonly string[], env: NodeJS.ProcessEnv = process.env) {
        for (const p of providers) this.on[p] = /^(1|true|yes|on)$/i.test(env[failEnvName(p)] ?? "");
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

    /** `handler`, failing while the event's provider is switched on. */
    wrap(handler: WebhookHandler): WebhookHandler {
        return async (event, context) => {
            if (this.failing(event.provider)) throw new InjectedFailureError(`handler for ${event.provider} fails on demand (${failEnvName(event.provider)} or POST /_control/fail)`);
            return handler(event, context);
        };
    }
}
