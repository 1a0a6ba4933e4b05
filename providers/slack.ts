/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256("v0:<ts>:<body>")>` with
 * `X-Slack-Request-Timestamp` (5 minute tolerance). Answers the
 * `url_verification` challenge. Bodies are JSON (Events API) or form-encoded
 * (slash commands; interactivity sends `payload=<json>`).
 */
import { anyMatch, checkTimestamp, decodeDigest, facts, header, hmac, missing, noSecret, ok, parseForm, parseJson, pathValue, randomId, reject } from "./crypto";
import { PluginName, ProviderPlugin, RejectReason, WebhookRequest } from "./types";

const SIGNATURE = "x-slack-signature";
const TIMESTAMP = "x-slack-request-timestamp";

function parse(request: WebhookRequest): unknown {
    const json = parseJson(request.body);
    if (json !== undefined) return json;
    const form = parseForm(request.body);
    const payload = form.get("payload");
    return payload ? parseJson(Buffer.from(payload)) : Object.fromEntries(form);
}

export const slack: ProviderPlugin = {
    name: PluginName.Slack,
    headers: [SIGNATURE, TIMESTAMP],
    signsUrl: false,
    signsTimestamp: true,
    verify(request, secrets, options) {
        const value = header(request, SIGNATURE);
        if (!value) return missing(SIGNATURE);
        const ts = header(request, TIMESTAMP);
        if (!ts) return missing(TIMESTAMP);
        if (!secrets.length) return noSecret();
        const digest = value.startsWith("v0=") ? decodeDigest(value.slice(3), "hex") : undefined;
        if (!digest || !/^\d+$/.test(ts)) return reject(RejectReason.MalformedSignature, `header ${SIGNATURE} must be v0=<hex> and ${TIMESTAMP} a unix timestamp`);
        const stale = checkTimestamp(Number(ts), options.now, options.toleranceSeconds, TIMESTAMP);
        if (stale) return stale;
        return anyMatch(secrets, [digest], (secret) => hmac("sha256", secret, `v0:${ts}:`, request.body)) ? ok : reject(RejectReason.BadSignature, `header ${SIGNATURE} matches no configured secret`);
    },
    facts(request) {
        const body = parse(request);
        const type = pathValue(body, "event.type") ?? pathValue(body, "command") ?? pathValue(body, "type");
        return facts(request.body, pathValue(body, "event_id") ?? pathValue(body, "trigger_id"), type, pathValue(body, "team_id") ?? pathValue(body, "team.id"));
    },
    handshake(request) {
        const body = parseJson(request.body);
        if (pathValue(body, "type") !== "url_verification") return undefined;
        return { statusCode: 200, headers: { "content-type": "text/plain" }, body: pathValue(body, "challenge") ?? "" };
    },
    sign(body, secret, now) {
        const ts = String(Math.floor(now / 1000));
        return { "X-Slack-Signature": `v0=${hmac("sha256", secret, `v0:${ts}:`, body).toString("hex")}`, "X-Slack-Request-Timestamp": ts };
    },
    sample(now) {
        return Buffer.from(
            JSON.stringify({
                token: "XXYYZZ",
                team_id: "T123ABC456",
                api_app_id: "A123ABC456",
                type: "event_callback",
                event_id: randomId("Ev", now),
                event_time: Math.floor(now / 1000),
                event: { type: "app_mention", user: "U123ABC456", text: "<@U0LAN0Z89> is it everything a river should be?", ts: `${Math.floor(now / 1000)}.000200`, channel: "C123ABC456" },
            }),
        );
    },
};
