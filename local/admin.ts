/**
 * The local pipeline's own routes, beside `POST /webhooks/<provider>`:
 *
 *   GET  /_status                                  counters and queue depths (status.ts)
 *   GET  /_events[?provider=<name>]                the latest worker outcomes, with each body's SHA-256
 *   POST /_control/fail?provider=<name>&on=true    make a provider's handler fail (on=false: heal it)
 */
import type * as http from "http";
import type { FailureSwitch } from "./failure-switch";
import type { PipelineStats } from "./stats";
import type { PipelineStatus } from "./status";

export interface AdminRoutesOptions {
    readonly status: () => Promise<PipelineStatus>;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
}

function json(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body, null, 2) + "\n");
}

/** A handler for createHttpIngress's `extra`: true when it answered. */
export function adminRoutes(options: AdminRoutesOptions): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> {
    return async (req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        if (url.pathname === "/_status" && req.method === "GET") {
            json(res, 200, await options.status());
            return true;
        }
        if (url.pathname === "/_events" && req.method === "GET") {
            json(res, 200, options.stats.events(url.searchParams.get("provider") ?? undefined));
            return true;
        }
        if (url.pathname === "/_control/fail" && req.method === "POST") {
            const provider = url.searchParams.get("provider") ?? "";
            const on = url.searchParams.get("on") ?? "true";
            if (!options.failures.has(provider)) {
                json(res, 404, { error: `unknown provider "${provider}"; use /_control/fail?provider=<name>&on=true|false` });
            } else if (!/^(true|false)$/.test(on)) {
                json(res, 400, { error: `on must be true or false, not "${on}"` });
            } else {
                options.failures.set(provider, on === "true");
                json(res, 200, { provider, failing: options.failures.failing(provider) });
            }
            return true;
        }
        return false;
    };
}
