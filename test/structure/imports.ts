/**
 * The layer rules of STYLE.md (13), as data, and a checker that reads every
 * import of a TypeScript file with the TypeScript parser: `import` and
 * `export ... from` (type-only ones too: a type from another layer is still a
 * dependency on it), `import x = require()`, `require()`, `require.resolve()`
 * and `import()`.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

export interface ImportRef {
    /** 1-based line of the statement. */
    readonly line: number;
    /** The module specifier; undefined when it is not a string literal (it cannot be checked). */
    readonly specifier: string | undefined;
}

/** Every import in `text`, in source order. */
export function importsOf(fileName: string, text: string): ImportRef[] {
    const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const found: ImportRef[] = [];
    const add = (node: ts.Node, specifier: ts.Expression | undefined) =>
        found.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, specifier: specifier && ts.isStringLiteralLike(specifier) ? specifier.text : undefined });
    const visit = (node: ts.Node): void => {
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) add(node, node.moduleSpecifier);
        else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
        else if (ts.isCallExpression(node)) {
            const callee = node.expression;
            const isRequire = ts.isIdentifier(callee) && callee.text === "require";
            const isResolve = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "require" && callee.name.text === "resolve";
            if (isRequire || isResolve || callee.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

/**
 * What each layer may import. `allowed`: the only repository folders it may
 * import from; `forbidden`: folders it must not import from; `packages`:
 * package prefixes it must not import.
 */
export interface LayerRule {
    readonly layer: string;
    readonly allowed?: readonly string[];
    readonly forbidden?: readonly string[];
    readonly forbiddenPackages?: readonly string[];
    readonly why: string;
}

export const LayerRules: readonly LayerRule[] = [
    {
        layer: "handlers",
        allowed: ["handlers", "model", "providers"],
        forbiddenPackages: ["@pulumi/"],
        why: "handlers/ runs on AWS and on users' machines: it may import only handlers/, model/, providers/ and packages (never Pulumi)",
    },
    { layer: "model", allowed: ["model", "providers"], forbiddenPackages: ["@pulumi/"], why: "model/ is pure: it may import only model/, providers/ and packages (never Pulumi)" },
    { layer: "providers", allowed: ["model", "providers"], forbiddenPackages: ["@pulumi/"], why: "providers/ is pure: it may import only model/, providers/ and packages (never Pulumi)" },
    {
        layer: "local",
        forbidden: ["scripts", "components", "test", "bench", "drill"],
        forbiddenPackages: ["@pulumi/"],
        why: "local/ is a backend: scripts/ are command entry points over it, never under it (and it never loads Pulumi)",
    },
];

/** The top folders of the repository, each a layer. */
export const Layers = ["handlers", "model", "providers", "components", "local", "scripts", "test", "bench", "drill"] as const;

/**
 * The layer of a repository path: its top folder (`handlers/kafka/cli.ts` and
 * the folder import `providers` -> `handlers`, `providers`), `.` for a file
 * at the root (`index.ts`).
 */
export function layerOf(repoPath: string): string {
    const parts = repoPath.split(/[\\/]/);
    return parts.length > 1 || (Layers as readonly string[]).includes(parts[0]) ? parts[0] : ".";
}

/**
 * Every broken rule among `files` (paths relative to the repository root),
 * one line each: `file:line imports "spec" (target): why`. Imports that leave
 * the repository and non-literal specifiers in a ruled layer are problems too.
 */
export function layerProblems(files: readonly { path: string; text: string }[], rules: readonly LayerRule[] = LayerRules): string[] {
    const problems: string[] = [];
    for (const file of files) {
        const rel = file.path.split(path.sep).join("/");
        const rule = rules.find((r) => r.layer === layerOf(rel));
        for (const ref of importsOf(rel, file.text)) {
            const where = `${rel}:${ref.line}`;
            if (ref.specifier === undefined) {
                if (rule) problems.push(`${where} imports a computed module name: ${rule.layer}/ imports must be string literals so this check can read them`);
                continue;
            }
            if (!ref.specifier.startsWith(".")) {
                const bad = rule?.forbiddenPackages?.find((p) => ref.specifier!.startsWith(p));
                if (bad) problems.push(`${where} imports "${ref.specifier}" (package ${bad}*): ${rule!.why}`);
                continue;
            }
            const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref.specifier));
            if (target === ".." || target.startsWith("../")) {
                problems.push(`${where} imports "${ref.specifier}" (${target}, outside the repository): a clone has nothing outside it`);
                continue;
            }
            if (!rule) continue;
            const layer = layerOf(target);
            if ((rule.allowed && !rule.allowed.includes(layer)) || rule.forbidden?.includes(layer)) {
                problems.push(`${where} imports "${ref.specifier}" (${layer === "." ? target : `${layer}/`}): ${rule.why}`);
            }
        }
    }
    return problems;
}

/** The repository root: the nearest folder above `from` holding package.json. */
export function repositoryRoot(from = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
    }
}

/** Every .ts source of the repository (not node_modules, dist, or dot folders), relative to the root. */
export function sourceFiles(root: string): { path: string; text: string }[] {
    const out: { path: string; text: string }[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            if (entry.name.startsWith(".") || entry.name === "node_modules" || entry.name === "dist") continue;
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push({ path: path.relative(root, full), text: fs.readFileSync(full, "utf8") });
        }
    };
    walk(root);
    return out.sort((a, b) => a.path.localeCompare(b.path));
}
