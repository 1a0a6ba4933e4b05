/**
 * moto, the AWS emulator (SQS, S3, DynamoDB, Secrets Manager, ...), installed
 * from PyPI into a venv in the cache and run on loopback by moto-launcher.py
 * (moto's own server application, one race in moto fixed).
 */
import { createHash } from "crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { cacheDir, progress, repoRoot, withLock } from "./cache";
import { freePort } from "./free-port";
import { runCommand, spawnService, waitUntilReady } from "./process";

export const MOTO_VERSION = "5.2.5";

/**
 * Versions of moto's dependencies as resolved when MOTO_VERSION was pinned, so
 * that a later release of one of them cannot change the emulator under us.
 * If they do not install on this Python, the install falls back to moto's own
 * ranges (with a warning).
 */
export const MOTO_CONSTRAINTS: readonly string[] = [
    "annotated-types==0.8.0", "antlr4-python3-runtime==4.13.2", "attrs==26.1.0", "aws-xray-sdk==2.15.0", "blinker==1.9.0", "boto3==1.44.5",
    "botocore==1.44.5", "certifi==2026.10.18", "cffi==2.1.1", "cfn-lint==1.58.0", "charset-normalizer==3.5.2", "click==8.5.1",
    "cryptography==50.0.2", "docker==7.2.0", "Flask==3.1.3", "flask-cors==6.0.5", "graphql-core==3.3.2", "idna==3.20",
    "itsdangerous==2.2.0", "Jinja2==3.1.6", "jmespath==1.1.0", "joserfc==1.8.0", "jsonpatch==1.47", "jsonpath-ng==1.16.0",
    "jsonpointer==3.12", "jsonschema==4.26.0", "jsonschema-path==0.5.0", "jsonschema-specifications==2025.9.1", "lazy-object-proxy==1.13.0",
    "MarkupSafe==3.0.4", "mpmath==1.3.0", "networkx==3.6.1", "openapi-schema-validator==0.9.0", "openapi-spec-validator==0.9.0",
    "pathable==0.6.0", "py-partiql-parser==0.6.3", "pycparser==3.12", "pydantic==2.14.3", "pydantic-settings==2.16.3",
    "pydantic_core==2.50.4", "pyparsing==3.3.3", "python-dateutil==2.9.0.post0", "python-dotenv==1.2.4", "PyYAML==6.0.3",
    "referencing==0.37.0", "regex==2026.11.15", "requests==2.34.2", "responses==0.26.3", "rfc3339-validator==0.1.4", "rpds-py==2026.9.1",
    "s3transfer==0.19.3", "six==1.17.0", "sympy==1.14.0", "typing-inspection==0.4.5", "typing_extensions==4.16.0", "urllib3==2.8.0",
    "Werkzeug==3.1.9", "wrapt==2.5.2", "xmltodict==1.0.4",
];

export interface MotoServer {
    /** http://127.0.0.1:<port> */
    endpoint: string;
    port: number;
    /** POST /moto-api/reset: forget every resource. */
    reset(): Promise<void>;
    stop(): Promise<void>;
}

const windows = process.platform === "win32";

function venvDir(): string {
    return join(cacheDir(), "moto-venv");
}

function venvBin(name: string): string {
    return windows ? join(venvDir(), "Scripts", `${name}.exe`) : join(venvDir(), "bin", name);
}

function installId(): string {
    const hash = createHash("sha256").update(MOTO_CONSTRAINTS.join("\n")).digest("hex").slice(0, 12);
    return `moto[server]==${MOTO_VERSION} constraints:${hash}`;
}

function installed(marker: string): boolean {
    try {
        // The venv's python links to the interpreter that made it: if that is gone (pyenv, upgrade), reinstall.
        return readFileSync(marker, "utf8").trim() === installId() && existsSync(venvBin("moto_server")) && existsSync(venvBin("python"));
    } catch {
        return false;
    }
}

