/**
 * The console page (served as /console/app.js): polls the console's API and
 * fills the markup of assets.ts in. Everything shown is set as textContent or
 * built as DOM nodes, never as HTML: event ids, types and error messages come
 * from the internet. Actions send the token in `x-console-token`; the token
 * comes from the URL printed at start (`#token=...`, kept in this tab's
 * sessionStorage and removed from the address bar) or from the token field.
 */

interface Session {
    where: "local" | "aws";
    stack: string;
    actions: boolean;
    providers: string[];
    lanes: { id: string; provider: string }[];
    features: Record<"events" | "failSwitch" | "diagram" | "redrive" | "replay", boolean>;
}
interface LaneView {
    id: string;
    kind: string;
    queued: number | null;
    inFlight: number | null;
    running: number | null;
    dlq: number | null;
    oldestDlqAgeSeconds: number | null;
    processed: number | null;
    failed: number | null;
}
interface ProviderView {
    name: string;
    received: number | null;
    rejected: number | null;
    rejectReasons: Record<string, number>;
    processed: number | null;
    failed: number | null;
    dlq: number | null;
    inFlight: number | null;
    failing: boolean | null;
    lanes: LaneView[];
}
interface Overview {
    at: string;
    countsFrom: string;
    note?: string;
    providers: ProviderView[];
    router: { queued: number; inFlight: number; dlq: number; oldestDlqAgeSeconds: number | null };
}
interface RateSeries {
    bucketSeconds: number;
    t: number[];
    total: Record<string, (number | null)[]>;
    providers: Record<string, Record<string, (number | null)[]>>;
    note?: string;
}
interface EventRecord {
    at: string;
    provider: string;
    lane: string;
    eventId: string;
    eventType: string;
    outcome: string;
    attempt: number;
    replay: boolean;
    error?: string;
}
interface DlqLaneView {
    lane: string;
    provider: string;
    visible: number;
    inFlight: number;
    oldestAgeSeconds: number | null;
    recentFailures: EventRecord[] | null;
}
interface JobView {
    id: string;
    kind: string;
    title: string;
    state: "running" | "done" | "failed";
    done: number;
    total: number;
    note?: string;
    result?: unknown;
    error?: string;
}

const TokenKey = "webhook-console-token";
const PollMs = 2000;

function $(id: string): HTMLElement {
    const el = document.getElementById(id);
    if (!el) throw new Error(`no #${id} in the page`);
    return el;
}

