/**
 * The test runner behind `npm test`: installs (once) and starts the local
 * services (moto always, Kafka unless WEBHOOK_PIPELINE_SKIP_KAFKA=1), passes
 * their addresses to the tests through the environment, runs mocha over the
 * compiled tests, stops the services, and ends with one plain line:
 * `tests: N passed, N failed[, N skipped]`.
 *
 *   node dist/scripts/test-env.js [--] [mocha] [file or glob ...] [--grep PATTERN] [--timeout MS]
 *
 * Files, folders and globs are relative to the repo root and stand for the
 * compiled tests: `test/x.test.ts` means `dist/test/x.test.js`, `test/services`
 * means `dist/test/services/**\/*.test.js`. Default: every dist/test/**\/*.test.js.
 */
import { existsSync, readdirSync, statSync } from "fs";
import { isAbsolute, join, relative, resolve, sep } from "path";
import { progress, repoRoot } from "../local/services/cache";
import { KafkaBroker, startKafka } from "../local/services/kafka";
import { MotoServer, startMoto } from "../local/services/moto";

interface Options {
    patterns: string[];
    grep?: string;
    timeout: number;
}

function parseArgs(argv: string[]): Options {
    const options: Options = { patterns: [], timeout: 60_000 };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = (name: string) => {
            if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
            if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
            return argv[++i];
        };
        if (arg === "--" || (arg === "mocha" && options.patterns.length === 0)) continue;
        else if (arg === "--grep" || arg === "-g" || arg.startsWith("--grep=")) options.grep = value(arg.startsWith("-g") && !arg.startsWith("--") ? "-g" : "--grep");
        else if (arg === "--timeout" || arg === "-t" || arg.startsWith("--timeout=")) options.timeout = Number(value(arg === "-t" ? "-t" : "--timeout"));
        else if (arg.startsWith("-")) throw new Error(`unknown option ${arg} (known: --grep PATTERN, --timeout MS, files or globs)`);
        else options.patterns.push(arg);
    }
    if (!Number.isFinite(options.timeout) || options.timeout < 0) throw new Error("--timeout needs a number of milliseconds");
    if (options.patterns.length === 0) options.patterns.push("dist/test/**/*.test.js");
    return options;
}

function globToRegExp(glob: string): RegExp {
    let re = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === "*" && glob[i + 1] === "*") {
            i++;
            if (glob[i + 1] === "/") {
                i++;
                re += "(?:.*/)?";
            } else re += ".*";
        } else if (c === "*") re += "[^/]*";
        else if (c === "?") re += "[^/]";
        else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path, out);
        else if (entry.isFile()) out.push(path);
    }
}

/** The compiled test files for the patterns; a `.ts` pattern outside dist/ stands for its compiled `.js`. */
function testFiles(root: string, patterns: string[]): string[] {
    const toPosix = (p: string) => p.split(sep).join("/");
    const files = new Set<string>();
    for (const raw of patterns) {
        let pattern = toPosix(relative(root, resolve(root, raw)));
        // Tests run compiled: `test/x.test.ts`, `test/services` or `test/**/*.test.ts` stand for what is under dist/.
        if (!pattern.startsWith("dist/") && !pattern.startsWith("../")) pattern = `dist/${pattern.replace(/\.ts$/, ".js")}`;
        if (!/[*?]/.test(pattern)) {
            const path = join(root, pattern);
            if (existsSync(path) && statSync(path).isDirectory()) pattern = `${pattern.replace(/\/$/, "")}/**/*.test.js`;
            else if (existsSync(path)) {
                files.add(path);
                continue;
            } else throw new Error(`no such test file: ${raw} (looked for ${path}; run \`npm run build\` first?)`);
        }
        const base = pattern.slice(0, pattern.search(/[*?]/)).replace(/[^/]*$/, "");
        const start = join(root, base);
        if (!existsSync(start)) continue;
        const matcher = globToRegExp(pattern);
        const found: string[] = [];
        walk(start, found);
        for (const f of found) if (matcher.test(toPosix(relative(root, f)))) files.add(f);
    }
    // A compiled test whose TypeScript source was deleted or renamed is stale: skip it.
    return [...files].sort().filter((f) => {
        const rel = toPosix(relative(root, f));
        if (!rel.startsWith("dist/") || isAbsolute(rel)) return true;
        const source = join(root, rel.slice("dist/".length).replace(/\.js$/, ".ts"));
        if (existsSync(source)) return true;
        progress(`skipping ${rel}: its source ${relative(root, source)} no longer exists`);
        return false;
    });
}

