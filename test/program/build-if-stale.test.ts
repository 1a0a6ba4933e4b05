/**
 * scripts/build-if-stale.js: the quick commands build only when a source changed, and always when one did.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../../local/stack";

describe("build only when a source changed (scripts/build-if-stale.js)", function () {
    this.timeout(180_000);
    let root: string;
    const build = () => {
        const run = spawnSync(process.execPath, [path.join(repoRoot(), "scripts", "build-if-stale.js"), "--root", root], { encoding: "utf8" });
        expect(run.status, run.stderr + run.stdout).to.equal(0);
        return { built: run.stderr.includes("running tsc"), out: fs.existsSync(path.join(root, "dist", "src", "a.js")) ? fs.readFileSync(path.join(root, "dist", "src", "a.js"), "utf8") : "" };
    };
    /** A write the way an editor makes it (after the last build started: tsc takes seconds). */
    const write = (file: string, text: string) => fs.writeFileSync(path.join(root, file), text);

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "stale-"));
        fs.mkdirSync(path.join(root, "src", "deep"), { recursive: true });
        fs.writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { outDir: "dist", rootDir: ".", strict: true, types: [] }, include: ["index.ts", "src/**/*.ts"] }));
        fs.writeFileSync(path.join(root, "index.ts"), 'export * from "./src/a";\n');
        fs.writeFileSync(path.join(root, "src", "a.ts"), "export const a = 1;\n");
        fs.writeFileSync(path.join(root, "src", "deep", "b.ts"), "export const b = 1;\n");
    });

    it("GIVEN no build yet THEN it builds; GIVEN nothing changed THEN it does not", () => {
        expect(build()).to.deep.equal({ built: true, out: '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.a = void 0;\nexports.a = 1;\n' });
        expect(build().built).to.equal(false);
    });

    it("GIVEN a changed source, a new file, a nested change, a deleted file or a changed tsconfig THEN each builds once", () => {
        write("src/a.ts", "export const a = 2;\n");
        const changed = build();
        expect({ built: changed.built, has2: changed.out.includes("exports.a = 2;") }).to.deep.equal({ built: true, has2: true });
        expect(build().built, "unchanged after the rebuild").to.equal(false);

        write("src/deep/b.ts", "export const b = 2;\n");
        expect(build().built, "nested change").to.equal(true);
        write("src/c.ts", "export const c = 1;\n");
        expect(build().built, "new file").to.equal(true);
        expect(build().built).to.equal(false);

        fs.rmSync(path.join(root, "src", "c.ts")); // only src/'s mtime says so
        expect(build().built, "deleted file").to.equal(true);
        write("tsconfig.json", fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
        expect(build().built, "tsconfig").to.equal(true);
    });

    it("GIVEN a source that does not compile THEN it fails with tsc's error and writes no stamp, so the next run tries again", () => {
        write("src/a.ts", "export const a: number = 'x';\n");
        const broken = spawnSync(process.execPath, [path.join(repoRoot(), "scripts", "build-if-stale.js"), "--root", root], { encoding: "utf8" });
        expect(broken.status).to.not.equal(0);
        expect(broken.stdout + broken.stderr).to.include("TS2322");
        // no stamp for a failed build: the next run tries again
        expect(Number(fs.readFileSync(path.join(root, "dist", ".build-stamp"), "utf8"))).to.be.below(fs.statSync(path.join(root, "src", "a.ts")).mtimeMs);
    });
});
