/**
 * The console as a person uses it, in headless Chromium (test/support/browser.ts):
 * webhooks sent to `npm start`, then in the page the counts match `/_status`,
 * the search finds an event and shows its path, a handler broken from the page
 * fills its DLQ and the DLQ view shows the error, the redrive button empties it
 * and the events are then processed, a lane paused from the page holds what
 * arrives until it is resumed.
 * Also: what came from the internet is shown as text, never run as HTML, and
 * an action without the token is refused. The suite prints how long it took.
 */
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { chromiumOrSkip, launchChromium } from "../support/browser";
import { getStatus, LocalProcess, queuesDrained, startLocal, waitForStatus } from "../local/support";
import type { PipelineStatus } from "../../local/status";
import type { EventRecord } from "../../local/stats";
import { consoleToken, secrets, sendWebhook, stackFile } from "./support";

/** The numbers a provider's overview row shows, as /_status has them. */
function expectedRow(s: PipelineStatus, provider: string) {
    const p = s.providers[provider];
    return { received: String(p.received), processed: String(p.processed), failed: String(p.failed), dlq: String(p.dlq) };
}

async function pageRow(page: Page, provider: string) {
    const cell = (field: string) => page.locator(`#counts tr[data-provider="${provider}"] td[data-field="${field}"]`).innerText();
    return { received: await cell("received"), processed: await cell("processed"), failed: await cell("failed"), dlq: await cell("dlq") };
}

/** Wait until the page's rows show what /_status shows (the page polls every 2 s). */
async function pageMatchesStatus(page: Page, url: string, providers: readonly string[], timeoutMs = 15_000) {
    const started = Date.now();
    for (;;) {
        const status = await getStatus(url);
        const want = providers.map((p) => expectedRow(status, p));
        const seen = await Promise.all(providers.map((p) => pageRow(page, p)));
        if (JSON.stringify(seen) === JSON.stringify(want)) return status;
        if (Date.now() - started > timeoutMs) expect(seen, "the page's counts").to.deep.equal(want);
        await page.waitForTimeout(300);
    }
}