function summary(passed: number, failed: number, skipped: number): string {
    return `tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
    await Promise.all(
        stops.map((stop) =>
            Promise.race([stop(), new Promise((r) => setTimeout(r, 15_000))]).catch((err) => progress(`stopping a service failed: ${(err as Error).message}`)),
        ),
    );
}

async function main(): Promise<number> {
    const root = repoRoot();
    let options: Options;
    let files: string[];
    try {
        options = parseArgs(process.argv.slice(2));
        files = testFiles(root, options.patterns);
    } catch (err) {
        process.stderr.write(`test-env: ${(err as Error).message}\n`);
        console.log(summary(0, 1, 0));
        return 1;
    }
    if (files.length === 0) {
        process.stderr.write(`test-env: no test files match ${options.patterns.join(" ")} (run \`npm run build\` first?)\n`);
        console.log(summary(0, 0, 0));
        return 1;
    }

    const skipKafka = process.env.WEBHOOK_PIPELINE_SKIP_KAFKA === "1";
    const started = Date.now();
    const [moto, kafka] = await Promise.allSettled([
        startMoto(),
        skipKafka ? Promise.resolve(undefined) : startKafka(),
    ] as [Promise<MotoServer>, Promise<KafkaBroker | undefined>]);
    const stops: (() => Promise<void>)[] = [];
    if (moto.status === "fulfilled") stops.push(() => moto.value.stop());
    if (kafka.status === "fulfilled" && kafka.value) stops.push(kafka.value.stop);
    const failures = [moto, kafka].filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length > 0) {
        for (const f of failures) process.stderr.write(`test-env: could not start the local services:\n${(f.reason as Error)?.stack ?? String(f.reason)}\n`);
        await stopAll(stops);
        console.log(summary(0, 1, 0));
        return 1;
    }
    const motoServer = (moto as PromiseFulfilledResult<MotoServer>).value;
    const broker = (kafka as PromiseFulfilledResult<KafkaBroker | undefined>).value;
    progress(
        `moto at ${motoServer.endpoint}` +
            (broker ? `, Kafka at ${broker.brokers.join(",")} (Kafka started in ${(broker.startMs / 1000).toFixed(1)} s)` : ", Kafka skipped (WEBHOOK_PIPELINE_SKIP_KAFKA=1)") +
            `; services ready after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    process.env.AWS_ENDPOINT_URL = motoServer.endpoint;
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
    // The functions under test log and emit metrics through Powertools: keep the test output readable.
    process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    if (broker) process.env.KAFKA_BROKERS = broker.brokers.join(",");
    else delete process.env.KAFKA_BROKERS;

    let passed = 0;
    let failed = 0;
    let skipped = 0;
    try {
        // mocha 12 is an ES module; required here through Node's require(esm).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        // Plain output when not on a terminal: parts of mocha 12 color through picocolors, which turns on when CI is set.
        const plain = !process.stdout.isTTY && !process.env.FORCE_COLOR && process.env.NO_COLOR === undefined;
        if (plain) process.env.NO_COLOR = "1";
        const mochaModule = require("mocha") as { default?: typeof import("mocha") } & typeof import("mocha");
        if (plain) delete process.env.NO_COLOR;
        const Mocha = mochaModule.default ?? mochaModule;
        const mocha = new Mocha({ timeout: options.timeout, reporter: "spec", grep: options.grep, color: Boolean(process.stdout.isTTY) });
        for (const f of files) mocha.addFile(f);
        await mocha.loadFilesAsync();
        const stats = await new Promise<Mocha.Stats>((resolveRun) => {
            const runner: Mocha.Runner = mocha.run(() => resolveRun(runner.stats ?? ({ passes: 0, failures: 1, pending: 0 } as Mocha.Stats)));
        });
        passed = stats.passes;
        failed = stats.failures;
        skipped = stats.pending;
    } catch (err) {
        process.stderr.write(`test-env: mocha could not load or run the tests:\n${(err as Error)?.stack ?? String(err)}\n`);
        failed = Math.max(failed, 1);
    }

    await stopAll(stops);
    if (passed + failed === 0) process.stderr.write("test-env: no test ran\n");
    console.log(summary(passed, failed, skipped));
    return failed > 0 || passed + failed === 0 ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`test-env: ${(err as Error)?.stack ?? String(err)}\n`);
        console.log(summary(0, 1, 0));
        process.exit(1);
    },
);
