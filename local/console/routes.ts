/**
 * The console's HTTP routes, mounted beside the local pipeline's own
 * (local/pipeline.ts) or served alone for a deployed stack (server.ts):
 *
 *   GET  /                                  the page
 *   GET  /console/<asset>                   its script, styles and uPlot (from node_modules: no CDN)
 *   GET  /console/api/session               what this console shows and whether it may act
 *   GET  /console/api/overview              per provider and lane: counts, queue and DLQ depths
 *   GET  /console/api/rates                 the rates of the last 15 minutes
 *   GET  /console/api/events[?provider=p]   the latest worker outcomes (npm start only)
 *   GET  /console/api/dlq?provider=p[&lane=l]   the messages in a provider's lane DLQs, each with its last error
 *   GET  /console/api/dlq/message?provider=p&lane=l&id=<message or event id>   one, with its body
 *   GET  /console/api/trace?provider=p&(eventId=|requestId=)x[&around=<epoch ms>]   where an event is
 *   GET  /console/api/diagram.svg           the drawing of the stack
 *   GET  /console/api/jobs[/<id>]           actions started from the page, with their progress
 *   POST /console/api/redrive  {provider, lane?}
 *   POST /console/api/replay   {provider, from, to, force?}        (epoch ms)
 *   POST /console/api/fail     {provider, on}                      (npm start only)
 *   POST /console/api/pause    {provider, lane?}
 *   POST /console/api/resume   {provider, lane?}
 *
 * Every console request must name this server in Host (security.ts); every
 * POST needs the token in `x-console-token` and a JSON body; any other method
 * on an action is 405, and no GET changes anything.
 */
import * as fs from "fs";
import type * as http from "http";
import * as path from "path";
import { ConsoleApi, ConsoleApiError } from "./api";
import { consoleCss, indexHtml } from "./assets";
import { hostAllowed, originAllowed, securityHeaders, TokenHeader, tokenMatches } from "./security";

export interface ConsoleRoutesOptions {
    readonly api: ConsoleApi;
    readonly token: string;
    /** Host names besides the loopback ones that may address this server (when bound elsewhere on purpose). @default [] */
    readonly extraHosts?: readonly string[];
}

/** Files the page loads, by URL path: content type and where the file is. */
function assetFiles(): Record<string, { type: string; file: string }> {
    const uplot = path.dirname(require.resolve("uplot/package.json"));
    return {
        "/console/app.js": { type: "text/javascript; charset=utf-8", file: path.join(__dirname, "page", "console.js") },
        
        "/console/uplot.js": { type: "text/javascript; charset=utf-8", file: path.join(uplot, "dist", "uPlot.iife.min.js") },
        "/console/uplot.css": { type: "text/css; charset=utf-8", file: path.join(uplot, "dist", "uPlot.min.css") },
    };
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string, extra: http.OutgoingHttpHeaders = {}) {
    res.writeHead(status, { ...securityHeaders(), "content-type": type, ...extra });
    res.end(body);
}

function json(res: http.ServerResponse, status: number, body: unknown) {
    send(res, status, JSON.stringify(body), "application/json; charset=utf-8");
}

async function readJson(req: http.IncomingMessage, limit = 16 * 1024): Promise<Record<string, unknown>> {
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new ConsoleApiError("actions take a JSON body (content-type: application/json)", 400);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new ConsoleApiError(`body over ${limit} bytes`, 400);
        chunks.push(chunk as Buffer);
    }
    let value: unknown;
    try {
        value = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    } catch (err) {
        throw new ConsoleApiError(`not JSON: ${(err as Error).message}`, 400);
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new ConsoleApiError("the body must be a JSON object", 400);
    return value as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string, required: true): string;
function text(body: Record<string, unknown>, field: string, required?: false): string | undefined;
function text(body: Record<string, unknown>, field: string, required = false): string | undefined {
    const v = body[field];
    if (v === undefined || v === null || v === "") {
        if (required) throw new ConsoleApiError(`${field} is required`);
        return undefined;
    }
    if (typeof v !== "string") throw new ConsoleApiError(`${field} must be a string, not ${JSON.stringify(v)}`);
    return v;
}

function bool(body: Record<string, unknown>, field: string): boolean {
    const v = body[field] ?? false;
    if (typeof v !== "boolean") throw new ConsoleApiError(`${field} must be true or false, not ${JSON.stringify(v)}`);
    return v;
}

function num(body: Record<string, unknown>, field: string): number {
    const v = body[field];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ConsoleApiError(`${field} must be a time in epoch milliseconds, not ${JSON.stringify(v)}`);
    return v;
}

