/**
 * The page's markup and styles. The markup holds no data: the script
 * (page/console.ts) fills it in through textContent and DOM nodes only, so
 * nothing that arrived from the internet (event ids, types, error messages)
 * is ever parsed as HTML. No inline script or style: the Content-Security-Policy
 * (security.ts) allows only the files served under /console/.
 */

export function indexHtml(): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>webhook pipeline console</title>
<link rel="stylesheet" href="/console/uplot.css">
<link rel="stylesheet" href="/console/console.css">
<script src="/console/uplot.js" defer></script>
<script src="/console/app.js" defer></script>
</head>
<body>
<header>
  <h1>webhook pipeline <span id="stack"></span></h1>
  <span id="where" class="badge"></span>
  <span id="live" class="badge">connecting…</span>
  <span id="mode" class="badge"></span>
  <form id="token-form" hidden>
    <label>console token <input id="token-input" type="password" autocomplete="off" size="20" placeholder="printed at start"></label>
    <button type="submit">use</button>
  </form>
</header>
<nav id="tabs">
  <button data-tab="overview" class="active">Overview</button>
  <button data-tab="events">Events</button>
  <button data-tab="search">Search</button>
  <button data-tab="dlq">Dead letters</button>
  <button data-tab="replay">Replay</button>
  <button data-tab="stack">Stack</button>
</nav>
<main>
<section id="tab-overview">
  <p class="help">Each webhook is received at the edge, verified and archived by the router (or rejected), routed to a lane, and handled by that lane's worker. A handler that keeps failing sends the event to the lane's dead-letter queue (DLQ); fix it, then redrive from <b>Dead letters</b>. <b>Search</b> (or a click on an event id) shows one event's path.</p>
  <p id="counts-from" class="muted"></p>
  <p id="overview-note" class="note" hidden></p>
  <table id="counts">
    <thead><tr><th>provider / lane</th><th>received</th><th>rejected</th><th>processed</th><th>failed attempts</th><th>queued</th><th>in flight</th><th>in the DLQ</th><th>oldest in DLQ</th><th>actions</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="router" class="muted"></p>
  <h2>Rates, last 15 minutes <select id="chart-provider"><option value="">all providers</option></select></h2>
  <p id="chart-note" class="note" hidden></p>
  <div id="chart"></div>
</section>
<section id="tab-events" hidden>
  <p class="help">The latest outcomes of the lanes' workers, newest first: each attempt at an event, with its lane and how it ended.</p>
  <p><label>provider <select id="events-provider"><option value="">all</option></select></label> <span id="events-note" class="note" hidden></span></p>
  <table id="events">
    <thead><tr><th>time</th><th>provider</th><th>lane</th><th>event id</th><th>type</th><th>outcome</th><th>attempt</th><th>error</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<section id="tab-search" hidden>
  <p class="help">Where is an event, and what happened to it? Give the provider's event id (or the request id the edge answered with): the search reads the archive around it, the lanes' idempotency records and last errors, and every DLQ.</p>
  <form id="search-form">
    <label>provider <select id="search-provider"></select></label>
    <select id="search-kind"><option value="eventId">event id</option><option value="requestId">request id</option></select>
    <input id="search-id" type="search" size="40" autocomplete="off" placeholder="evt_123 or a request id">
    <button type="submit" id="search-start">Search</button>
  </form>
  <div id="search-result"></div>
</section>
<section id="tab-dlq" hidden>
  <p class="help">Events whose handler failed every attempt wait in their lane's DLQ. Fix the handler, then <b>Redrive</b> moves them back to the lane, where they are processed again.</p>
  <p><label>provider <select id="dlq-provider"></select></label> <button id="dlq-refresh" class="action">Refresh</button> <span class="muted">(listed on demand: each look receives the DLQ's messages for a moment)</span></p>
  <div id="dlq-lanes"></div>
  <div id="dlq-message"></div>
  <div id="jobs"></div>
</section>
<section id="tab-replay" hidden>
  <p class="help">Replay sends archived requests of a provider, received in a time range, through the router again. Events processed before are skipped by the workers' idempotency unless <i>force</i> is set.</p>
  <form id="replay-form">
    <label>provider <select id="replay-provider"></select></label>
    <label>received in the last <select id="replay-range"><option value="900000">15 minutes</option><option value="3600000">hour</option><option value="86400000">day</option><option value="custom">range below</option></select></label>
    <label>from <input id="replay-from" type="datetime-local" step="1"></label>
    <label>to <input id="replay-to" type="datetime-local" step="1"></label>
    <label><input id="replay-force" type="checkbox"> force (run handlers again)</label>
    <button type="submit" id="replay-start">Replay</button>
  </form>
  <div id="replay-jobs"></div>
</section>
<section id="tab-stack" hidden>
  <p class="help">The running stack: providers, the catch-all queue and router, and per lane its queue, worker and DLQ.</p>
  <p id="diagram-note" class="note" hidden></p>
  <img id="diagram" alt="drawing of the stack">
</section>
</main>
</body>
</html>
`;
}

export const consoleCss = `
:root { --fg: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --bg: #fbfbfd; --bad: #c9252d; --ok: #1f7a3f; --warn: #a05a00; --accent: #0060df; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 12px; align-items: center; padding: 10px 20px; border-bottom: 1px solid var(--line); background: #fff; flex-wrap: wrap; }
h1 { font-size: 18px; margin: 0; }
h1 span { color: var(--muted); font-weight: normal; }
h2 { font-size: 15px; margin: 20px 0 8px; }
.badge { border: 1px solid var(--line); border-radius: 10px; padding: 1px 8px; font-size: 12px; color: var(--muted); }
.badge.live { color: var(--ok); border-color: var(--ok); }
.badge.down { color: var(--bad); border-color: var(--bad); }
nav { display: flex; gap: 4px; padding: 8px 20px 0; border-bottom: 1px solid var(--line); background: #fff; }
nav button { border: 1px solid transparent; border-bottom: none; background: none; padding: 6px 12px; cursor: pointer; font: inherit; color: var(--muted); border-radius: 6px 6px 0 0; }
nav button.active { border-color: var(--line); background: var(--bg); color: var(--fg); margin-bottom: -1px; }
main { padding: 12px 20px 40px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; word-break: break-all; }
tr.provider td { font-weight: 600; background: #f5f5f7; }
tr.lane td:first-child { padding-left: 24px; font-weight: normal; }
.bad { color: var(--bad); }
.ok { color: var(--ok); }
.warn { color: var(--warn); }
.muted { color: var(--muted); }
.help { color: var(--muted); max-width: 900px; }
.note { color: var(--warn); }
button.action { font: inherit; padding: 2px 10px; border-radius: 4px; border: 1px solid var(--accent); color: var(--accent); background: #fff; cursor: pointer; }
button.action:disabled { border-color: var(--line); color: var(--muted); cursor: not-allowed; }
.dlq-lane { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.dlq-lane h3 { margin: 0 0 6px; font-size: 14px; }
.job { margin: 6px 0; }
progress { width: 240px; vertical-align: middle; }
button.link { font: inherit; border: none; background: none; padding: 0; color: var(--accent); cursor: pointer; text-align: left; word-break: break-all; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; white-space: pre-wrap; word-break: break-all; max-height: 320px; overflow: auto; }
#trace-path li { margin: 4px 0; }
#trace-verdict { font-weight: 600; }
.paused-note { display: block; font-size: 12px; }
#chart { background: #fff; border: 1px solid var(--line); padding: 6px; min-height: 260px; }
#diagram { max-width: 100%; background: #fff; border: 1px solid var(--line); }
form label { margin-right: 12px; }
`;
