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
    features: Record<"events" | "failSwitch" | "diagram" | "redrive" | "replay" | "trace" | "dlqList" | "pause", boolean>;
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
    paused: boolean | null;
    pausedSince: string | null;
    held: number | null;
    oldestHeldAgeSeconds: number | null;
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
interface DlqMessage {
    id: string;
    lane: string;
    eventId?: string;
    eventType?: string;
    requestId?: string;
    firstSeen?: string;
    lastSeen?: string;
    attempts?: number;
    receiveCount: number;
    lastError?: { errorClass: string; message: string; attempt: number; at: number };
    deadLetterReason?: string;
    deliveryStatus?: number;
    unreadable?: string;
}
interface DlqListing {
    lane: string;
    provider: string;
    depth: { visible: number; inFlight: number; delayed: number };
    messages: DlqMessage[];
    complete: boolean;
}
interface DlqMessageDetail extends DlqMessage {
    body: { text?: string; base64?: string; claim?: { bucket: string; key: string } };
    orderingKey?: string;
}
interface LaneTrace {
    lane: string;
    kind: string;
    routed: boolean;
    state: string;
    summary: string;
    idempotency?: { status: string; processedAt?: string };
    lastError?: { errorClass: string; message: string; attempt: number; at: number };
}
interface TraceResult {
    provider: string;
    eventId?: string;
    requestId?: string;
    searched: { from: string; to: string; window: string; objects: number };
    archived: { key: string; requestId: string; receivedAt: string; eventId?: string; eventType?: string; lanes: string[] }[];
    quarantined: { key: string; requestId: string; receivedAt: string; reason: string; detail?: string }[];
    lanes: LaneTrace[];
    catchAll: { queue: { found: boolean }; dlq: { found: boolean } };
    verdict: string;
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
            const name = cell(lr, "name", `${l.id} (${l.kind})`);
            if (l.paused) name.append(" ", el("span", `paused${l.pausedSince ? ` since ${new Date(l.pausedSince).toLocaleTimeString()}` : ""}, holding ${show(l.held)}${l.oldestHeldAgeSeconds !== null ? ` (oldest ${age(l.oldestHeldAgeSeconds)})` : ""}`, { class: "warn paused-note", "data-field": "paused" }));
            cell(lr, "received", "");
            cell(lr, "rejected", "");
            // per lane: npm start's lane counters, a deployed stack's worker metrics
            cell(lr, "processed", l.processed === null ? "" : show(l.processed));
            cell(lr, "failed", l.failed === null ? "" : show(l.failed));
            cell(lr, "queued", show(l.queued));
            cell(lr, "inFlight", l.running ? `${show(l.inFlight)} (${l.running} running)` : show(l.inFlight));
            cell(lr, "dlq", show(l.dlq), l.dlq ? "bad" : "");
            cell(lr, "oldestDlq", age(l.oldestDlqAgeSeconds));
            const actions = cell(lr, "handler", "");
            if (session.features.pause && l.paused !== null) {
                const b = el("button", l.paused ? "resume" : "pause", { class: "action", "data-action": l.paused ? "resume" : "pause", "data-lane": l.id });
                b.title = l.paused ? "let the lane's worker take messages again: what it holds is processed" : "stop the lane's worker taking messages: requests are still acknowledged and held in the lane's queue";
                b.addEventListener("click", () => {
                    b.disabled = true;
                    void act(`/console/api/${l.paused ? "resume" : "pause"}`, { provider: p.name, lane: l.id }).then(refresh, (e: Error) => flash(e.message));
                });
                actions.append(b);
            }
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
            traceCell(e.provider, e.eventId),
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

/** An event id that opens its trace when clicked. */
function traceCell(provider: string, eventId: string): HTMLTableCellElement {
    const td = el("td", undefined, { class: "text" });
    if (!session.features.trace) {
        td.textContent = eventId;
        return td;
    }
    const b = el("button", eventId, { class: "link", "data-action": "trace", title: "where is this event, and what happened to it?" });
    b.addEventListener("click", () => {
        ($("search-provider") as HTMLSelectElement).value = provider;
        ($("search-kind") as HTMLSelectElement).value = "eventId";
        ($("search-id") as HTMLInputElement).value = eventId;
        selectTab("search");
        void runSearch();
    });
    td.append(b);
    return td;
}

function dlqReason(m: DlqMessage): string {
    if (m.deadLetterReason) return `dead-lettered by the destination${m.deliveryStatus !== undefined ? ` (HTTP ${m.deliveryStatus})` : ""}: ${m.deadLetterReason}`;
    if (m.lastError) return `${m.lastError.errorClass}: ${m.lastError.message}`;
    if (m.unreadable) return `not a lane message: ${m.unreadable}`;
    return "no error recorded";
}

function redriveButton(provider: string, lane: string | undefined, held: number): HTMLButtonElement {
    const button = el("button", "Redrive", { class: "action", "data-action": "redrive", "data-lane": lane ?? provider });
    button.disabled = !session.actions || held === 0;
    button.title = session.actions ? "move this DLQ's messages back to the lane's queue" : "this console is read-only";
    button.addEventListener("click", () => {
        button.disabled = true;
        act<JobView>("/console/api/redrive", { provider, lane }).then(
            (job) => watchJob(job, $("jobs"), loadDlq),
            (e: Error) => watchError(e, $("jobs")),
        );
    });
    return button;
}

function renderDlq(listings: DlqListing[]): void {
    const boxes = listings.map((l) => {
        const box = el("div", undefined, { class: "dlq-lane", "data-dlq-lane": l.lane });
        const held = l.depth.visible + l.depth.inFlight;
        const title = el("h3", `${l.lane}: `);
        title.append(el("span", `${held} in the DLQ`, { class: held ? "bad" : "ok", "data-field": "dlq-count" }), " ", redriveButton(l.provider, l.lane, held));
        box.append(title);
        if (l.messages.length) {
            const table = el("table", undefined, { class: "dlq-messages" });
            const head = el("tr");
            for (const h of ["event id", "type", "attempts", "first seen", "last seen", "why", ""]) head.append(el("th", h));
            table.append(head);
            for (const m of l.messages) {
                const row = el("tr", undefined, { "data-message-id": m.id, "data-event-id": m.eventId ?? "" });
                const show = el("button", "show", { class: "link", "data-action": "show" });
                show.addEventListener("click", () => void showMessage(l.provider, l.lane, m.id));
                const showCell = el("td");
                showCell.append(show);
                row.append(
                    m.eventId ? traceCell(l.provider, m.eventId) : el("td", "?", { class: "text" }),
                    el("td", m.eventType ?? "", { class: "text" }),
                    el("td", m.attempts ?? m.receiveCount),
                    el("td", m.firstSeen ? new Date(m.firstSeen).toLocaleTimeString() : "–"),
                    el("td", m.lastSeen ? new Date(m.lastSeen).toLocaleTimeString() : "–"),
                    el("td", dlqReason(m), { class: "text bad", "data-field": "error" }),
                    showCell,
                );
                table.append(row);
            }
            box.append(table);
            if (!l.complete) box.append(el("p", "Not every message could be listed (a FIFO queue shows one per group at a time).", { class: "muted" }));
        }
        return box;
    });
    $("dlq-lanes").replaceChildren(...boxes);
}

async function showMessage(provider: string, lane: string, id: string): Promise<void> {
    const where = $("dlq-message");
    try {
        const m = await getJson<DlqMessageDetail>(`/console/api/dlq/message?provider=${encodeURIComponent(provider)}&lane=${encodeURIComponent(lane)}&id=${encodeURIComponent(id)}`);
        const body = m.body.text ?? (m.body.base64 !== undefined ? `(base64) ${m.body.base64}` : m.body.claim ? `(claim check) s3://${m.body.claim.bucket}/${m.body.claim.key}` : "");
        where.replaceChildren(
            el("h3", `${m.lane}: ${m.eventId ?? m.id}`),
            el("p", `${m.eventType ?? "?"}, request ${m.requestId ?? "?"}, ${m.attempts ?? m.receiveCount} attempts; ${dlqReason(m)}`, { class: "text" }),
            el("pre", body, { "data-field": "body" }),
        );
    } catch (e) {
        where.replaceChildren(el("p", (e as Error).message, { class: "bad" }));
    }
}

/** DLQ listings are read on demand (opening the tab, a provider, Refresh, after a redrive), not polled: each look receives the messages. */
async function loadDlq(): Promise<void> {
    const provider = ($("dlq-provider") as HTMLSelectElement).value;
    $("dlq-message").replaceChildren();
    if (provider === "catch-all") {
        const r = overview?.router;
        const box = el("div", undefined, { class: "dlq-lane", "data-dlq-lane": "catch-all" });
        const title = el("h3", "catch-all (requests the router failed): ");
        title.append(el("span", `${r?.dlq ?? 0} in the DLQ`, { class: r?.dlq ? "bad" : "ok", "data-field": "dlq-count" }), " ", redriveButton("catch-all", undefined, r?.dlq ?? 0));
        box.append(title);
        $("dlq-lanes").replaceChildren(box);
        return;
    }
    try {
        renderDlq(await getJson<DlqListing[]>(`/console/api/dlq?provider=${encodeURIComponent(provider)}`));
    } catch (e) {
        $("dlq-lanes").replaceChildren(el("p", (e as Error).message, { class: "bad" }));
    }
}

// ---- search (trace) --------------------------------------------------------

function renderTrace(t: TraceResult): void {
    const steps: HTMLElement[] = [];
    const step = (kind: string, text: string, cls = "") => {
        const li = el("li", text, { "data-step": kind });
        if (cls) li.className = cls;
        steps.push(li);
        return li;
    };
    for (const a of t.archived) step("archived", `received ${new Date(a.receivedAt).toLocaleString()} (request ${a.requestId}), verified and archived as ${a.key}; routed to ${a.lanes.length ? a.lanes.join(", ") : "no lane"}`);
    for (const q of t.quarantined) step("quarantined", `received ${new Date(q.receivedAt).toLocaleString()} (request ${q.requestId}) and quarantined: ${q.reason}${q.detail ? ` (${q.detail})` : ""}; kept as ${q.key}`, "bad");
    if (t.catchAll.queue.found) step("catch-all", "waiting in the catch-all queue for the router");
    if (t.catchAll.dlq.found) step("catch-all-dlq", "in the catch-all DLQ: the router failed it every attempt", "bad");
    for (const l of t.lanes.filter((x) => x.routed || x.state !== "unknown")) {
        const li = step("lane", `${l.lane}: ${l.state} — ${l.summary}`, l.state === "processed" ? "ok" : l.state === "in-dlq" || l.state === "retrying" ? "bad" : "");
        li.setAttribute("data-lane", l.lane);
        li.setAttribute("data-state", l.state);
        if (l.lastError) li.append(el("div", `last error (attempt ${l.lastError.attempt}, ${new Date(l.lastError.at).toLocaleTimeString()}): ${l.lastError.errorClass}: ${l.lastError.message}`, { class: "bad" }));
    }
    const list = el("ol", undefined, { id: "trace-path" });
    list.append(...steps);
    $("search-result").replaceChildren(
        el("p", t.verdict, { id: "trace-verdict" }),
        list,
        el("p", `Searched the archive ${new Date(t.searched.from).toLocaleString()} .. ${new Date(t.searched.to).toLocaleString()} (${t.searched.window}, ${t.searched.objects} objects), every DLQ, and the idempotency records.`, { class: "muted" }),
    );
}

async function runSearch(): Promise<void> {
    const provider = ($("search-provider") as HTMLSelectElement).value;
    const kind = ($("search-kind") as HTMLSelectElement).value;
    const id = ($("search-id") as HTMLInputElement).value.trim();
    if (!id) return;
    $("search-result").replaceChildren(el("p", `searching ${provider} for ${id}…`, { class: "muted" }));
    try {
        renderTrace(await getJson<TraceResult>(`/console/api/trace?provider=${encodeURIComponent(provider)}&${kind}=${encodeURIComponent(id)}`));
    } catch (e) {
        $("search-result").replaceChildren(el("p", (e as Error).message, { class: "bad" }));
    }
}

// ---- jobs -----------------------------------------------------------------

function watchError(e: Error, where: HTMLElement): void {
    where.prepend(el("p", e.message, { class: "bad job" }));
}

function watchJob(job: JobView, where: HTMLElement, then?: () => Promise<void>): void {
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
            else void refresh().then(() => then?.());
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
    if (name === "dlq") void loadDlq();
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
    fillSelect("search-provider", session.providers, false);
    $("search-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        void runSearch();
    });
    $("dlq-refresh").addEventListener("click", () => void loadDlq());
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
    $("events-provider").addEventListener("change", () => void refresh());
    $("dlq-provider").addEventListener("change", () => void loadDlq());
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
