/**
 * The console on its own HTTP server (`npm run console -- --aws`): the same
 * routes as inside `npm start`, over a deployed stack's OpsTarget. Binds
 * 127.0.0.1 unless told otherwise.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import type { ConsoleApi } from "./api";
import { consoleRoutes } from "./routes";
import { securityHeaders } from "./security";

export interface ConsoleServer {
    readonly url: string;
    readonly port: number;
    stop(): Promise<void>;
}

export async function startConsoleServer(options: { api: ConsoleApi; token: string; host?: string; port?: number }): Promise<ConsoleServer> {
    const host = options.host ?? "127.0.0.1";
    const loopback = ["127.0.0.1", "localhost", "::1"].includes(host);
    const routes = consoleRoutes({ api: options.api, token: options.token, extraHosts: loopback ? [] : [host.includes(":") ? `[${host}]` : host] });
    const server = http.createServer((req, res) => {
        routes(req, res).then(
            (answered) => {
                if (answered) return;
                res.writeHead(404, { ...securityHeaders(), "content-type": "application/json" });
                res.end(JSON.stringify({ error: `no route for ${req.method} ${req.url}; the console is at /` }));
            },
            (err: Error) => {
                if (!res.headersSent) res.writeHead(500, { ...securityHeaders(), "content-type": "application/json" });
                res.end(JSON.stringify({ error: err.message }));
            },
        );
    });
    const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: options.port ?? 8788 }, () => resolve((server.address() as AddressInfo).port));
    });
    const shown = host.includes(":") ? `[${host}]` : host;
    return {
        url: `http://${shown}:${port}`,
        port,
        stop: () =>
            new Promise<void>((resolve) => {
                options.api.stop();
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
