#!/usr/bin/env node
/**
 * `tsc`, only when a source changed since the last build (plain node, so it runs before anything is compiled).
 *
 *   node scripts/build-if-stale.js [--always] [--root <dir>] [--quiet]
 *
 * The quick commands (`npm run send`, `npm run ops`, ...) used to run tsc every time: 11-13 s on a 2-core
 * machine for work that takes under a second. Now they build only when needed:
 *
 * - Sources: what tsconfig.json's `include` names (each pattern's folder, walked for .ts and .json files,
 *   since resolveJsonModule compiles imported JSON too), plus tsconfig.json, package.json and
 *   package-lock.json (a changed dependency can change the types). Folder mtimes count too: deleting or
 *   renaming a file changes its folder's, so a removed module still triggers a build (and its error).
 * - Built: dist/.build-stamp holds the time the last successful build *started*; a source written during
 *   a build is newer than that and triggers the next one. A failed build writes no stamp.
 * - Stale when any source's mtime is at or after the stamp, or there is no stamp.
 *
 * `--always` builds regardless (`npm run build`), and writes the stamp. Exit code: tsc's.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

function option(args, name) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
}

/** The newest mtime among the sources, and which path it is. */
function newestSource(root) {
    const tsconfig = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
    const outDir = path.resolve(root, (tsconfig.compilerOptions && tsconfig.compilerOptions.outDir) || "dist");
    let newest = { mtimeMs: 0, file: undefined };
    const consider = (file) => {
        let st;
        try {
            st = fs.statSync(file);
        } catch {
            return undefined; // a pattern naming nothing
        }
        if (st.mtimeMs > newest.mtimeMs) newest = { mtimeMs: st.mtimeMs, file };
        return st;
    };
    const walk = (dir) => {
        const st = consider(dir);
        if (!st || !st.isDirectory()) return;
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && !entry.name.startsWith(".") && path.resolve(full) !== outDir) walk(full);
            } else if (/\.(ts|json)$/.test(entry.name)) consider(full);
        }
    };
    for (const file of ["tsconfig.json", "package.json", "package-lock.json"]) consider(path.join(root, file));
    for (const pattern of tsconfig.include || ["**/*.ts"]) {
        // "components/**/*.ts" -> walk components/; "index.ts" -> that file
        const first = pattern.split("/")[0];
        if (first.includes("*")) walk(root);
        else if (pattern.includes("/")) walk(path.join(root, first));
        else consider(path.join(root, pattern));
    }
    return { ...newest, outDir };
}

function main(args) {
    const root = path.resolve(option(args, "--root") || path.join(__dirname, ".."));
    const quiet = args.includes("--quiet");
    const { mtimeMs, file, outDir } = newestSource(root);
    const stamp = path.join(outDir, ".build-stamp");
    let built = 0;
    try {
        built = Number(fs.readFileSync(stamp, "utf8")) || 0;
    } catch {
        built = 0;
    }
    if (!args.includes("--always") && built > 0 && mtimeMs < built) return 0; // fresh
    const always = args.includes("--always");
    if (!quiet && !always) process.stderr.write(`build: ${built ? `${path.relative(root, file)} changed since the last build` : "no build yet"}: running tsc\n`);
    const started = Date.now();
    // typescript is a devDependency of this project: its tsc, wherever the tree lives.
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root, __dirname] });
    // The console page (local/console/page) is browser code with a tsconfig of its own (DOM types, a plain script).
    const projects = ["tsconfig.json", path.join("local", "console", "page", "tsconfig.json")].filter((p) => fs.existsSync(path.join(root, p)));
    for (const project of projects) {
        const run = spawnSync(process.execPath, [tsc, "-p", path.join(root, project)], { cwd: root, stdio: "inherit" });
        if (run.status !== 0) return run.status === null ? 1 : run.status;
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(stamp, String(started));
    return 0;
}

process.exitCode = main(process.argv.slice(2));
