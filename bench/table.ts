/** The printed results table (plain text for the terminal, Markdown for the README). */
import type { TableRow } from "./types";

export interface TableSection {
    readonly title: string;
    readonly rows: readonly TableRow[];
    readonly error?: string;
}

const columns = ["Metric", "Ours", "Seed-style baseline", "Ratio", "Goal", ""] as const;

function cells(row: TableRow): string[] {
    return [row.metric, row.ours, row.baseline ?? "", row.ratio ?? "", row.goal ?? "", row.met === undefined ? "" : row.met ? "met" : "MISSED"];
}

/** Fixed-width text table, one block per section. */
export function textTable(sections: readonly TableSection[]): string {
    const all = sections.flatMap((s) => s.rows.map(cells));
    const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...all.map((r) => r[i].length))));
    const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
    const out: string[] = [line(columns), widths.map((w) => "-".repeat(w)).join("  ")];
    for (const s of sections) {
        out.push(`[${s.title}]`);
        if (s.error) out.push(`  FAILED: ${s.error}`);
        for (const row of s.rows) out.push(line(cells(row)));
    }
    return out.join("\n");
}

/** The same table in Markdown. */
export function markdownTable(sections: readonly TableSection[]): string {
    const escape = (v: string) => v.replace(/\|/g, "\\|");
    const out = [`| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`];
    for (const s of sections) {
        out.push(`| **${escape(s.title)}** |  |  |  |  |  |`);
        if (s.error) out.push(`| FAILED: ${escape(s.error)} |  |  |  |  |  |`);
        for (const row of s.rows) out.push(`| ${cells(row).map(escape).join(" | ")} |`);
    }
    return out.join("\n");
}
