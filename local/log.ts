/**
 * The local pipeline's log: one readable line per event on stderr, so stdout
 * keeps the banner and the ready line a script or test waits for. The level
 * follows POWERTOOLS_LOG_LEVEL (the variable the handlers obey on AWS):
 * SILENT, ERROR, WARN, INFO (the default) or DEBUG.
 */
import type { HandlerLogger } from "../handlers/shared/logger";

export const LogLevel = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
export type LogLevelName = keyof typeof LogLevel;

export interface LocalLogger extends HandlerLogger {
    debug(message: string, ...extra: unknown[]): void;
    /** A logger whose lines start with `[name]`. */
    child(name: string): LocalLogger;
}

export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): number {
    const name = (env.POWERTOOLS_LOG_LEVEL ?? env.LOG_LEVEL ?? "INFO").toUpperCase();
    return LogLevel[name as LogLevelName] ?? LogLevel.INFO;
}

function render(extra: unknown[]): string {
    const parts = extra.map((x) => {
        if (x instanceof Error) return `${x.name}: ${x.message}`;
        if (x && typeof x === "object") {
            return Object.entries(x as Record<string, unknown>)
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => `${k}=${v instanceof Error ? `${v.name}: ${v.message}` : typeof v === "object" ? JSON.stringify(v) : String(v)}`)
                .join(" ");
        }
        return String(x);
    });
    return parts.filter(Boolean).length ? ` ${parts.filter(Boolean).join(" ")}` : "";
}

export function createLocalLogger(level = logLevelFrom(), name?: string, write: (line: string) => void = (line) => process.stderr.write(line + "\n")): LocalLogger {
    const emit = (at: number, tag: string) => (message: string, ...extra: unknown[]) => {
        if (at < level) return;
        write(`${new Date().toISOString().slice(11, 23)} ${tag}${name ? ` [${name}]` : ""} ${message}${render(extra)}`);
    };
    return {
        debug: emit(LogLevel.DEBUG, "DEBUG"),
        info: emit(LogLevel.INFO, "INFO "),
        warn: emit(LogLevel.WARN, "WARN "),
        error: emit(LogLevel.ERROR, "ERROR"),
        child: (child) => createLocalLogger(level, name ? `${name}/${child}` : child, write),
    };
}
