/**
 * `npm run bench -- --only <section>` merges what it ran into the last full
 * results (bench/run.ts mergeResults): that section's figures, goals,
 * details and table rows are replaced, every other section stays.
 */
import { expect } from "chai";
import { BenchResults, mergeResults } from "../../bench/run";

const full: BenchResults = {
    figures: { router_calls_per_1000: 122, delivery_rate_ratio: 0.5, delivery_old_figure: 1 },
    goals: [
        { figure: "router_calls_per_1000", op: "<=", target: 130, value: 122, met: true },
        { figure: "delivery_rate_ratio", op: ">=", target: 0.9, value: 0.5, met: false },
    ],
    sections: {
        "router-efficiency": { title: "Router efficiency", seconds: 10, figures: ["router_calls_per_1000"] },
        delivery: { title: "Delivery", seconds: 100, figures: ["delivery_rate_ratio", "delivery_old_figure"], details: { old: true } },
    },
    table: ["| Metric | Ours |", "| --- | --- |", "| **Router efficiency** |  |", "| calls | 122 |", "| **Delivery** |  |", "| ratio | 0.5 |", "| old row | 1 |"].join("\n"),
    environment: { date: "2026-11-23T00:00:00.000Z", sections: ["router-efficiency", "delivery"], loadAverage1mBefore: 1 },
};

describe("bench --only: merging a section into the full results", () => {
    it("GIVEN full results WHEN the delivery section is run again THEN its figures, goals, details and rows are replaced and the router's are kept", () => {
        // Prepare
        const delivery: BenchResults = {
            figures: { delivery_rate_ratio: 0.95, delivery_max_arrivals_per_second: 20 },
            goals: [{ figure: "delivery_rate_ratio", op: ">=", target: 0.9, value: 0.95, met: true }],
            sections: { delivery: { title: "Delivery", seconds: 120, figures: ["delivery_rate_ratio", "delivery_max_arrivals_per_second"], details: { fresh: true }, date: "2026-12-01T12:00:00.000Z" } },
            table: ["| Metric | Ours |", "| --- | --- |", "| **Delivery** |  |", "| ratio | 0.95 |", "| arrivals | 20 |"].join("\n"),
            environment: { date: "2026-12-01T12:00:00.000Z", sections: ["delivery"], loadAverage1mBefore: 9 },
        };

        // Act
        const merged = mergeResults(full, delivery);

        // Assess: the figure the section no longer emits is gone with it
        expect(merged.figures).to.deep.equal({ router_calls_per_1000: 122, delivery_rate_ratio: 0.95, delivery_max_arrivals_per_second: 20 });
        expect(merged.goals).to.deep.equal([full.goals[0], delivery.goals[0]]);
        expect(merged.sections["router-efficiency"]).to.deep.equal(full.sections["router-efficiency"]);
        expect(merged.sections.delivery).to.deep.equal(delivery.sections.delivery);
        expect(merged.table.split("\n")).to.deep.equal(["| Metric | Ours |", "| --- | --- |", "| **Router efficiency** |  |", "| calls | 122 |", "| **Delivery** |  |", "| ratio | 0.95 |", "| arrivals | 20 |"]);
        expect(merged.environment).to.deep.equal({ date: "2026-11-23T00:00:00.000Z", sections: ["router-efficiency", "delivery"], loadAverage1mBefore: 1, merged: { delivery: delivery.environment } });
    });

    it("GIVEN full results without a section WHEN it is run alone THEN it is added after the others", () => {
        const { delivery: _, ...sections } = full.sections;
        const without: BenchResults = { ...full, figures: { router_calls_per_1000: 122 }, goals: [full.goals[0]], sections, table: full.table.split("\n").slice(0, 4).join("\n") };
        const merged = mergeResults(without, { ...full, figures: { delivery_rate_ratio: 0.9 }, goals: [], sections: { delivery: full.sections.delivery }, table: ["| Metric | Ours |", "| --- | --- |", "| **Delivery** |  |", "| ratio | 0.9 |"].join("\n") });
        expect(merged.figures).to.deep.equal({ router_calls_per_1000: 122, delivery_rate_ratio: 0.9 });
        expect(merged.table.split("\n").slice(2)).to.deep.equal(["| **Router efficiency** |  |", "| calls | 122 |", "| **Delivery** |  |", "| ratio | 0.9 |"]);
    });
});
