/**
 * The local pipeline's own routes, beside `POST /webhooks/<provider>`:
 *
 *   GET  /_status                                  counters and queue depths (status.ts)
 *   GET  /_events[?provider=<name>]                the latest worker outcomes, with each body's SHA-256
 *   POST /_control/fail?provider=<name>&on=true    make a provider's handler fail (on=false: heal it)
 *   POST /_control/router-report                   a router running in another process reports a batch
 *                                                  (only when the router does not run here)
 */
import type * as http from "http";
import type { FailureSwitch } from "./failure-switch";
import type { RouterReport } from "../handlers/router/router";
import type { PipelineStats } from "./stats";
import type { PipelineStatus } from "./status";

export interface AdminRoutesOptions {
    readonly status: () => Promise<PipelineStatus>;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
    /** Accept POST /_control/router-report (the router runs in another process). @default false */
    readonly routerReports?: boolean;
}

/** The fields of a RouterReport that the counters read; anything else is refused. */
function isRouterReport(value: unknown): value is RouterReport {
    const r = value as Partial<RouterReport> | null;
    const record = (x: unknown) => !!x && typeof x === "object" && !Array.isArray(x);
    return !!r && typeof r === "object" && typeof r.received === "number" && typeof r.failed === "number" && record(r.quarantined) && record(r.routed) && record(r.dropped) && record(r.archived);
}

async function readJson(req: http.IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new Error(`body over ${limit} bytes`);
        chunks.push(chunk as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
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
        if (url.pathname === "/_control/router-report" && req.method === "POST" && options.routerReports) {
            let report: unknown;
            try {
                report = await readJson(req);
            } catch (err) {
                json(res, 400, { error: `not a JSON router report: ${(err as Error).message}` });
                return true;
            }
            if (!isRouterReport(report)) {
                json(res, 400, { error: "not a router report (received, failed, quarantined, routed, dropped, archived)" });
                return true;
            }
            options.stats.onRouterBatch(report);
            json(res, 200, { counted: true });
            return true;
        }
        return false;
    };
}
