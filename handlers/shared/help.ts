/**
 * `--help` for the commands (npm start, send, ops, synth, kafka:*, bench, drill): asked for anywhere
 * before a lone `--`, it prints the command's usage on stdout and exits 0 before any work is done.
 * Pure node, so the Kafka consumer command (which runs on users' machines) can use it too.
 */

/** `--help` or `-h` among the arguments (before a lone `--`, after which everything is an operand). */
export function helpRequested(argv: readonly string[]): boolean {
    const end = argv.indexOf("--");
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** Print `usage` and exit 0 when help was asked for; otherwise return. */
export function exitOnHelp(argv: readonly string[], usage: string): void {
    if (!helpRequested(argv)) return;
    process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
    process.exit(0);
}
