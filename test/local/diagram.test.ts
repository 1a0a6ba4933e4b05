/**
 * `npm run ops -- diagram`: Mermaid and SVG drawn from a stack's model; the
 * committed docs/architecture.* are the drawing of Pulumi.dev.yaml.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { toMermaid, toSvg } from "../../local/diagram";
import { loadStackModel, repoRoot } from "../../local/stack";
import { fixture, runScript } from "./support";

describe("ops diagram", function () {
    this.timeout(30_000);

    it("GIVEN the test stack WHEN diagram writes .mmd and .svg THEN both name every provider, lane and DLQ", async () => {
        // Prepare
        const stack = fixture("Pulumi.local-all.yaml");
        const { model } = loadStackModel(stack);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-diagram-"));
        try {
            // Act
            const mmd = await runScript("ops", ["diagram", "--stack", stack, "--out", path.join(dir, "a.mmd")]);
            const svg = await runScript("ops", ["diagram", "--stack", stack, "--out", path.join(dir, "a.svg")]);

            // Assess
            expect([mmd.code, svg.code], mmd.stderr + svg.stderr).to.deep.equal([0, 0]);
            expect(svg.stdout).to.equal(`wrote ${path.join(dir, "a.svg")} (8 providers, 9 lanes)\n`);
            const texts = { mermaid: fs.readFileSync(path.join(dir, "a.mmd"), "utf8"), svg: fs.readFileSync(path.join(dir, "a.svg"), "utf8") };
            for (const [kind, text] of Object.entries(texts)) {
                for (const p of model.providers) expect(text, `${kind}: ${p.name}`).to.include(p.name).and.include(p.plugin);
                for (const l of model.lanes) expect(text, `${kind}: ${l.id}`).to.include(`queue ${l.id}${l.ordering ? ".fifo" : ""}`).and.include(l.id);
            }
            expect(texts.mermaid.startsWith("---\ntitle: webhook pipeline: stack local-all\n---\nflowchart LR\n")).to.equal(true);
            expect(texts.svg.match(/<text /g)?.length).to.equal(texts.svg.match(/<\/text>/g)?.length);
            expect(texts.svg).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/).and.match(/<\/svg>$/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("GIVEN Pulumi.dev.yaml WHEN it is drawn THEN docs/architecture.mmd and .svg are that drawing (regenerate with npm run ops -- diagram --out ...)", () => {
        // Prepare
        const { model } = loadStackModel("dev");
        const title = "webhook pipeline: stack dev";

        // Act
        const mermaid = toMermaid(model, title);
        const svg = toSvg(model, title);

        // Assess
        expect(fs.readFileSync(path.join(repoRoot(), "docs", "architecture.mmd"), "utf8")).to.equal(mermaid);
        expect(fs.readFileSync(path.join(repoRoot(), "docs", "architecture.svg"), "utf8")).to.equal(svg);
    });
});
