/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, HMAC-SHA256 of
 * `"<t>.<body>"`; any v1 may match (Stripe sends several while a secret rolls).
 */
import { anyMatch, checkTimestamp, decodeDigest, facts, header, hmac, missing, noSecret, ok, parseJson, pathValue, randomId, reject } from "./crypto";
import { PluginName, ProviderPlugin, RejectReason } from "./types";

const SIGNATURE = "stripe-signature";

export const stripe: ProviderPlugin = {
    name: PluginName.Stripe,
    headers: [SIGNATURE],
    signsUrl: false,
    signsTimestamp: true,
    verify(request, secrets, options) {
        const value = header(request, SIGNATURE);
        if (!value) return missing(SIGNATURE);
        if (!secrets.length) return noSecret();
        const pairs = value.split(",").map((part) => part.trim().split("=", 2) as [string, string?]);
        const t = pairs.find(([k]) => k === "t")?.[1];
        const v1 = pairs.filter(([k, v]) => k === "v1" && v).map(([, v]) => decodeDigest(v!, "hex"));
        if (!t || !/^\d+$/.test(t) || v1.length === 0 || v1.some((d) => !d)) return reject(RejectReason.MalformedSignature, `header ${SIGNATURE} must be t=<unix>,v1=<hex>`);
        const stale = checkTimestamp(Number(t), options.now, options.toleranceSeconds, `${SIGNATURE} t`);
        if (stale) return stale;
        const matched = anyMatch(secrets, v1 as Buffer[], (secret) => hmac("sha256", secret, `${t}.`, request.body));
        return matched ? ok : reject(RejectReason.BadSignature, `header ${SIGNATURE} matches no configured secret`);
    },
    facts(request) {
        const event = parseJson(request.body);
        const customer = pathValue(event, "data.object.customer");
        return facts(request.body, pathValue(event, "id"), pathValue(event, "type"), customer ?? pathValue(event, "data.object.id"));
    },
    sign(body, secret, now) {
        const t = Math.floor(now / 1000);
        return { "Stripe-Signature": `t=${t},v1=${hmac("sha256", secret, `${t}.`, body).toString("hex")}` };
    },
    sample(now) {
        return Buffer.from(
            JSON.stringify({
                id: randomId("evt_", now),
                object: "event",
                api_version: "2024-06-20",
                created: Math.floor(now / 1000),
                type: "payment_intent.succeeded",
                livemode: false,
                data: { object: { id: randomId("pi_", now), object: "payment_intent", amount: 2000, currency: "usd", customer: "cus_NffrFeUfNV2Hib", status: "succeeded" } },
            }),
        );
    },
};
