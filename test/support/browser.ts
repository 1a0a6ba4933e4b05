/**
 * A real browser for the console's tests: headless Chromium from Debian's
 * `chromium` package, driven by playwright-core (which downloads no browser
 * of its own). When /usr/bin/chromium is missing and this process may install
 * packages (root, apt-get present), it installs it, once per run; otherwise the
 * browser tests are skipped and the reason is printed, never silently passed.
 *
 *   CHROMIUM_PATH=/path/to/chromium   use that browser instead
 *   WEBHOOK_SKIP_BROWSER_INSTALL=1    never install; skip when it is missing
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import type { Browser } from "playwright-core";

export const DefaultChromium = "/usr/bin/chromium";

export type BrowserCheck = { readonly executablePath: string; readonly installed: boolean; readonly installMs?: number } | { readonly skip: string };

let checked: BrowserCheck | undefined;

function run(command: string, args: string[], timeoutMs: number): { ok: boolean; tail: string } {
    const r = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-5).join("\n");
    return { ok: r.status === 0, tail: r.error ? `${r.error.message}\n${tail}` : tail };
}

/** Where Chromium is, installing it when missing and allowed; or why the browser tests are skipped. */
export function ensureChromium(): BrowserCheck {
    if (checked) return checked;
    const wanted = process.env.CHROMIUM_PATH || DefaultChromium;
    if (fs.existsSync(wanted)) return (checked = { executablePath: wanted, installed: false });
    if (process.env.CHROMIUM_PATH) return (checked = { skip: `CHROMIUM_PATH=${wanted} does not exist` });
    if (process.env.WEBHOOK_SKIP_BROWSER_INSTALL === "1") return (checked = { skip: `${wanted} is missing and WEBHOOK_SKIP_BROWSER_INSTALL=1 forbids installing it (apt-get install -y chromium)` });
    if (process.platform !== "linux" || !fs.existsSync("/usr/bin/apt-get")) return (checked = { skip: `${wanted} is missing and this machine has no apt-get to install Debian's chromium package; install Chromium and set CHROMIUM_PATH` });
    if (process.getuid?.() !== 0) return (checked = { skip: `${wanted} is missing and installing it needs root (run: sudo apt-get install -y chromium)` });
    const started = Date.now();
    process.stderr.write(`      (installing Debian's chromium for the browser tests: apt-get install -y chromium)\n`);
    let install = run("apt-get", ["install", "-y", "-qq", "chromium"], 15 * 60_000);
    if (!install.ok) {
        // A fresh machine's package lists may be empty or old.
        run("apt-get", ["update", "-qq"], 5 * 60_000);
        install = run("apt-get", ["install", "-y", "-qq", "chromium"], 15 * 60_000);
    }
    if (!install.ok || !fs.existsSync(wanted)) return (checked = { skip: `apt-get install -y chromium failed, so the browser tests cannot run:\n${install.tail}` });
    return (checked = { executablePath: wanted, installed: true, installMs: Date.now() - started });
}

/** Headless Chromium; root needs --no-sandbox (Chromium refuses to sandbox as root). */
export async function launchChromium(executablePath: string): Promise<Browser> {
    const { chromium } = await import("playwright-core");
    return chromium.launch({ executablePath, headless: true, args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** For a mocha `before`: the browser's path, or skip the suite saying why. */
export function chromiumOrSkip(ctx: Mocha.Context): string {
    const check = ensureChromium();
    if ("skip" in check) {
        process.stderr.write(`      SKIPPED (browser tests): ${check.skip}\n`);
        ctx.skip();
    }
    return (check as { executablePath: string }).executablePath;
}
