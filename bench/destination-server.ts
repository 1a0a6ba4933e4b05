/**
 * A destination for delivery tests and the delivery benchmark: a real node
 * http(s) server on 127.0.0.1
 * that records every request (arrival time, method, headers, exact body
 * bytes), answers what the test scripts, counts requests in flight, and can
 * go down (stop listening: connections are refused) and come back on the
 * same port.
 */
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import type { Socket } from "net";
import { performance } from "perf_hooks";

export interface ReceivedRequest {
    /** performance.now() when the request's headers arrived. */
    readonly at: number;
    readonly method: string;
    readonly path: string;
    /** Lower-case names, as node gives them. */
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Buffer;
    /** The status it was answered with. */
    status?: number;
}

export interface Answer {
    readonly status: number;
    readonly headers?: Record<string, string>;
    readonly body?: string;
    /** Wait this long before answering. */
    readonly delayMs?: number;
}

export type Responder = (request: ReceivedRequest, index: number) => Answer;

export interface TestDestination {
    readonly url: string;
    readonly port: number;
    readonly requests: ReceivedRequest[];
    /** Requests being answered now, and the most at once. */
    readonly inFlight: number;
    readonly peakInFlight: number;
    respond(responder: Responder): void;
    /** Stop listening (new connections are refused) and drop open ones. */
    down(): Promise<void>;
    /** Listen again on the same port. */
    up(): Promise<void>;
    close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startDestination(responder: Responder = () => ({ status: 200 }), urlPath = "/hooks", tls?: { key: Buffer; cert: Buffer }): Promise<TestDestination> {
    let respond = responder;
    const requests: ReceivedRequest[] = [];
    let inFlight = 0;
    let peak = 0;
    const sockets = new Set<Socket>();
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const at = performance.now();
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", async () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
            const request: ReceivedRequest = { at, method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks) };
            const index = requests.push(request) - 1;
            const answer = respond(request, index);
            if (answer.delayMs) await sleep(answer.delayMs);
            request.status = answer.status;
            inFlight -= 1;
            if (res.destroyed) return;
            res.writeHead(answer.status, { "content-type": "text/plain", ...(answer.headers ?? {}) });
            res.end(answer.body ?? "");
        });
    };
    const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    const listen = (port: number) =>
        new Promise<number>((resolve, reject) => {
            server.once("error", reject);
            server.listen({ host: "127.0.0.1", port }, () => {
                server.off("error", reject);
                resolve((server.address() as AddressInfo).port);
            });
        });
    const port = await listen(0);
    const stop = () =>
        new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const s of sockets) s.destroy();
        });
    return {
        url: `${tls ? "https" : "http"}://127.0.0.1:${port}${urlPath}`,
        port,
        requests,
        get inFlight() {
            return inFlight;
        },
        get peakInFlight() {
            return peak;
        },
        respond(r) {
            respond = r;
        },
        down: stop,
        up: async () => void (await listen(port)),
        close: stop,
    };
}

/** The most arrivals (ms timestamps) in any window of `windowMs` that starts at an arrival. */
export function maxInWindow(times: readonly number[], windowMs = 1000): number {
    const sorted = [...times].sort((a, b) => a - b);
    let max = 0;
    let j = 0;
    for (let i = 0; i < sorted.length; i++) {
        while (sorted[j] < sorted[i] - windowMs + 1e-9) j++;
        // Arrivals in (sorted[i] - windowMs, sorted[i]]: every window [t, t + windowMs) ending at an arrival.
        max = Math.max(max, i - j + 1);
    }
    return max;
}

/** The most intervals [start, end) open at one instant: requests in flight, counted from their start and end times. */
export function peakOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
    const edges = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]);
    // An end before a start at the same instant: [start, end) intervals that only touch do not overlap.
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (open += d));
    return peak;
}
