/**
 * The architecture of a stack, drawn from its pipeline model: every
 * provider, its route into the catch-all queue, the router and archive, each
 * lane's queue (or topic), worker and DLQ. Two outputs:
 *
 * - Mermaid (`toMermaid`), which GitHub renders in Markdown;
 * - SVG (`toSvg`), laid out here in columns with one row per lane, so it
 *   needs no renderer: providers | API | catch-all | router | lanes | workers | DLQs.
 */
import { LaneName } from "../model/constants";
import type { LaneModel, PipelineModel, ProviderModel } from "../model/pipeline";

function patternsTo(provider: ProviderModel, target: string): string[] {
    return provider.routes.filter((r) => r.targets.includes(target)).map((r) => r.pattern);
}

/** The patterns routed to a lane; the closing `*` reads "the rest" when other rules come first. */
function routeLabel(provider: ProviderModel, laneId: string): string {
    return patternsTo(provider, laneId)
        .map((pattern) => (pattern === "*" && provider.routes.length > 1 ? "* (the rest)" : pattern))
        .join(", ");
}

function laneLabel(lane: LaneModel): string {
    return lane.kind === "kafka" ? `topic ${lane.topic}` : `queue ${lane.id}${lane.ordering ? ".fifo" : ""}`;
}

function workerLabel(lane: LaneModel): string {
    const who = lane.kind === "kafka" ? "consumer group" : "worker";
    return `${who} x${lane.concurrency} · batch ${lane.batchSize} · ${lane.handler}`;
}

function retryLabel(lane: LaneModel): string {
    return `after ${lane.maxReceiveCount} attempt${lane.maxReceiveCount === 1 ? "" : "s"}`;
}

