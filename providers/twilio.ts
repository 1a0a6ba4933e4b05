/**
 * Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 of the full URL followed by
 * the POST parameters sorted by name, each as name then value.
 */
import { facts, header, hmac, parseForm, randomId, verifyHeaderHmac } from "./crypto";
import { PluginName, ProviderPlugin } from "./types";

const SIGNATURE = "x-twilio-signature";

/** The string Twilio signs: URL + sorted name/value pairs of the form body. */
export function twilioSignedString(url: string, body: Buffer): string {
    const params = [...parseForm(body)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return url + params.map(([k, v]) => k + v).join("");
}

export const twilio: ProviderPlugin = {
    name: PluginName.Twilio,
    headers: [SIGNATURE],
    signsUrl: true,
    signsTimestamp: false,
    verify(request, secrets) {
        // Only computed once the header is known to be there: the signed string is the URL and the sorted form fields.
        const signed = header(request, SIGNATURE) ? twilioSignedString(request.url, request.body) : "";
        return verifyHeaderHmac(request, secrets, { header: SIGNATURE, encoding: "base64", algorithm: "sha1", signed, what: `for ${request.url}` });
    },
    facts(request) {
        const form = parseForm(request.body);
        const id = form.get("MessageSid") ?? form.get("CallSid") ?? undefined;
        const type = form.get("MessageStatus") ?? form.get("SmsStatus") ?? form.get("CallStatus") ?? (form.get("MessageSid") ? "message" : form.get("CallSid") ? "call" : undefined);
        // One delivery per status change: the id alone would collapse "sent" and "delivered".
        return facts(request.body, id && type ? `${id}:${type}` : id, type ?? undefined, id);
    },
    sign(body, secret, _now, url) {
        return { "X-Twilio-Signature": hmac("sha1", secret, twilioSignedString(url, body)).toString("base64") };
    },
    sample(now) {
        const params = new URLSearchParams({ MessageSid: randomId("SM", now), MessageStatus: "delivered", AccountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", From: "+15017122661", To: "+15558675310" });
        return Buffer.from(params.toString());
    },
};
