/**
 * bench/chart.svg: the headline ratios, ours against the seed-style baseline,
 * as one panel per metric with two bars on a shared scale (the larger value
 * is the full bar). Plain SVG written here: no renderer, no dependency.
 */
import * as fs from "fs";

interface Panel {
    readonly title: string;
    /** One line under the bars: what the figure covers. */
    readonly note: string;
    readonly unit: string;
    readonly ours: number;
    readonly baseline: number;
}

/** The panels whose two figures are present. */
export function chartPanels(figures: Readonly<Record<string, number>>): Panel[] {
    const defs: [string, string, string, string, string][] = [
        ["AWS calls per 1,000 webhooks", "calls", "router_calls_per_1000", "baseline_calls_per_1000", "Router calls: archive PUTs, lane sends, secret reads (mixed providers, 2 KB bodies)."],
        ["Router CPU per webhook (2 KB, no I/O)", "µs", "router_us_per_webhook", "baseline_us_per_webhook", "Parse, verify, route, serialize; ours also gzips the batched archive."],
        ["Cost per million webhooks (us-east-1 list prices)", "USD", "cost_usd_per_million", "baseline_cost_usd_per_million", "Edge to lane; ours includes the worker's idempotency writes, which the seed lacks."],
    ];
    return defs.filter(([, , o, b]) => figures[o] !== undefined && figures[b] !== undefined).map(([title, unit, o, b, note]) => ({ title, note, unit, ours: figures[o], baseline: figures[b] }));
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function format(value: number, unit: string): string {
    const n = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
    return unit === "USD" ? `$${n}` : `${n} ${unit}`;
}

/** The SVG text for `panels`. */
export function renderChart(panels: readonly Panel[]): string {
    const width = 720;
    const left = 170;
    const barMax = 400;
    const panelHeight = 128;
    const top = 56;
    const height = top + panels.length * panelHeight + 16;
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
        `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
        `<text x="20" y="28" font-size="17" font-weight="bold" fill="#222">webhook-pipeline: ours vs the seed-style design (npm run bench)</text>`,
        `<text x="20" y="46" fill="#666">Shorter is better. Same emulator, same traffic, same run; medians over repeats.</text>`,
    ];
    panels.forEach((p, i) => {
        const y = top + i * panelHeight;
        const max = Math.max(p.ours, p.baseline) || 1;
        const ratio = p.ours > 0 ? p.baseline / p.ours : Infinity;
        const ratioText = ratio >= 1 ? `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x less` : `${(1 / ratio).toFixed(2)}x more`;
        parts.push(`<text x="20" y="${y + 22}" font-weight="bold" fill="#222">${escapeXml(p.title)}</text>`);
        parts.push(`<text x="${width - 20}" y="${y + 22}" text-anchor="end" font-weight="bold" fill="${ratio >= 1 ? "#1a7f37" : "#b42318"}">${escapeXml(ratioText)}</text>`);
        const bars: [string, number, string][] = [
            ["Seed-style baseline", p.baseline, "#9aa4b2"],
            ["Ours", p.ours, "#2f6fde"],
        ];
        bars.forEach(([label, value, color], j) => {
            const by = y + 34 + j * 32;
            const w = Math.max(2, (value / max) * barMax);
            parts.push(`<text x="20" y="${by + 17}" fill="#333">${escapeXml(label)}</text>`);
            parts.push(`<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="24" rx="3" fill="${color}"/>`);
            parts.push(`<text x="${(left + w + 8).toFixed(1)}" y="${by + 17}" fill="#222">${escapeXml(format(value, p.unit))}</text>`);
        });
        parts.push(`<text x="20" y="${y + 112}" font-size="11" fill="#666">${escapeXml(p.note)}</text>`);
    });
    parts.push("</svg>");
    return parts.join("\n") + "\n";
}

/** Write the chart when at least one panel has both figures; returns the path written, or undefined. */
export function writeChart(figures: Readonly<Record<string, number>>, file: string): string | undefined {
    const panels = chartPanels(figures);
    if (!panels.length) return undefined;
    fs.writeFileSync(file, renderChart(panels));
    return file;
}
