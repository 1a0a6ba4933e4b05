/**
 * Source-IP allowlists in `npm start`: the address judged is the socket's (127.0.0.1 here), never a
 * header. A request from loopback to a provider allowing only 10.0.0.0/8 is acknowledged, quarantined as
 * source-ip, counted in /_status's rejectReasons and never processed; with 127.0.0.0/8 it is processed.
 * Both ingress paths: the direct template's stand-in and the ingress function's (sealed).
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { loadStackModel } from "../../local/stack";
import { getPlugin } from "../../providers";
import { fixture, LocalProcess, queuesDrained, startLocal, waitForStatus } from "./support";

const stackFile = fixture("Pulumi.local-allowlist.yaml");
const { model } = loadStackModel(stackFile);
const secrets: Record<string, string> = Object.fromEntries(model.providers.map((p) => [p.name, `test_${randomBytes(12).toString("hex")}`]));

describe("local pipeline: source-IP allowlists (npm start)", function () {
    this.timeout(60_000);
    let local: LocalProcess;

    before(async () => {
        local = await startLocal({ stack: stackFile, secrets });
    });
    after(async () => {
        await local?.remove();
    });

    async function send(providerName: string, extra: Record<string, string> = {}) {
        const provider = model.providers.find((p) => p.name === providerName)!;
        const plugin = getPlugin(provider.plugin);
        const now = Date.now();
        const body = plugin.sample(now);
        const target = `${local.url}${provider.path}`;
        const res = await fetch(target, { method: "POST", headers: { "content-type": "application/json", ...plugin.sign(body, secrets[providerName], now, target), ...extra }, body });
        return res.status;
    }

    it("GIVEN allowedSourceIps [10.0.0.0/8] WHEN a signed request comes from 127.0.0.1, even naming 10.1.2.3 in X-Forwarded-For THEN it is acknowledged, quarantined as source-ip, counted, never processed (direct and ingress-function paths)", async () => {
        expect(await send("closed")).to.equal(200);
        expect(await send("closed", { "x-forwarded-for": "10.1.2.3", "x-real-ip": "10.1.2.3" })).to.equal(200);
        expect(await send("sealed", { "x-forwarded-for": "10.1.2.3" })).to.equal(200);
        const status = await waitForStatus(local.url, (s) => s.providers.closed.rejected === 2 && s.providers.sealed.rejected === 1 && queuesDrained(s));
        expect({ closed: status.providers.closed.rejectReasons, sealed: status.providers.sealed.rejectReasons }).to.deep.equal({ closed: { "source-ip": 2 }, sealed: { "source-ip": 1 } });
        expect([status.providers.closed.processed, status.providers.sealed.processed]).to.deep.equal([0, 0]);
    });

    it("GIVEN allowedSourceIps [127.0.0.0/8, ::1/128] WHEN a signed request comes from loopback THEN it is processed", async () => {
        expect(await send("loopback")).to.equal(200);
        const status = await waitForStatus(local.url, (s) => s.providers.loopback.processed === 1 && queuesDrained(s));
        expect({ rejected: status.providers.loopback.rejected, processed: status.providers.loopback.processed }).to.deep.equal({ rejected: 0, processed: 1 });
    });
});
