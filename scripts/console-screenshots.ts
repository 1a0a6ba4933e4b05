/**
 * `npm run screenshots`: the console's main views as PNG files under docs/console/,
 * taken in headless Chromium (Debian's `chromium`; see test/support/browser.ts) from a
 * local pipeline on the dev stack with a little traffic: a few providers' webhooks,
 * one forged request, and acme's handler broken so its DLQ fills.
 *
 *   node dist/scripts/console-screenshots.js [--out docs/console]
 *
 * Its own moto, port and state folder (a temporary one): a running `npm start` is not disturbed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { exitOnHelp } from "../handlers/shared/help";
import { quietSdkNodeWarning } from "./node-support";
import { consoleLink } from "../local/console/local";
import { createLocalLogger } from "../local/log";
import { startLocalPipeline, LocalPipeline } from "../local/pipeline";
import { repoRoot } from "../local/stack";
import { getPlugin } from "../providers";
import { ensureChromium, launchChromium } from "../test/support/browser";

const Usage = `Usage: npm run screenshots [-- --out docs/console]
  Starts a local pipeline on the dev stack (its own moto and port), sends some webhooks, breaks acme's
  handler, pauses svix's lane, and saves the console's views as PNG files: overview, events, search, dlq, replay, stack.`;

async function sendSome(pipeline: LocalPipeline, provider: string, count: number, forge = false): Promise<void> {
    const p = pipeline.stack.model.providers.find((x) => x.name === provider)!;
    const plugin = getPlugin(p.plugin, p.hmac);
    for (let i = 0; i < count; i++) {
        const now = Date.now();
        const body = plugin.sample(now);
        const url = `${pipeline.url}${p.path}`;
        const headers = plugin.sign(body, forge ? "not-the-secret" : pipeline.stack.secrets[provider][0], now, url);
        const res = await fetch(url, { method: "POST", headers: { "content-type": body[0] === 0x7b ? "application/json" : "application/x-www-form-urlencoded", ...headers }, body });
        await res.text();
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await sleep(300);
    }
}

async function main(argv: string[]): Promise<number> {
    exitOnHelp(argv, Usage);
    quietSdkNodeWarning();
    const { values } = parseArgs({ args: argv, options: { out: { type: "string", default: path.join(repoRoot(), "docs", "console") } } });
    const browserCheck = ensureChromium();
    if ("skip" in browserCheck) throw new Error(`no browser for the screenshots: ${browserCheck.skip}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wp-screenshots-"));
    process.env.POWERTOOLS_LOG_LEVEL ??= "WARN"; // the local logger reads it: keep the workers quiet
    const env = { ...process.env, WEBHOOK_PIPELINE_LOCAL_DIR: dir };
    const pipeline = await startLocalPipeline({ stack: "dev", port: 0, retryDelaySeconds: 1, writeState: false, env, logger: createLocalLogger() });
    const browser = await launchChromium(browserCheck.executablePath);
    try {
        const drained = async () => {
            const s = await pipeline.status();
            const queues = [s.router.queue, ...Object.values(s.providers).flatMap((p) => Object.values(p.lanes).flatMap((l) => (l.queue ? [l.queue] : [])))];
            return queues.every((q) => q.visible === 0 && q.inFlight === 0);
        };
        // Traffic in waves, so the chart has a shape
        pipeline.failures.set("acme", true);
        for (const [i, wave] of [
            ["stripe", 6],
            ["github", 4],
            ["shopify", 3],
        ].entries()) {
            await sendSome(pipeline, wave[0] as string, wave[1] as number);
            await sendSome(pipeline, "acme", 1);
            if (i === 1) await sendSome(pipeline, "github", 1, true);
            await sleep(6_000);
        }
        await until("acme's DLQ", async () => (await pipeline.status()).providers.acme.dlq === 3 && (await drained()));
        // a paused lane holding two
        await pipeline.setPaused(["svix-default"], true);
        await sendSome(pipeline, "svix", 2);
        await sleep(2_500);

        const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
        await page.goto(consoleLink(pipeline.console.url, pipeline.console.token));
        fs.mkdirSync(values.out!, { recursive: true });
        const shot = async (name: string) => {
            const file = path.join(values.out!, `${name}.png`);
            await page.screenshot({ path: file });
            console.log(`wrote ${path.relative(process.cwd(), file)}`);
        };
        await page.locator("#chart canvas").waitFor();
        await sleep(4_500);
        await shot("overview");
        await page.click('#tabs button[data-tab="events"]');
        await page.locator("#events tbody tr").first().waitFor();
        await shot("events");
        await page.locator('#events tr[data-outcome="processed"] button[data-action="trace"]').first().click();
        await page.locator("#trace-verdict").waitFor({ timeout: 30_000 });
        await shot("search");
        await page.click('#tabs button[data-tab="dlq"]');
        await page.selectOption("#dlq-provider", "acme");
        await page.locator('[data-dlq-lane="acme-default"] td[data-field="error"]').first().waitFor();
        await shot("dlq");
        await page.click('#tabs button[data-tab="replay"]');
        await page.selectOption("#replay-provider", "stripe");
        await page.click("#replay-start");
        await page.locator('#replay-jobs .job[data-state="done"]').waitFor({ timeout: 30_000 });
        await shot("replay");
        await page.click('#tabs button[data-tab="stack"]');
        await page.locator("#diagram").evaluate((img: unknown) => (img as { decode(): Promise<void> }).decode());
        await shot("stack");
        return 0;
    } finally {
        await browser.close();
        await pipeline.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`screenshots: ${err?.message ?? String(err)}\n`);
            process.exit(1);
        },
    );
}