describe("console in a browser (npm start)", function () {
    this.timeout(180_000);
    let local: LocalProcess;
    let browser: Browser;
    let page: Page;
    let suiteStarted = 0;
    const pageErrors: string[] = [];

    before(async function () {
        const executablePath = chromiumOrSkip(this);
        suiteStarted = Date.now();
        [local, browser] = await Promise.all([startLocal({ stack: stackFile, secrets, args: ["--visibility-timeout", "1"] }), launchChromium(executablePath)]);
        page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.on("pageerror", (e) => pageErrors.push(e.message));
        await page.goto(`${local.url}/#token=${consoleToken(local)}`);
    });

    after(async () => {
        await browser?.close();
        await local?.remove();
        if (suiteStarted) process.stderr.write(`      (browser tests: ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s, browser and npm start included)\n`);
    });

    it("GIVEN webhooks sent to npm start WHEN the page is open THEN its counts per provider match /_status, and the token left the address bar", async () => {
        // Act
        for (const provider of ["stripe", "github", "acme"]) for (let i = 0; i < 2; i++) expect(await sendWebhook(local.url, provider)).to.equal(200);
        await waitForStatus(local.url, (s) => s.providers.stripe.processed + s.providers.github.processed + s.providers.acme.processed >= 6 && queuesDrained(s));

        // Assess
        const status = await pageMatchesStatus(page, local.url, Object.keys((await getStatus(local.url)).providers));
        expect(status.providers.stripe.received).to.equal(2);
        // per lane too: the lane rows show the lanes' own counters
        const lanes = Object.entries(status.providers).flatMap(([, p]) => Object.entries(p.lanes));
        const seen = await Promise.all(lanes.map(([id]) => page.locator(`#counts tr[data-lane="${id}"] td[data-field="processed"]`).innerText()));
        expect(seen).to.deep.equal(lanes.map(([, l]) => String(l.counts?.processed ?? "")));
        expect(await page.locator("#live").innerText()).to.match(/^live/);
        expect(new URL(page.url()).hash, "the token is kept in sessionStorage, not in the URL").to.equal("");
        expect(await page.locator("#chart canvas").count(), "the rates chart is drawn").to.be.greaterThan(0);
        expect(pageErrors).to.deep.equal([]);
    });

    it("GIVEN a processed event WHEN its id is clicked in the events list THEN the search shows its path: archived, routed, processed on its lane", async () => {
        // Prepare
        const events = (await (await fetch(`${local.url}/_events?provider=acme`)).json()) as EventRecord[];
        const { eventId } = events.find((e) => e.outcome === "processed")!;

        // Act
        await page.click('#tabs button[data-tab="events"]');
        await page.locator(`#events tr[data-event-id="${eventId}"] button[data-action="trace"]`).first().click({ timeout: 10_000 });
        await page.locator("#trace-verdict").waitFor({ timeout: 20_000 });

        // Assess
        expect(await page.locator("#search-id").inputValue()).to.equal(eventId);
        expect(await page.locator('#trace-path li[data-step="archived"]').innerText()).to.match(/verified and archived as raw\/provider=acme\/.*routed to acme-default/);
        expect(await page.locator('#trace-path li[data-lane="acme-default"]').getAttribute("data-state")).to.equal("processed");
    });

    it("GIVEN an event type that is HTML WHEN the events list shows it THEN it is text: no element is made of it and no script runs", async () => {
        // Prepare: razorpay reads the event type from the body's `event`
        const hostile = `<img src=x onerror="window.__pwned=1">`;
        const body = Buffer.from(JSON.stringify({ entity: "event", account_id: "acc_1", event: hostile, contains: [], payload: {}, created_at: Math.floor(Date.now() / 1000) }));

        // Act
        expect(await sendWebhook(local.url, "razorpay", body)).to.equal(200);
        await waitForStatus(local.url, (s) => s.providers.razorpay.processed === 1 && queuesDrained(s));
        await page.click('#tabs button[data-tab="events"]');
        const row = page.locator("#events tbody tr", { hasText: "onerror" });
        await row.first().waitFor({ timeout: 10_000 });

        // Assess
        expect(await row.first().locator("td").nth(4).innerText()).to.equal(hostile);
        expect(await page.locator("#events img").count()).to.equal(0);
        expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).to.equal(undefined);
    });

    it("GIVEN a handler broken from the page WHEN its events exhaust their attempts THEN the DLQ view shows them with the handler's error", async () => {
        // Act: the overview's button, with the token from the link
        await page.click('#tabs button[data-tab="overview"]');
        await page.click('#counts button[data-action="break"][data-provider="razorpay"]');
        await page.locator('#counts button[data-action="heal"][data-provider="razorpay"]').waitFor({ timeout: 10_000 });
        expect((await getStatus(local.url)).providers.razorpay.failing).to.equal(true);
        for (let i = 0; i < 2; i++) expect(await sendWebhook(local.url, "razorpay")).to.equal(200);
        // razorpay: maxReceiveCount 2, retried after 1 s
        await waitForStatus(local.url, (s) => s.providers.razorpay.dlq === 2 && queuesDrained(s), 60_000);
        await page.click('#tabs button[data-tab="dlq"]');
        await page.selectOption("#dlq-provider", "razorpay");

        // Assess
        const lane = page.locator('[data-dlq-lane="razorpay-default"]');
        await lane.locator('[data-field="dlq-count"]', { hasText: "2 in the DLQ" }).waitFor({ timeout: 10_000 });
        const errors = await lane.locator('td[data-field="error"]').allInnerTexts();
        expect(errors.length, "one row per DLQ message").to.equal(2);
        for (const e of errors) expect(e).to.include("InjectedFailureError: handler for razorpay fails on demand");
        // one message in full, its body as text
        await lane.locator('button[data-action="show"]').first().click();
        expect(await page.locator('#dlq-message pre[data-field="body"]').innerText()).to.include('"event":"payment.captured"');
    });

    it("GIVEN the token is missing WHEN an action is posted from the page THEN it is refused with 403 and nothing changes; a GET on an action changes nothing", async () => {
        // Act
        const answers = await page.evaluate(async () => {
            const post = await fetch("/console/api/fail", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ provider: "razorpay", on: false }) });
            const wrong = await fetch("/console/api/redrive", { method: "POST", headers: { "content-type": "application/json", "x-console-token": "0".repeat(64) }, body: JSON.stringify({ provider: "razorpay" }) });
            const get = await fetch("/console/api/redrive?provider=razorpay");
            return [post.status, wrong.status, get.status];
        });

        // Assess
        expect(answers).to.deep.equal([403, 403, 405]);
        const status = await getStatus(local.url);
        expect({ failing: status.providers.razorpay.failing, dlq: status.providers.razorpay.dlq }).to.deep.equal({ failing: true, dlq: 2 });
    });

    it("GIVEN the handler healed from the page WHEN Redrive is clicked THEN the DLQ empties and the events are processed", async () => {
        // Prepare
        await page.click('#tabs button[data-tab="overview"]');
        await page.click('#counts button[data-action="heal"][data-provider="razorpay"]');
        await page.locator('#counts button[data-action="break"][data-provider="razorpay"]').waitFor({ timeout: 10_000 });
        const before = (await getStatus(local.url)).providers.razorpay.processed;

        // Act
        await page.click('#tabs button[data-tab="dlq"]');
        await page.selectOption("#dlq-provider", "razorpay");
        const lane = page.locator('[data-dlq-lane="razorpay-default"]');
        await lane.locator('button[data-action="redrive"]:not([disabled])').click({ timeout: 10_000 });
        const job = page.locator('#jobs .job[data-state="done"]');
        await job.waitFor({ timeout: 30_000 });

        // Assess
        expect(await job.innerText()).to.include("razorpay-default: 2 in the DLQ, moved 2, failed 0");
        const healed = await waitForStatus(local.url, (s) => s.providers.razorpay.processed === before + 2 && queuesDrained(s), 30_000);
        expect(healed.providers.razorpay.dlq).to.equal(0);
        await lane.locator('[data-field="dlq-count"]', { hasText: "0 in the DLQ" }).waitFor({ timeout: 10_000 });
        await page.click('#tabs button[data-tab="overview"]');
        await pageMatchesStatus(page, local.url, ["razorpay"]);
        expect(pageErrors).to.deep.equal([]);
    });

    it("GIVEN a lane paused from the page WHEN events arrive THEN they are held (the page says so) and none is processed; resumed, each is processed", async () => {
        // Prepare
        await page.click('#tabs button[data-tab="overview"]');
        const before = (await getStatus(local.url)).providers.shopify.processed;
        // waitForStatus's message leaves the lanes out: say what shopify's lane showed
        const shopifyUntil = (what: string, done: (s: PipelineStatus) => boolean) =>
            waitForStatus(local.url, done, 40_000).catch(async (e: Error) => {
                throw new Error(`shopify: ${what}: ${e.message.split("\n")[0]}; shopify now: ${JSON.stringify((await getStatus(local.url)).providers.shopify)}`);
            });

        // Act: pause
        await page.click('#counts button[data-action="pause"][data-lane="shopify-default"]');
        await shopifyUntil("paused", (s) => s.providers.shopify.lanes["shopify-default"].paused === true);
        for (let i = 0; i < 3; i++) expect(await sendWebhook(local.url, "shopify")).to.equal(200);
        await shopifyUntil("the 3 held", (s) => (s.providers.shopify.lanes["shopify-default"].queue?.visible ?? 0) === 3 && s.router.queue.visible === 0 && s.router.queue.inFlight === 0);

        // Assess: held, shown, not processed
        await page.locator('#counts tr[data-lane="shopify-default"] [data-field="paused"]', { hasText: "holding 3" }).waitFor({ timeout: 10_000 });
        expect((await getStatus(local.url)).providers.shopify.processed).to.equal(before);

        // Act: resume
        await page.click('#counts button[data-action="resume"][data-lane="shopify-default"]');

        // Assess
        const resumed = await shopifyUntil("the 3 processed", (s) => s.providers.shopify.processed === before + 3 && queuesDrained(s));
        expect(resumed.providers.shopify.lanes["shopify-default"].paused).to.equal(false);
        await page.locator('#counts button[data-action="pause"][data-lane="shopify-default"]').waitFor({ timeout: 10_000 });
    });

    it("GIVEN archived requests WHEN a replay of the last 15 minutes is started from the page THEN its progress ends in the counts, and the workers skip what was processed", async () => {
        // Prepare
        const before = (await getStatus(local.url)).providers.razorpay;

        // Act
        await page.click('#tabs button[data-tab="replay"]');
        await page.selectOption("#replay-provider", "razorpay");
        await page.selectOption("#replay-range", "900000");
        await page.click("#replay-start");
        const job = page.locator('#replay-jobs .job[data-state="done"]');
        await job.waitFor({ timeout: 30_000 });

        // Assess: every razorpay request so far (1 HTML-typed, 2 redriven) was archived once
        expect(await job.innerText()).to.include(`done: ${before.received} found, ${before.received} replayed, 0 failed`);
        const after = await waitForStatus(local.url, (s) => s.providers.razorpay.duplicates === before.duplicates + before.received && queuesDrained(s), 30_000);
        expect(after.providers.razorpay.processed).to.equal(before.processed);
    });
});
