/**
 * An append-only journal of handler calls (local mode only), for drills and
 * audits: `WEBHOOK_HANDLER_JOURNAL=<file>` makes the local pipeline append one
 * JSON line per handler call as it ends, completed or thrown. The journal
 * sits where the user's handler sits, inside the worker's idempotency: a line
 * with `ok: true` is a handler call that completed, so two such lines for one
 * event id are a webhook processed twice, whatever the counters say.
 *
 * Lines are written with a synchronous append (O_APPEND) as each call ends:
 * nothing is buffered in memory, so the file holds every call that ended
 * even if the process is killed right after.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import type { WebhookHandler } from "../handlers/app/types";

export const HandlerJournalEnv = "WEBHOOK_HANDLER_JOURNAL";

export interface JournalLine {
    /** Epoch ms when the call ended. */
    readonly at: number;
    readonly provider: string;
    readonly lane: string;
    readonly eventId: string;
    readonly requestId: string;
    readonly attempt: number;
    readonly replay: boolean;
    /** True when the handler completed; false when it threw. */
    readonly ok: boolean;
    /** SHA-256 (hex) of the body the handler received. */
    readonly sha256: string;
    readonly bytes: number;
    /** `<name>: <message>` of what the handler threw. */
    readonly error?: string;
}

/** `handler`, each call journaled to `file` as it ends. */
export function journaled(handler: WebhookHandler, file: string): WebhookHandler {
    const append = (line: JournalLine) => fs.appendFileSync(file, JSON.stringify(line) + "\n");
    return async (event, context) => {
        const base = {
            provider: event.provider,
            lane: event.lane,
            eventId: event.eventId,
            requestId: event.requestId,
            attempt: context.attempt,
            replay: event.replay,
            sha256: createHash("sha256").update(event.body).digest("hex"),
            bytes: event.body.length,
        };
        try {
            await handler(event, context);
        } catch (err) {
            append({ at: Date.now(), ...base, ok: false, error: `${(err as Error).name}: ${(err as Error).message}` });
            throw err;
        }
        append({ at: Date.now(), ...base, ok: true });
    };
}

/** Every line of a journal; a torn last line (a write cut short) is ignored. */
export function readJournal(file: string): JournalLine[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
    }
    const lines: JournalLine[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        try {
            lines.push(JSON.parse(line) as JournalLine);
        } catch {
            // only the last line can be torn
        }
    }
    return lines;
}
