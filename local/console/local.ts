/**
 * The console inside `npm start`: its routes beside the pipeline's own, over
 * the same OpsTarget `npm run ops` builds from the state file, plus the
 * pipeline's counters, event list and failure switch. Actions are allowed
 * (this is the developer's own machine) and need the token printed at start.
 */
import type * as http from "http";
import type { PipelineModel } from "../../model/pipeline";
import type { FailureSwitch } from "../failure-switch";
import { targetFromLocalState } from "../ops/target";
import type { LocalState } from "../state";
import type { PipelineStats } from "../stats";
import type { PipelineStatus } from "../status";
import { ConsoleApi } from "./api";
import { consoleRoutes } from "./routes";
import { newToken } from "./security";

export interface ConsoleMount {
    readonly token: string;
    readonly api: ConsoleApi;
    readonly routes: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
    stop(): void;
}

export function mountConsole(options: {
    readonly state: LocalState;
    readonly model: PipelineModel;
    readonly status: () => Promise<PipelineStatus>;
    readonly stats: PipelineStats;
    readonly failures: FailureSwitch;
    readonly token?: string;
}): ConsoleMount {
    const token = options.token ?? newToken();
    const api = new ConsoleApi({
        target: targetFromLocalState(options.state),
        stack: options.state.stack,
        model: options.model,
        local: { status: options.status, stats: options.stats, failures: options.failures },
        allowActions: true,
    });
    return { token, api, routes: consoleRoutes({ api, token }), stop: () => api.stop() };
}

/** The page's address with the token in its fragment (a fragment never reaches a server or a log). */
export function consoleLink(url: string, token: string): string {
    return `${url.replace(/\/?$/, "/")}#token=${token}`;
}