/** An element with text (never HTML) and attributes. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | number | null, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
}

const show = (v: number | null | undefined) => (v === null || v === undefined ? "–" : String(v));

function age(seconds: number | null): string {
    if (seconds === null) return "–";
    if (seconds < 120) return `${seconds} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
}

// ---- token ----------------------------------------------------------------

function takeTokenFromUrl(): void {
    const m = /(?:^#|&)token=([0-9a-f]{16,})/.exec(location.hash);
    initialTab = /(?:^#|&)tab=(\w+)/.exec(location.hash)?.[1];
    if (m) {
        sessionStorage.setItem(TokenKey, m[1]);
        history.replaceState(null, "", location.pathname + location.search);
    }
}

let initialTab: string | undefined;
const token = () => sessionStorage.getItem(TokenKey) ?? "";

async function getJson<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { accept: "application/json" } });
    const body = await res.json();
    if (!res.ok) throw new Error((body as { error?: string }).error ?? `HTTP ${res.status}`);
    return body as T;
}

async function act<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json", "x-console-token": token() }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) {
        if (res.status === 403 && session.actions) $("token-form").hidden = false;
        throw new Error((answer as { error?: string }).error ?? `HTTP ${res.status}`);
    }
    return answer as T;
}

function flash(message: string): void {
    const note = $("overview-note");
    note.textContent = message;
    note.hidden = false;
}

// ---- overview -------------------------------------------------------------

let session: Session;
let overview: Overview | undefined;

function cell(row: HTMLTableRowElement, field: string, value: string, cls = "") {
    const td = el("td", value, { "data-field": field });
    if (cls) td.className = cls;
    row.append(td);
    return td;
}

function renderOverview(o: Overview): void {
    overview = o;
    $("counts-from").textContent = `Counts: ${o.countsFrom}. Updated ${new Date(o.at).toLocaleTimeString()}.`;
    const note = $("overview-note");
    if (o.note) {
        note.textContent = o.note;
        note.hidden = false;
    }
    const body = document.querySelector("#counts tbody")!;
    const rows: HTMLTableRowElement[] = [];
    for (const p of o.providers) {
        const row = el("tr", undefined, { "data-provider": p.name, class: "provider" });
        cell(row, "name", p.name);
        cell(row, "received", show(p.received));
        const rejected = cell(row, "rejected", show(p.rejected), p.rejected ? "warn" : "");
        const reasons = Object.entries(p.rejectReasons);
        if (reasons.length) rejected.title = reasons.map(([r, n]) => `${r}: ${n}`).join("\n");
        if (reasons.length) rejected.textContent = `${show(p.rejected)} (${reasons.map(([r, n]) => `${r} ${n}`).join(", ")})`;
        cell(row, "processed", show(p.processed), "ok");
        cell(row, "failed", show(p.failed), p.failed ? "bad" : "");
        cell(row, "queued", "");
        cell(row, "inFlight", show(p.inFlight));
        cell(row, "dlq", show(p.dlq), p.dlq ? "bad" : "");
        cell(row, "oldestDlq", "");
        const handler = el("td", undefined, { "data-field": "handler" });
        if (p.failing !== null) {
            const b = el("button", p.failing ? "heal handler" : "break handler", { class: "action", "data-action": p.failing ? "heal" : "break", "data-provider": p.name });
            b.disabled = !session.actions;
            b.title = p.failing ? "the handler fails on demand: make it work again" : "make this provider's handler fail, to watch retries fill the DLQ";
            b.addEventListener("click", () => void act("/console/api/fail", { provider: p.name, on: !p.failing }).then(refresh, (e: Error) => flash(e.message)));
            if (p.failing) handler.append(el("span", "failing ", { class: "bad" }));
            handler.append(b);
        }
        row.append(handler);
        rows.push(row);
        for (const l of p.lanes) {
            const lr = el("tr", undefined, { "data-lane": l.id, class: "lane" });
            cell(lr, "name", `${l.id} (${l.kind})`);
            cell(lr, "received", "");
            cell(lr, "rejected", "");
            // npm start counts per provider; a deployed stack's metrics are per lane
            cell(lr, "processed", l.processed === null ? "" : show(l.processed));
            cell(lr, "failed", l.failed === null ? "" : show(l.failed));
            cell(lr, "queued", show(l.queued));
            cell(lr, "inFlight", l.running ? `${show(l.inFlight)} (${l.running} running)` : show(l.inFlight));
            cell(lr, "dlq", show(l.dlq), l.dlq ? "bad" : "");
            cell(lr, "oldestDlq", age(l.oldestDlqAgeSeconds));
            cell(lr, "handler", "");
            rows.push(lr);
        }
    }
    body.replaceChildren(...rows);
    const r = o.router;
    $("router").textContent = `Router (catch-all queue): ${r.queued} queued, ${r.inFlight} in flight, ${r.dlq} in its DLQ${r.dlq ? ` (oldest ${age(r.oldestDlqAgeSeconds)})` : ""}.`;
}

// ---- chart ----------------------------------------------------------------

let chart: uPlot | undefined;
const RateColors: Record<string, string> = { received: "#0060df", processed: "#1f7a3f", failed: "#c9252d", rejected: "#a05a00" };

function renderRates(s: RateSeries): void {
    const provider = ($("chart-provider") as HTMLSelectElement).value;
    const source = provider ? s.providers[provider] : s.total;
    const names = Object.keys(RateColors);
    const data: uPlot.AlignedData = [s.t, ...names.map((n) => source?.[n] ?? s.t.map(() => null))];
    const note = $("chart-note");
    note.hidden = !s.note;
    note.textContent = s.note ?? "";
    const width = Math.max(400, $("chart").clientWidth - 12);
    if (!chart) {
        chart = new uPlot(
            {
                width,
                height: 240,
                scales: { x: { time: true } },
                axes: [{}, { label: "per second" }],
                series: [{}, ...names.map((n) => ({ label: n, stroke: RateColors[n], width: 2, points: { show: false } }))],
            },
            data,
            $("chart"),
        );
    } else {
        chart.setData(data);
        if (Math.abs(chart.width - width) > 20) chart.setSize({ width, height: 240 });
    }
}

// ---- events ---------------------------------------------------------------

function renderEvents(events: EventRecord[]): void {
    const rows = events.map((e) => {
        const row = el("tr", undefined, { "data-event-id": e.eventId, "data-outcome": e.outcome });
        row.append(
            el("td", new Date(e.at).toLocaleTimeString()),
            el("td", e.provider, { class: "text" }),
            el("td", e.lane, { class: "text" }),
            el("td", e.eventId, { class: "text" }),
            el("td", e.eventType, { class: "text" }),
            el("td", e.replay ? `${e.outcome} (replay)` : e.outcome, { class: e.outcome === "processed" ? "ok" : e.outcome === "duplicate" ? "muted" : "bad" }),
            el("td", e.attempt),
            el("td", e.error ?? "", { class: "text bad" }),
        );
        return row;
    });
    document.querySelector("#events tbody")!.replaceChildren(...rows);
}

// ---- DLQ ------------------------------------------------------------------

function renderDlq(lanes: DlqLaneView[]): void {
    const boxes = lanes.map((l) => {
        const box = el("div", undefined, { class: "dlq-lane", "data-dlq-lane": l.lane });
        const held = l.visible + l.inFlight;
        const title = el("h3", `${l.lane}: `);
        title.append(el("span", `${held} in the DLQ`, { class: held ? "bad" : "ok", "data-field": "dlq-count" }));
        if (l.oldestAgeSeconds !== null) title.append(el("span", `, oldest ${age(l.oldestAgeSeconds)}`, { class: "muted" }));
        const button = el("button", "Redrive", { class: "action", "data-action": "redrive", "data-lane": l.lane });
        button.disabled = !session.actions || held === 0;
        button.title = session.actions ? "move this DLQ's messages back to the lane's queue" : "this console is read-only";
        button.addEventListener("click", () => {
            button.disabled = true;
            act<JobView>("/console/api/redrive", { provider: l.provider, lane: l.provider === "catch-all" ? undefined : l.lane }).then(
                (job) => watchJob(job, $("jobs")),
                (e: Error) => watchError(e, $("jobs")),
            );
        });
        title.append(" ", button);
        box.append(title);
        if (l.recentFailures) {
            if (l.recentFailures.length) {
                box.append(el("p", "Latest failed attempts on this lane (the worker's last errors):", { class: "muted" }));
                const table = el("table", undefined, { class: "failures" });
                const head = el("tr");
                head.append(el("th", "time"), el("th", "event id"), el("th", "type"), el("th", "attempt"), el("th", "error"));
                table.append(head);
                for (const f of l.recentFailures) {
                    const row = el("tr", undefined, { "data-event-id": f.eventId });
                    row.append(el("td", new Date(f.at).toLocaleTimeString()), el("td", f.eventId, { class: "text" }), el("td", f.eventType, { class: "text" }), el("td", f.attempt), el("td", f.error ?? f.outcome, { class: "text bad", "data-field": "error" }));
                    table.append(row);
                }
                box.append(table);
            } else box.append(el("p", "No failed attempts on this lane since start.", { class: "muted" }));
        }
        return box;
    });
    $("dlq-lanes").replaceChildren(...boxes);
}

// ---- jobs -----------------------------------------------------------------

function watchError(e: Error, where: HTMLElement): void {
    where.prepend(el("p", e.message, { class: "bad job" }));
}

function watchJob(job: JobView, where: HTMLElement): void {
    const line = el("div", undefined, { class: "job", "data-job": job.id });
    const bar = el("progress");
    const label = el("span");
    line.append(el("b", job.title), " ", bar, " ", label);
    where.prepend(line);
    const draw = (j: JobView) => {
        bar.max = Math.max(1, j.total);
        bar.value = j.state === "running" ? j.done : Math.max(1, j.total);
        if (j.state === "running") label.textContent = `${j.done}/${j.total}${j.note ? ` ${j.note}` : ""}`;
        else if (j.state === "failed") {
            label.textContent = `failed: ${j.error ?? ""}`;
            label.className = "bad";
        } else {
            label.textContent = `done: ${summarize(j)}`;
            label.className = "ok";
        }
        line.setAttribute("data-state", j.state);
    };
    draw(job);
    const poll = () =>
        getJson<JobView>(`/console/api/jobs/${job.id}`).then((j) => {
            draw(j);
            if (j.state === "running") setTimeout(poll, 500);
            else void refresh();
        }, (e: Error) => watchError(e, where));
    setTimeout(poll, 300);
}

function summarize(j: JobView): string {
    const r = j.result as Record<string, unknown> | Record<string, unknown>[] | undefined;
    if (Array.isArray(r)) return r.map((x) => `${x.lane}: ${x.found} in the DLQ, moved ${x.moved}, failed ${x.failed}`).join("; ");
    if (r && typeof r === "object" && "found" in r) return `${r.found} found, ${r.replayed} replayed, ${r.failed} failed`;
    return JSON.stringify(r ?? null);
}

// ---- tabs, polling --------------------------------------------------------

let tab = "overview";

function selectTab(name: string): void {
    tab = name;
    for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>("#tabs button"))) b.classList.toggle("active", b.dataset.tab === name);
    for (const s of Array.from(document.querySelectorAll<HTMLElement>("main > section"))) s.hidden = s.id !== `tab-${name}`;
    if (name === "stack" && session.features.diagram) ($("diagram") as HTMLImageElement).src = "/console/api/diagram.svg";
    void refresh();
}

function fillSelect(id: string, values: string[], keepFirst: boolean): void {
    const select = $(id) as HTMLSelectElement;
    const first = keepFirst ? Array.from(select.options).slice(0, 1) : [];
    select.replaceChildren(...first, ...values.map((v) => el("option", v, { value: v })));
}

let refreshing = false;
let lastRates = 0;

async function refresh(): Promise<void> {
    if (refreshing) return;
    refreshing = true;
    const live = $("live");
    try {
        const work: Promise<void>[] = [getJson<Overview>("/console/api/overview").then(renderOverview)];
        if (tab === "overview" && Date.now() - lastRates > 4000) {
            lastRates = Date.now();
            work.push(getJson<RateSeries>("/console/api/rates").then(renderRates));
        }
        if (tab === "events" && session.features.events) {
            const p = ($("events-provider") as HTMLSelectElement).value;
            work.push(getJson<EventRecord[]>(`/console/api/events${p ? `?provider=${encodeURIComponent(p)}` : ""}`).then(renderEvents));
        }
        if (tab === "dlq") {
            const p = ($("dlq-provider") as HTMLSelectElement).value;
            work.push(getJson<DlqLaneView[]>(`/console/api/dlq?provider=${encodeURIComponent(p)}`).then(renderDlq));
        }
        await Promise.all(work);
        live.textContent = `live, every ${PollMs / 1000} s`;
        live.className = "badge live";
    } catch (e) {
        live.textContent = `not reachable: ${(e as Error).message}`;
        live.className = "badge down";
    } finally {
        refreshing = false;
    }
}

async function start(): Promise<void> {
    takeTokenFromUrl();
    session = await getJson<Session>("/console/api/session");
    $("stack").textContent = session.stack;
    $("where").textContent = session.where === "local" ? "npm start" : "deployed stack";
    $("mode").textContent = session.actions ? (token() ? "actions allowed" : "actions need the token") : "read-only";
    if (session.actions && !token()) $("token-form").hidden = false;
    $("token-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        const value = ($("token-input") as HTMLInputElement).value.trim();
        if (value) sessionStorage.setItem(TokenKey, value);
        $("token-form").hidden = true;
        $("mode").textContent = "actions allowed";
    });
    fillSelect("chart-provider", session.providers, true);
    fillSelect("events-provider", session.providers, true);
    fillSelect("dlq-provider", [...session.providers, "catch-all"], false);
    fillSelect("replay-provider", session.providers, false);
    if (!session.features.events) {
        const note = $("events-note");
        note.textContent = "A deployed stack keeps no list of outcomes: see the DLQs, and the workers' logs in CloudWatch.";
        note.hidden = false;
    }
    if (!session.features.diagram) {
        const note = $("diagram-note");
        note.textContent = "No stack file given: start the console with --stack <name|file> to draw the stack.";
        note.hidden = false;
    }
    ($("replay-start") as HTMLButtonElement).disabled = !session.features.replay;
    for (const id of ["replay-from", "replay-to"]) $(id).addEventListener("change", () => (($("replay-range") as HTMLSelectElement).value = "custom"));
    $("replay-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        const range = ($("replay-range") as HTMLSelectElement).value;
        // datetime-local values are the browser's local time; Date.parse reads them so
        const to = range === "custom" ? Date.parse(($("replay-to") as HTMLInputElement).value) : Date.now();
        const from = range === "custom" ? Date.parse(($("replay-from") as HTMLInputElement).value) : to - Number(range);
        if (!Number.isFinite(from) || !Number.isFinite(to)) return watchError(new Error("give both times of the range (from and to)"), $("replay-jobs"));
        act<JobView>("/console/api/replay", { provider: ($("replay-provider") as HTMLSelectElement).value, from, to, force: ($("replay-force") as HTMLInputElement).checked }).then(
            (job) => watchJob(job, $("replay-jobs")),
            (e: Error) => watchError(e, $("replay-jobs")),
        );
    });
    for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>("#tabs button"))) b.addEventListener("click", () => selectTab(b.dataset.tab!));
    for (const id of ["events-provider", "dlq-provider"]) $(id).addEventListener("change", () => void refresh());
    $("chart-provider").addEventListener("change", () => {
        lastRates = 0;
        void refresh();
    });
    selectTab(initialTab && document.getElementById(`tab-${initialTab}`) ? initialTab : "overview");
    setInterval(() => void refresh(), PollMs);
}

document.addEventListener("DOMContentLoaded", () => {
    start().catch((e: Error) => {
        const live = $("live");
        live.textContent = `could not start: ${e.message}`;
        live.className = "badge down";
    });
});
