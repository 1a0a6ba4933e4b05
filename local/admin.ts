/**
 * The local pipeline's own routes, beside `POST /webhooks/<provider>`:
 *
 *   GET  /_status                                  counters and queue depths (status.ts)
 *   GET  /_events[?provider=<name>]                the latest worker outcomes, with each body's SHA-256
 *   POST /_control/fail?provider=<name>&on=true    make a provider's handler fail (on=false: heal it)
 *   POST /_control/pause {"lanes": [...], "paused": true|false}   pause or resume lanes (ops pause|resume)
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
    /** Pause or resume lanes (POST /_control/pause); throws UnknownLaneError for a lane id it does not run. */
    readonly setPaused?: (lanes: readonly string[], paused: boolean) => Promise<Record<string, LanePauseState>>;
}

/** A lane's pause as the local pipeline reports it. */
export interface LanePauseState {
    readonly paused: boolean;
    /** ISO 8601: when the pause began. */
    readonly pausedAt?: string;
}

/** A lane id the local pipeline does not run. */
export class UnknownLaneError extends Error {
    public readonly name = "UnknownLaneError";
}

/** The body of POST /_control/pause: `{ "lanes": ["<lane id>", ...], "paused": true | false }`. */
function isPauseRequest(value: unknown): value is { lanes: string[]; paused: boolean } {
    const r = value as { lanes?: unknown; paused?: unknown } | null;
    return !!r && typeof r === "object" && Array.isArray(r.lanes) && r.lanes.length > 0 && r.lanes.every((l) => typeof l === "string") && typeof r.paused === "boolean";
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
        if (url.pathname === "/_control/pause" && req.method === "POST" && options.setPaused) {
            let body: unknown;
            try {
                body = await readJson(req, 64 * 1024);
            } catch (err) {
                json(res, 400, { error: `not JSON: ${(err as Error).message}` });
                return true;
            }
            if (!isPauseRequest(body)) {
                json(res, 400, { error: 'expected {"lanes": ["<lane id>", ...], "paused": true|false}' });
                return true;
            }
            try {
                json(res, 200, { lanes: await options.setPaused(body.lanes, body.paused) });
            } catch (err) {
                json(res, (err as Error).name === "UnknownLaneError" ? 404 : 500, { error: (err as Error).message });
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
