/**
 * `npm run send -- <provider> [payload.json] [--count N] [--port P] [--stack S] [--forge]`
 *
 * Signs a webhook the way the provider would (its plugin's `sign`) and sends
 * it to the local pipeline. Without a payload file the plugin's sample is used.
 * The secret is the one `npm start` verifies with: `WEBHOOK_SECRET_<NAME>` or
 * the generated development secret in .cache/local/secrets.json.
 * `--forge` signs with a wrong secret, to watch quarantine work.
 * Where to: the running `npm start` (its state file gives URL and stack), else
 * `--port` / PORT / 8787 with `--stack` (default dev).
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { exitOnHelp } from "../handlers/shared/help";
import { getPlugin } from "../providers";
import { loadLocalStack } from "../local/stack";
import { LocalState, readLocalState } from "../local/state";

const Usage = `Usage: npm run send -- <provider> [payload.json] [--count N] [--port P] [--stack S] [--forge]
  Signs a webhook as the provider would and posts it to the local pipeline (the running npm start,
  else --port / PORT / 8787 with --stack, default dev). Without a payload file the provider's sample is sent.
  --count N    send N of them (default 1)
  --forge      sign with a wrong secret (watch quarantine work)`;

function running(): LocalState | undefined {
    try {
        return readLocalState();
    } catch {
        return undefined;
    }
}

async function main() {
    exitOnHelp(process.argv.slice(2), Usage);
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: { stack: { type: "string" }, count: { type: "string", default: "1" }, port: { type: "string" }, forge: { type: "boolean", default: false } },
    });
    const [providerName, payloadFile] = positionals;
    // The running pipeline, unless told otherwise.
    const state = values.port === undefined && values.stack === undefined && !process.env.PORT ? running() : undefined;
    const local = loadLocalStack(state?.stackFile ?? values.stack ?? "dev");
    if (!providerName) {
        console.error(`${Usage}\nproviders: ${local.model.providers.map((p) => p.name).join(", ")}`);
        process.exit(2);
    }
    const provider = local.model.providers.find((p) => p.name === providerName);
    if (!provider) {
        console.error(`unknown provider "${providerName}" (configured: ${local.model.providers.map((p) => p.name).join(", ")})`);
        process.exit(2);
    }
    const plugin = getPlugin(provider.plugin, provider.hmac);
    const base = state?.url ?? `http://127.0.0.1:${Number(values.port ?? process.env.PORT ?? 8787)}`;
    const count = Number(values.count);
    const secret = values.forge ? "forged-secret" : local.secrets[providerName][0];
    const url = `${base}${provider.path}`;
    for (let i = 0; i < count; i++) {
        const now = Date.now();
        const body = payloadFile ? fs.readFileSync(payloadFile) : plugin.sample(now);
        const headers = plugin.sign(body, secret, now, url);
        const res = await fetch(url, { method: "POST", headers: { "content-type": body[0] === 0x7b ? "application/json" : "application/x-www-form-urlencoded", ...headers }, body });
        console.log(`${res.status} ${await res.text()}`);
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
