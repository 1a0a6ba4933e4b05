/**
 * Shared by the console's tests: the local pipeline on the test stack, its
 * console token (read from the banner, as a person reads it), and signed
 * webhooks sent to it.
 */
import { randomBytes } from "crypto";
import { loadStackModel } from "../../local/stack";
import { getPlugin } from "../../providers";
import { fixture, LocalProcess } from "../local/support";

export const stackFile = fixture("Pulumi.local-all.yaml");
export const { model } = loadStackModel(stackFile);
export const secrets: Record<string, string> = Object.fromEntries(
    model.providers.map((p) => [p.name, p.plugin === "standard-webhooks" ? `whsec_${randomBytes(24).toString("base64")}` : `test_${randomBytes(12).toString("hex")}`]),
);

/** The token in the banner's console line. */
export function consoleToken(local: LocalProcess): string {
    const m = /console: http:\/\/\S+\/#token=([0-9a-f]{64})/.exec(local.output().stdout);
    if (!m) throw new Error(`no console line in the banner:\n${local.output().stdout}`);
    return m[1];
}

/** Sign `body` (default: the plugin's sample) as the provider would, and POST it. */
export async function sendWebhook(url: string, providerName: string, body?: Buffer): Promise<number> {
    const provider = model.providers.find((p) => p.name === providerName)!;
    const plugin = getPlugin(provider.plugin, provider.hmac);
    const now = Date.now();
    const payload = body ?? plugin.sample(now);
    const target = `${url}${provider.path}`;
    const headers = plugin.sign(payload, secrets[providerName], now, target);
    const res = await fetch(target, { method: "POST", headers: { "content-type": payload[0] === 0x7b ? "application/json" : "application/x-www-form-urlencoded", ...headers }, body: payload });
    await res.text();
    return res.status;
}
