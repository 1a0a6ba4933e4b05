/**
 * The layers point one way (STYLE.md 13): handlers/ runs on AWS and on users'
 * machines, so it uses only model/, providers/ and itself; model/ and
 * providers/ are pure; local/ is a backend that scripts/ drive, never the
 * reverse. The rules are read from every .ts file's imports; the Kafka
 * consumer command is also started in a fresh node process to see what it
 * really loads.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { importsOf, layerProblems, repositoryRoot, sourceFiles } from "./imports";

const root = repositoryRoot();

describe("structure: layers", () => {
    describe("the import checker", () => {
        it("GIVEN every form of import THEN each is read with its line, type-only and computed ones included", () => {
            const text = [
                `import { a } from "./a";`,
                `import type { B } from "../b";`,
                `export { c } from "./c";`,
                `import d = require("d");`,
                `const e = require("./e");`,
                `const f = () => import("./f");`,
                `const g = require.resolve("./g");`,
                `let h: import("./h").H;`,
                `const i = require(name);`,
                `// import { no } from "./comment";`,
                `const text = 'from "./string"';`,
            ].join("\n");
            expect(importsOf("x.ts", text)).to.deep.equal([
                { line: 1, specifier: "./a" },
                { line: 2, specifier: "../b" },
                { line: 3, specifier: "./c" },
                { line: 4, specifier: "d" },
                { line: 5, specifier: "./e" },
                { line: 6, specifier: "./f" },
                { line: 7, specifier: "./g" },
                { line: 8, specifier: "./h" },
                { line: 9, specifier: undefined },
            ]);
        });

        it("GIVEN a handler importing components/, scripts/, local/, bench/, drill/, test/ or Pulumi THEN each is a problem naming file, line and rule; model/, providers/, handlers/ and packages are fine", () => {
            const text = [
                `import { a } from "../../components/stack-config";`,
                `import { b } from "../../scripts/pulumi-mocks";`,
                `import { c } from "../../local/stack";`,
                `import { d } from "../../bench/run";`,
                `import { e } from "../../drill/run";`,
                `import { f } from "../../test/support/services";`,
                `import * as pulumi from "@pulumi/pulumi";`,
                `import { g } from "../../model/config";`,
                `import { h } from "../../providers";`,
                `import { i } from "../shared/logger";`,
                `import { Kafka } from "kafkajs";`,
            ].join("\n");
            const why = "handlers/ runs on AWS and on users' machines: it may import only handlers/, model/, providers/ and packages (never Pulumi)";
            expect(layerProblems([{ path: "handlers/kafka/cli.ts", text }])).to.deep.equal([
                `handlers/kafka/cli.ts:1 imports "../../components/stack-config" (components/): ${why}`,
                `handlers/kafka/cli.ts:2 imports "../../scripts/pulumi-mocks" (scripts/): ${why}`,
                `handlers/kafka/cli.ts:3 imports "../../local/stack" (local/): ${why}`,
                `handlers/kafka/cli.ts:4 imports "../../bench/run" (bench/): ${why}`,
                `handlers/kafka/cli.ts:5 imports "../../drill/run" (drill/): ${why}`,
                `handlers/kafka/cli.ts:6 imports "../../test/support/services" (test/): ${why}`,
                `handlers/kafka/cli.ts:7 imports "@pulumi/pulumi" (package @pulumi/*): ${why}`,
            ]);
        });

        it("GIVEN model/ or providers/ importing handlers/, local/ importing scripts/, or anything leaving the repository THEN each is a problem; local/ may import handlers/", () => {
            const problems = layerProblems([
                { path: "model/x.ts", text: `import { a } from "../handlers/app";\nimport { b } from "../providers/types";` },
                { path: "providers/y.ts", text: `import { c } from "../handlers/shared/secrets";` },
                { path: "local/z.ts", text: `import { d } from "../scripts/services/moto";\nimport { e } from "../handlers/router/router";` },
                { path: "test/w.test.ts", text: `import v from "../../shared/signature-vectors.json";\nimport { f } from "../scripts/synth";` },
            ]);
            expect(problems).to.deep.equal([
                `model/x.ts:1 imports "../handlers/app" (handlers/): model/ is pure: it may import only model/, providers/ and packages (never Pulumi)`,
                `providers/y.ts:1 imports "../handlers/shared/secrets" (handlers/): providers/ is pure: it may import only model/, providers/ and packages (never Pulumi)`,
                `local/z.ts:1 imports "../scripts/services/moto" (scripts/): local/ is a backend: scripts/ are command entry points over it, never under it (and it never loads Pulumi)`,
                `test/w.test.ts:1 imports "../../shared/signature-vectors.json" (../shared/signature-vectors.json, outside the repository): a clone has nothing outside it`,
            ]);
        });
    });

    it("GIVEN the repository THEN every .ts file keeps the layer rules", () => {
        const files = sourceFiles(root);
        // The walk really found the layers (an empty list would pass anything).
        for (const dir of ["handlers", "model", "providers", "local", "scripts", "test"]) expect(files.some((f) => f.path.startsWith(`${dir}${path.sep}`)), dir).to.equal(true);
        expect(layerProblems(files)).to.deep.equal([]);
    });

    it("GIVEN the Kafka consumer command started in a fresh node process THEN it answers --help and never loads @pulumi/pulumi, scripts/, components/ or test/", () => {
        // Prepare: a preload that writes every module loaded by the time the process exits
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-layers-"));
        try {
            const preload = path.join(dir, "record-modules.js");
            const out = path.join(dir, "modules.json");
            fs.writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`);
            const cli = path.join(root, "dist", "handlers", "kafka", "cli.js");

            // Act
            const run = spawnSync(process.execPath, ["--require", preload, cli, "--help"], { encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" }, timeout: 30_000 });

            // Assess
            const loaded = (JSON.parse(fs.readFileSync(out, "utf8")) as string[]).map((m) => path.relative(root, m).split(path.sep).join("/"));
            expect(loaded, "the command itself was loaded").to.include("dist/handlers/kafka/cli.js");
            expect(loaded.filter((m) => m.includes("node_modules/@pulumi/"))).to.deep.equal([]);
            expect(loaded.filter((m) => /^dist\/(scripts|components|test|local|bench|drill)\//.test(m))).to.deep.equal([]);
            expect(run.status, run.stderr).to.equal(0);
            expect(run.stdout).to.include("--lane").and.to.include("--stack");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
