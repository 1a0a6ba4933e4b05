/**
 * HTTP for the bad-input corpus: node:http for requests a client library
 * would send (reading the answer even when the server stops reading the
 * upload, as it does for a 413), and a raw TCP socket for requests no client
 * library sends (repeated headers, NUL bytes, conflicting Content-Length).
 */
import { request } from "http";
import { connect } from "net";

export interface Answer {
    /** HTTP status; 0 when the connection ended without one. */
    readonly status: number;
    readonly text: string;
}

export function httpRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
    return new Promise((resolve) => {
        const body = options.body ?? Buffer.alloc(0);
        const req = request(url, { method: options.method ?? "POST", headers: { ...options.headers, "content-length": String(body.length) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        });
        // The server may answer and close before the whole body is sent (413): the answer still counts.
        req.on("error", () => resolve({ status: 0, text: "" }));
        req.end(body);
    });
}

/** Send `head` (request line and headers, CRLF-separated, without the blank line) and `body` as they are; read the status line. */
/** The body of a chunked answer. */
function dechunk(text: string): string {
    let out = "";
    let at = 0;
    for (;;) {
        const eol = text.indexOf("\r\n", at);
        if (eol < 0) return out;
        const size = parseInt(text.slice(at, eol), 16);
        if (!Number.isFinite(size) || size === 0) return out;
        out += text.slice(eol + 2, eol + 2 + size);
        at = eol + 2 + size + 2;
    }
}

export function rawRequest(url: string, head: string, body: Buffer = Buffer.alloc(0)): Promise<Answer> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve) => {
        const socket = connect({ host: hostname, port: Number(port) });
        const chunks: Buffer[] = [];
        const done = () => {
            const text = Buffer.concat(chunks).toString("latin1");
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
            const split = text.indexOf("\r\n\r\n");
            const head = split < 0 ? text : text.slice(0, split);
            const body = split < 0 ? "" : text.slice(split + 4);
            resolve({ status, text: Buffer.from(/^transfer-encoding:\s*chunked/im.test(head) ? dechunk(body) : body, "latin1").toString("utf8") });
        };
        socket.setTimeout(15_000, () => socket.destroy());
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("close", done);
        socket.on("error", () => undefined);
        // Written, not ended: a half-closed socket would be dropped before an answer that takes a moment.
        socket.on("connect", () => socket.write(Buffer.concat([Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, "latin1"), body])));
    });
}
