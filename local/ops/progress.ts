/**
 * A progress bar on stderr for long operations: redrawn in place on a
 * terminal, a line per 10% otherwise (logs, CI, tests).
 */
export interface Progress {
    update(done: number, total: number, note?: string): void;
    finish(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, width = 30): Progress {
    const tty = Boolean(stream.isTTY);
    let lastTenth = -1;
    let drawn = false;
    return {
        update(done, total, note = "") {
            const ratio = total > 0 ? Math.min(1, done / total) : 1;
            const filled = Math.round(ratio * width);
            const line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}${note ? ` ${note}` : ""}`;
            if (tty) {
                stream.write(`\r${line}\x1b[K`);
                drawn = true;
            } else {
                const tenth = Math.floor(ratio * 10);
                if (tenth !== lastTenth) {
                    stream.write(line + "\n");
                    lastTenth = tenth;
                }
            }
        },
        finish() {
            if (tty && drawn) stream.write("\n");
        },
    };
}
