/**
 * What `--stack` means, for every command: a stack name (`dev` ->
 * Pulumi.dev.yaml in the project root) or a path to a stack file; a missing
 * file is an error naming every file tried. And the stack file read into
 * Pulumi's flat config map, without Pulumi.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackFile, projectRoot, readStackFile, resolveStackFile, StackFileError } from "../../model/stack-config";

const stackYaml = ["config:", "  aws:region: eu-west-1", "  webhook-pipeline:providers:", "    - name: acme", "      plugin: github", "      secret:", "        secure: v1:abc", ""].join("\n");

describe("stack files", () => {
    let root: string;
    let elsewhere: string;

    beforeEach(() => {
        // Prepare: a project root with Pulumi.yaml and two stacks, and another folder with a stack file of its own
        root = fs.mkdtempSync(path.join(os.tmpdir(), "wp-root-"));
        elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "wp-cwd-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: x\nruntime: nodejs\n");
        fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), stackYaml);
        fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), stackYaml);
        fs.mkdirSync(path.join(elsewhere, "stacks"));
        fs.writeFileSync(path.join(elsewhere, "stacks", "Pulumi.staging.yaml"), stackYaml);
        fs.writeFileSync(path.join(elsewhere, "team.yml"), stackYaml);
    });
    afterEach(() => {
        fs.rmSync(root, { recursive: true, force: true });
        fs.rmSync(elsewhere, { recursive: true, force: true });
    });

    describe("resolveStackFile", () => {
        it("GIVEN a stack name THEN it is Pulumi.<name>.yaml in the project root, whatever the current folder", () => {
            expect(resolveStackFile("prod", { root, cwd: [elsewhere] })).to.deep.equal({ name: "prod", file: path.join(root, "Pulumi.prod.yaml") });
        });

        it("GIVEN a relative path THEN it is taken from the folder the command ran in, and the name from the file name", () => {
            expect(resolveStackFile("stacks/Pulumi.staging.yaml", { root, cwd: [elsewhere] })).to.deep.equal({ name: "staging", file: path.join(elsewhere, "stacks", "Pulumi.staging.yaml") });
            // A bare file name with a YAML extension is a path too (not the stack "team.yml")
            expect(resolveStackFile("team.yml", { root, cwd: [elsewhere] })).to.deep.equal({ name: "team", file: path.join(elsewhere, "team.yml") });
        });

        it("GIVEN a relative path and two folders (npm's INIT_CWD, then the current one) THEN the first that holds it wins", () => {
            expect(resolveStackFile("./Pulumi.prod.yaml", { root, cwd: [elsewhere, root] }).file).to.equal(path.join(root, "Pulumi.prod.yaml"));
            expect(resolveStackFile("./team.yml", { root, cwd: [elsewhere, root] }).file).to.equal(path.join(elsewhere, "team.yml"));
        });

        it("GIVEN an absolute path THEN it is that file, wherever it is (the synth bug: Pulumi./abs/path.yaml.yaml)", () => {
            const file = path.join(elsewhere, "stacks", "Pulumi.staging.yaml");
            expect(resolveStackFile(file, { root, cwd: [root] })).to.deep.equal({ name: "staging", file });
        });

        it("GIVEN the defaults THEN named stacks live beside this project's Pulumi.yaml", () => {
            expect(projectRoot()).to.equal(path.resolve(__dirname, "..", "..", ".."));
            expect(resolveStackFile("dev")).to.deep.equal({ name: "dev", file: path.join(projectRoot(), "Pulumi.dev.yaml") });
        });

        it("GIVEN a missing stack THEN StackFileError names the value, every file tried, and the stacks that exist", () => {
            expect(() => resolveStackFile("qa", { root, cwd: [elsewhere] })).to.throw(
                StackFileError,
                `--stack qa: no stack file ${path.join(root, "Pulumi.qa.yaml")} (stacks in ${root}: dev, prod; give a stack name (dev for Pulumi.dev.yaml in the project root) or a path to a stack file)`,
            );
            expect(() => resolveStackFile("stacks/Pulumi.qa.yaml", { root, cwd: [elsewhere, root] })).to.throw(
                StackFileError,
                `--stack stacks/Pulumi.qa.yaml: no such stack file (tried ${path.join(elsewhere, "stacks", "Pulumi.qa.yaml")}, ${path.join(root, "stacks", "Pulumi.qa.yaml")}; give a stack name`,
            );
            expect(() => resolveStackFile("/nowhere/Pulumi.x.yaml", { root })).to.throw(StackFileError, "--stack /nowhere/Pulumi.x.yaml: no such stack file (tried /nowhere/Pulumi.x.yaml;");
            // A folder is not a stack file
            expect(() => resolveStackFile("stacks/", { root, cwd: [elsewhere] })).to.throw(StackFileError, `tried ${path.join(elsewhere, "stacks")};`);
            expect(() => resolveStackFile(" ", { root })).to.throw(StackFileError, "--stack: is empty");
        });
    });

    describe("readStackFile and loadStackFile", () => {
        it("GIVEN a stack file with a secure value THEN the flat map holds a placeholder and the key is marked secret", () => {
            const { config, secretKeys } = readStackFile(path.join(root, "Pulumi.dev.yaml"));
            expect(secretKeys).to.deep.equal(["webhook-pipeline:providers"]);
            expect(config["aws:region"]).to.equal("eu-west-1");
            const [acme] = JSON.parse(config["webhook-pipeline:providers"]);
            expect(acme).to.deep.include({ name: "acme", plugin: "github" });
            expect(acme.secret).to.match(/^\[secret:[0-9a-f]{8}\]$/);
            expect(config["webhook-pipeline:providers"]).to.not.include("v1:abc");
        });

        it("GIVEN a name THEN loadStackFile gives the file, the map and the webhook-pipeline values with no problem", () => {
            const loaded = loadStackFile("prod", { root });
            expect(loaded).to.deep.include({ name: "prod", file: path.join(root, "Pulumi.prod.yaml"), secretKeys: ["webhook-pipeline:providers"], problems: [] });
            expect((loaded.values.providers as { name: string }[]).map((p) => p.name)).to.deep.equal(["acme"]);
        });

        it("GIVEN a file that is not YAML THEN StackFileError names the file", () => {
            const bad = path.join(root, "Pulumi.bad.yaml");
            fs.writeFileSync(bad, "config:\n  a: [unclosed\n");
            expect(() => loadStackFile("bad", { root })).to.throw(StackFileError, `${bad}: is not valid YAML: `);
        });
    });
});
