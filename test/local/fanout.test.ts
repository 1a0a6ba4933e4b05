/**
 * Fan-out in `npm start`: the same router code sends a fanned-out event to
 * each of its lanes, each lane's worker runs once, the request is archived
 * once, and `/_status` counts per lane (a provider's re-send is a duplicate
 * on each lane, not across lanes).
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { loadStackModel } from "../../local/stack";
import type { EventRecord } from "../../local/stats";
import { getPlugin } from "../../providers";
import { fixture, LocalProcess, queuesDrained, startLocal, waitForStatus } from "./support";

const stackFile = fixture("Pulumi.local-fanout.yaml");
const { model } = loadStackModel(stackFile);

describe("local pipeline (npm start): fan-out routes", function () {
    this.timeout(60_000);
    let local: LocalProcess;
    const secret = `test_${randomBytes(12).toString("hex")}`;

    before(async () => {
        local = await startLocal({ stack: stackFile, secrets: { stripe: secret }, args: ["--visibility-timeout", "1"] });
    });

    after(async () => {
        await local?.remove();
    });

    async function send(body: object): Promise<number> {
        const provider = model.providers.find((p) => p.name === "stripe")!;
        const bytes = Buffer.from(JSON.stringify(body));
        const url = `${local.url}${provider.path}`;
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...getPlugin(provider.plugin).sign(bytes, secret, Date.now(), url) }, body: bytes });
        return res.status;
    }

    it("GIVEN invoice.* -> [billing, analytics] WHEN an invoice, a charge and a re-send of the invoice are posted THEN each lane processes the invoice once, the re-send is a duplicate on each lane, the request count is per request and the lane counts per lane", async () => {
        // Act
        const statuses = [await send({ id: "evt_local_fan", type: "invoice.paid" }), await send({ id: "evt_local_charge", type: "charge.succeeded" })];
        await waitForStatus(local.url, (s) => s.providers.stripe.processed === 3 && queuesDrained(s));
        statuses.push(await send({ id: "evt_local_fan", type: "invoice.paid" }));

        // Assess
        const status = await waitForStatus(local.url, (s) => s.providers.stripe.duplicates === 2 && queuesDrained(s));
        expect(statuses).to.deep.equal([200, 200, 200]);
        const { received, archived, routed, processed, duplicates, failed, dlq } = status.providers.stripe;
        expect({ received, archived, routed, processed, duplicates, failed, dlq }).to.deep.equal({ received: 3, archived: 3, routed: 5, processed: 3, duplicates: 2, failed: 0, dlq: 0 });
        const lanes = status.providers.stripe.lanes;
        expect({ billing: lanes["stripe-billing"].counts, analytics: lanes["stripe-analytics"].counts, default: lanes["stripe-default"].counts }).to.deep.equal({
            billing: { routed: 2, processed: 1, duplicates: 1, failed: 0, deadLettered: 0 },
            analytics: { routed: 2, processed: 1, duplicates: 1, failed: 0, deadLettered: 0 },
            default: { routed: 1, processed: 1, duplicates: 0, failed: 0, deadLettered: 0 },
        });
        const events = (await (await fetch(`${local.url}/_events?provider=stripe`)).json()) as EventRecord[];
        expect(events.filter((e) => e.eventId === "evt_local_fan").map((e) => `${e.lane}:${e.outcome}`).sort()).to.deep.equal([
            "stripe-analytics:duplicate",
            "stripe-analytics:processed",
            "stripe-billing:duplicate",
            "stripe-billing:processed",
        ]);
    });
});