/** Install moto into `<cache>/moto-venv` once; returns the path of `moto_server`. */
export async function ensureMoto(): Promise<string> {
    const marker = join(venvDir(), ".webhook-pipeline-installed");
    if (installed(marker)) return venvBin("moto_server");
    return withLock(join(cacheDir(), "moto-venv.lock"), async () => {
        if (installed(marker)) return venvBin("moto_server"); // another process finished it while we waited
        const started = Date.now();
        progress(`installing moto[server]==${MOTO_VERSION} into ${venvDir()} (once; takes a minute)`);
        rmSync(venvDir(), { recursive: true, force: true });
        const python = process.env.PYTHON || (windows ? "python" : "python3");
        await runCommand(python, ["-m", "venv", venvDir()], { what: "creating the Python venv for moto (needs Python 3.9+ with venv; on Debian/Ubuntu: apt-get install python3-venv)" });
        const pip = [venvBin("python"), ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]] as const;
        const requirement = `moto[server]==${MOTO_VERSION}`;
        if (MOTO_CONSTRAINTS.length > 0) {
            const constraints = join(venvDir(), "constraints.txt");
            writeFileSync(constraints, MOTO_CONSTRAINTS.join("\n") + "\n");
            try {
                await runCommand(pip[0], [...pip[1], "-c", constraints, requirement], { what: "pip install moto (pinned dependencies)" });
            } catch (err) {
                progress(`pinned dependencies did not install on this Python; retrying with moto's own version ranges\n${(err as Error).message.split("\n").slice(-3).join("\n")}`);
                await runCommand(pip[0], [...pip[1], requirement], { what: "pip install moto" });
            }
        } else {
            await runCommand(pip[0], [...pip[1], requirement], { what: "pip install moto" });
        }
        if (!existsSync(venvBin("moto_server"))) throw new Error(`pip installed moto but ${venvBin("moto_server")} is missing`);
        writeFileSync(marker, installId() + "\n");
        progress(`moto installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return venvBin("moto_server");
    });
}

/** moto answers its own API with JSON (another server on the port would not). */
async function motoAnswers(endpoint: string): Promise<boolean> {
    const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${endpoint}/moto-api/data.json`);
    JSON.parse(text);
    return true;
}

/** The venv's Python, which runs the launcher. */
export async function motoPython(): Promise<string> {
    await ensureMoto();
    return venvBin("python");
}

/**
 * moto-launcher.py: moto's own server application with moto's delete/send
 * race fixed and its per-message costs cut (see that file). It is not
 * compiled, so it is read from the source tree (dist/ has no copy).
 */
export function motoLauncherPath(): string {
    return join(repoRoot(), "local", "services", "moto-launcher.py");
}

/** Start moto (moto-launcher.py) on 127.0.0.1 and wait until it answers HTTP. */
export async function startMoto(opts: { port?: number; timeoutMs?: number } = {}): Promise<MotoServer> {
    const python = await motoPython();
    if (!existsSync(motoLauncherPath())) throw new Error(`moto's launcher is missing: ${motoLauncherPath()}`);
    for (let attempt = 1; ; attempt++) {
        const port = opts.port ?? (await freePort());
        const endpoint = `http://127.0.0.1:${port}`;
        const service = spawnService("moto", python, [motoLauncherPath(), "-H", "127.0.0.1", "-p", String(port)], {
            logFile: join(cacheDir(), "logs", `moto-${port}.log`),
            env: { ...process.env, PYTHONUNBUFFERED: "1" },
        });
        try {
            await waitUntilReady(service, () => motoAnswers(endpoint), opts.timeoutMs ?? 60_000, `HTTP on ${endpoint}`);
        } catch (err) {
            // The free port can be taken between freePort() and bind: try another one.
            if (opts.port === undefined && attempt < 3 && /address already in use/i.test(service.lastLines(50))) continue;
            throw err;
        }
        return {
            endpoint,
            port,
            async reset() {
                const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
                await res.arrayBuffer();
                if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
            },
            stop: () => service.stop(3_000),
        };
    }
}