const mermaidId = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");
const mermaidText = (s: string) => s.replace(/"/g, "#quot;");

/** A Mermaid flowchart of the stack. */
export function toMermaid(model: PipelineModel, title = "webhook pipeline"): string {
    const lines = [`---`, `title: ${title}`, `---`, "flowchart LR"];
    lines.push(`    api["API Gateway HTTP API<br/>POST /webhooks/{provider}"]`);
    lines.push(`    catchall[["catch-all queue"]]`, `    catchall_dlq[("catch-all DLQ")]`);
    lines.push(`    router["router<br/>batch ${model.router.batchSize} · x${model.router.concurrency}"]`, `    archive[("S3 archive<br/>raw/ · quarantine/")]`);
    for (const p of model.providers) {
        const id = mermaidId(p.name);
        lines.push(`    p_${id}(["${mermaidText(`${p.name} (${p.plugin})`)}"])`);
        if (p.ingress === "function") {
            lines.push(`    p_${id} -->|"${p.path}"| api`, `    api --> ingress_${id}["ingress fn ${mermaidText(p.name)}"]`, `    ingress_${id} --> catchall`);
        } else lines.push(`    p_${id} -->|"${p.path}"| api`);
    }
    lines.push("    api -->|direct SQS integration| catchall", `    catchall -.->|after ${model.router.maxReceiveCount} attempts| catchall_dlq`, "    catchall --> router", "    router -->|archive, quarantine| archive");
    for (const p of model.providers) {
        const drops = patternsTo(p, LaneName.Drop);
        if (drops.length) lines.push(`    router -.->|"${mermaidText(`${p.name}: ${drops.join(", ")}`)}"| drop_${mermaidId(p.name)}["drop: archived only"]`);
        for (const lane of model.lanes.filter((l) => l.provider === p.name)) {
            const id = mermaidId(lane.id);
            lines.push(
                `    router -->|"${mermaidText(routeLabel(p, lane.id))}"| q_${id}[["${mermaidText(laneLabel(lane))}"]]`,
                `    q_${id} --> w_${id}["${mermaidText(workerLabel(lane))}"]`,
                `    q_${id} -.->|${retryLabel(lane)}| dlq_${id}[("${mermaidText(lane.kind === "kafka" ? `${lane.id} DLQ topic` : `${lane.id} DLQ`)}")]`,
            );
        }
    }
    return lines.join("\n") + "\n";
}

// ---- SVG ----------------------------------------------------------------

const Font = { size: 12, small: 10.5, family: "Helvetica, Arial, sans-serif", charWidth: 6.9, smallCharWidth: 6.0 };
const RowHeight = 64;
const BoxHeight = 44;
const Gap = 56;
const Margin = 24;
const TitleHeight = 40;

interface Box {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const textWidth = (s: string, small = false) => s.length * (small ? Font.smallCharWidth : Font.charWidth);

const Style = {
    provider: { fill: "#eef4ff", stroke: "#3b6fd8" },
    aws: { fill: "#fff6e5", stroke: "#d98b00" },
    queue: { fill: "#eafaf0", stroke: "#2e9d5b" },
    dlq: { fill: "#fdecec", stroke: "#c43c3c" },
    compute: { fill: "#f3eefc", stroke: "#7a4fc9" },
} as const;

class Svg {
    private readonly parts: string[] = [];

    box(b: Box, lines: readonly string[], style: { fill: string; stroke: string }, opts: { dashed?: boolean; rounded?: number } = {}) {
        this.parts.push(
            `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="${opts.rounded ?? 6}" fill="${style.fill}" stroke="${style.stroke}" stroke-width="1.5"${opts.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
        );
        const [first, ...rest] = lines;
        const total = lines.length;
        const lineHeight = 15;
        const top = b.y + b.h / 2 - ((total - 1) * lineHeight) / 2;
        this.text(b.x + b.w / 2, top, first, { anchor: "middle", bold: true });
        rest.forEach((l, i) => this.text(b.x + b.w / 2, top + (i + 1) * lineHeight, l, { anchor: "middle", small: true }));
    }

    text(x: number, y: number, s: string, opts: { anchor?: "start" | "middle" | "end"; bold?: boolean; small?: boolean; color?: string } = {}) {
        this.parts.push(
            `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" dominant-baseline="middle" text-anchor="${opts.anchor ?? "start"}" font-size="${opts.small ? Font.small : Font.size}"${opts.bold ? ' font-weight="bold"' : ""} fill="${opts.color ?? "#1d1d1f"}">${escapeXml(s)}</text>`,
        );
    }

    /** An arrow from (x1,y1) to (x2,y2), bent horizontally in the middle; optional label above its last leg. */
    arrow(x1: number, y1: number, x2: number, y2: number, opts: { dashed?: boolean; label?: string; color?: string } = {}) {
        const mid = (x1 + x2) / 2;
        const d = y1 === y2 ? `M${x1},${y1} L${x2},${y2}` : `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
        const color = opts.color ?? "#555";
        this.parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.3"${opts.dashed ? ' stroke-dasharray="5 3"' : ""} marker-end="url(#arrow${opts.dashed ? "-dashed" : ""})"/>`);
        if (opts.label) this.text(x2 - 6, y2 - 8, opts.label, { anchor: "end", small: true, color: "#444" });
    }

    render(width: number, height: number, title: string): string {
        return [
            `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="${Font.family}">`,
            `<title>${escapeXml(title)}</title>`,
            "<defs>",
            '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>',
            '<marker id="arrow-dashed" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c43c3c"/></marker>',
            "</defs>",
            `<rect width="100%" height="100%" fill="#ffffff"/>`,
            `<text x="${Margin}" y="${Margin + 4}" font-size="16" font-weight="bold" dominant-baseline="middle" fill="#1d1d1f">${escapeXml(title)}</text>`,
            ...this.parts,
            "</svg>",
        ].join("\n");
    }
}

const widthOf = (lines: readonly string[], min = 90) => Math.max(min, ...lines.map((l, i) => textWidth(l, i > 0) + 24));

/** An SVG drawing of the stack, one row per lane. */
export function toSvg(model: PipelineModel, title = "webhook pipeline"): string {
    const svg = new Svg();
    const lanes = model.lanes;
    const rows = Math.max(lanes.length, 4);
    const top = Margin + TitleHeight;
    const rowY = (i: number) => top + i * RowHeight + (RowHeight - BoxHeight) / 2;
    const height = top + rows * RowHeight + Margin + 24;
    const middle = top + (rows * RowHeight) / 2;

    const providerLines = (p: ProviderModel) => {
        const drops = patternsTo(p, LaneName.Drop);
        return [p.name, `${p.plugin}${p.ingress === "function" ? " · ingress fn" : ""}`, ...(drops.length ? [`drop: ${drops.join(", ")}`] : [])];
    };
    const routeText = (lane: LaneModel) => routeLabel(model.providers.find((p) => p.name === lane.provider)!, lane.id);
    const queueLines = (lane: LaneModel) => [laneLabel(lane), `routes: ${routeText(lane)}`];
    const workerLines = (lane: LaneModel) => [lane.kind === "kafka" ? "consumer group" : "worker", `x${lane.concurrency} · batch ${lane.batchSize} · handler ${lane.handler}`];
    const dlqLines = (lane: LaneModel) => [lane.kind === "kafka" ? "DLQ topic" : `${lane.id}-dlq`, retryLabel(lane)];
    const apiLines = ["API Gateway", "HTTP API", "POST /webhooks/{provider}"];
    const catchAllLines = ["catch-all queue", "+ DLQ after " + model.router.maxReceiveCount];
    const routerLines = ["router", `batch ${model.router.batchSize} · x${model.router.concurrency}`, "verify · archive · route"];
    const archiveLines = ["S3 archive", "raw/ · quarantine/"];

    // Column widths and x positions.
    const widths = [
        Math.max(...model.providers.map((p) => widthOf(providerLines(p)))),
        widthOf(apiLines),
        widthOf(catchAllLines),
        Math.max(widthOf(routerLines), widthOf(archiveLines)),
        Math.max(...lanes.map((l) => widthOf(queueLines(l)))),
        Math.max(...lanes.map((l) => widthOf(workerLines(l)))),
        Math.max(...lanes.map((l) => widthOf(dlqLines(l)))),
    ];
    const xs: number[] = [];
    widths.reduce((x, w, i) => ((xs[i] = x), x + w + Gap + (i === 3 ? 40 : 0)), Margin);
    const width = xs[6] + widths[6] + Margin;

    // Lanes: one row each. Providers: centred on their lanes.
    const laneRow = new Map(lanes.map((l, i) => [l.id, i]));
    const providerBoxes = new Map<string, Box>();
    for (const p of model.providers) {
        const own = lanes.filter((l) => l.provider === p.name).map((l) => laneRow.get(l.id)!);
        const lines = providerLines(p);
        const h = Math.max(BoxHeight, 16 * lines.length + 10);
        const centre = own.length ? (rowY(Math.min(...own)) + rowY(Math.max(...own))) / 2 + BoxHeight / 2 : middle;
        providerBoxes.set(p.name, { x: xs[0], y: centre - h / 2, w: widths[0], h });
    }
    const tall = (col: number, lines: readonly string[], h = 70): Box => ({ x: xs[col], y: middle - h / 2, w: widths[col], h });
    const api = tall(1, apiLines, 80);
    const catchAll = tall(2, catchAllLines, 56);
    const router = tall(3, routerLines, 70);
    const archive: Box = { x: xs[3], y: Math.min(height - Margin - 24 - 48, router.y + router.h + 40), w: widths[3], h: 48 };

    for (const p of model.providers) {
        const b = providerBoxes.get(p.name)!;
        svg.box(b, providerLines(p), Style.provider, { rounded: 14 });
        svg.arrow(b.x + b.w, b.y + b.h / 2, api.x, api.y + api.h / 2);
    }
    svg.box(api, apiLines, Style.aws);
    svg.arrow(api.x + api.w, api.y + api.h / 2, catchAll.x, catchAll.y + catchAll.h / 2);
    svg.box(catchAll, catchAllLines, Style.queue);
    svg.arrow(catchAll.x + catchAll.w, catchAll.y + catchAll.h / 2, router.x, router.y + router.h / 2);
    svg.box(router, routerLines, Style.compute);
    svg.arrow(router.x + router.w / 2, router.y + router.h, archive.x + archive.w / 2, archive.y);
    svg.box(archive, archiveLines, Style.aws);

    lanes.forEach((lane, i) => {
        const y = rowY(i);
        const queue: Box = { x: xs[4], y, w: widths[4], h: BoxHeight };
        const worker: Box = { x: xs[5], y, w: widths[5], h: BoxHeight };
        const dlq: Box = { x: xs[6], y, w: widths[6], h: BoxHeight };
        svg.arrow(router.x + router.w, router.y + router.h / 2, queue.x, y + BoxHeight / 2);
        svg.box(queue, queueLines(lane), Style.queue);
        svg.arrow(queue.x + queue.w, y + BoxHeight / 2, worker.x, y + BoxHeight / 2);
        svg.box(worker, workerLines(lane), Style.compute);
        svg.arrow(worker.x + worker.w, y + BoxHeight / 2, dlq.x, y + BoxHeight / 2, { dashed: true, color: "#c43c3c" });
        svg.box(dlq, dlqLines(lane), Style.dlq, { dashed: true });
    });
    svg.text(Margin, height - Margin, "solid: message flow · dashed: failed deliveries move to the DLQ after maxReceiveCount attempts (back with npm run ops -- redrive)", { small: true, color: "#666" });
    return svg.render(width, height, title);
}