type Read = (url: URL) => Promise<unknown> | unknown;
type Action = (body: Record<string, unknown>) => unknown;

export function consoleRoutes(options: ConsoleRoutesOptions): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> {
    const { api, token } = options;
    const assets = assetFiles();
    const reads: Record<string, Read> = {
        "/console/api/session": () => api.session(),
        "/console/api/overview": () => api.overview(),
        "/console/api/rates": () => api.rates(),
        "/console/api/events": (url) => api.events(url.searchParams.get("provider") ?? undefined),
        "/console/api/dlq": (url) => api.dlq(url.searchParams.get("provider") ?? "", url.searchParams.get("lane") || undefined),
        "/console/api/dlq/message": (url) => api.dlqMessage(url.searchParams.get("provider") ?? "", url.searchParams.get("lane") ?? "", url.searchParams.get("id") ?? ""),
        "/console/api/trace": (url) => {
            const around = url.searchParams.get("around");
            const at = around ? Number(around) : undefined;
            if (at !== undefined && !Number.isFinite(at)) throw new ConsoleApiError(`around must be a time in epoch milliseconds, not "${around}"`);
            return api.trace(url.searchParams.get("provider") ?? "", { eventId: url.searchParams.get("eventId") || undefined, requestId: url.searchParams.get("requestId") || undefined, around: at });
        },
        "/console/api/jobs": () => api.jobs.list(),
    };
    const actions: Record<string, Action> = {
        "/console/api/redrive": (b) => api.redrive(text(b, "provider", true), text(b, "lane")),
        "/console/api/replay": (b) => api.replay(text(b, "provider", true), num(b, "from"), num(b, "to"), bool(b, "force")),
        "/console/api/fail": (b) => api.setFailing(text(b, "provider", true), bool(b, "on")),
        "/console/api/pause": (b) => api.pause(text(b, "provider", true), text(b, "lane")),
        "/console/api/resume": (b) => api.resume(text(b, "provider", true), text(b, "lane")),
    };
    const ours = (p: string) => p === "/" || p === "/index.html" || p.startsWith("/console/");

    return async (req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const p = url.pathname;
        if (!ours(p)) return false;
        const port = req.socket.localPort ?? 0;
        if (!hostAllowed(req.headers.host, port, options.extraHosts)) {
            json(res, 403, { error: `the console answers only requests addressed to 127.0.0.1:${port} or localhost:${port}, not to "${req.headers.host ?? ""}"` });
            return true;
        }
        try {
            if (p in actions) {
                if (req.method !== "POST") {
                    send(res, 405, JSON.stringify({ error: `${p} is an action: use POST with the ${TokenHeader} header` }), "application/json; charset=utf-8", { allow: "POST" });
                    return true;
                }
                if (!originAllowed(req.headers.origin, port, options.extraHosts) || !tokenMatches(req.headers[TokenHeader], token)) {
                    json(res, 403, { error: `actions need the console token (printed at start) in the ${TokenHeader} header, from this console's own page` });
                    return true;
                }
                const body = await readJson(req);
                json(res, 200, await actions[p](body));
                return true;
            }
            if (req.method !== "GET" && req.method !== "HEAD") {
                send(res, 405, JSON.stringify({ error: `use GET for ${p}` }), "application/json; charset=utf-8", { allow: "GET" });
                return true;
            }
            if (p === "/" || p === "/index.html") {
                send(res, 200, indexHtml(), "text/html; charset=utf-8");
                return true;
            }
            if (p === "/console/console.css") {
                send(res, 200, consoleCss, "text/css; charset=utf-8");
                return true;
            }
            const asset = assets[p];
            if (asset) {
                send(res, 200, await fs.promises.readFile(asset.file), asset.type);
                return true;
            }
            if (p === "/console/api/diagram.svg") {
                send(res, 200, api.diagram(), "image/svg+xml; charset=utf-8");
                return true;
            }
            const job = /^\/console\/api\/jobs\/([0-9a-f-]{36})$/.exec(p);
            if (job) {
                const view = api.jobs.get(job[1]);
                json(res, view ? 200 : 404, view ?? { error: `no job ${job[1]}` });
                return true;
            }
            const read = reads[p];
            if (!read) {
                json(res, 404, { error: `no console route ${p}` });
                return true;
            }
            json(res, 200, await read(url));
        } catch (err) {
            const status = err instanceof ConsoleApiError ? err.status : 500;
            json(res, status, { error: (err as Error).message });
        }
        return true;
    };
}
