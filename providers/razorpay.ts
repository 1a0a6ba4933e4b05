/**
 * Razorpay: `X-Razorpay-Signature`, hex HMAC-SHA256 of the body; event id in
 * `X-Razorpay-Event-Id`.
 */
import { randomUUID } from "crypto";
import { facts, header, hmac, parseJson, pathValue, randomId, verifyHeaderHmac } from "./crypto";
import { PluginName, ProviderPlugin } from "./types";

const SIGNATURE = "x-razorpay-signature";
const ID = "x-razorpay-event-id";

export const razorpay: ProviderPlugin = {
    name: PluginName.Razorpay,
    headers: [SIGNATURE, ID],
    signsUrl: false,
    signsTimestamp: false,
    verify(request, secrets) {
        return verifyHeaderHmac(request, secrets, { header: SIGNATURE, encoding: "hex" });
    },
    facts(request) {
        const body = parseJson(request.body);
        return facts(request.body, header(request, ID), pathValue(body, "event"), pathValue(body, "payload.payment.entity.id") ?? pathValue(body, "account_id"));
    },
    sign(body, secret) {
        return { "X-Razorpay-Signature": hmac("sha256", secret, body).toString("hex"), "X-Razorpay-Event-Id": randomUUID() };
    },
    sample(now) {
        return Buffer.from(
            JSON.stringify({
                entity: "event",
                account_id: "acc_BFQ7uQEaa7j2z7",
                event: "payment.captured",
                contains: ["payment"],
                payload: { payment: { entity: { id: randomId("pay_", now), amount: 50000, currency: "INR", status: "captured" } } },
                created_at: Math.floor(now / 1000),
            }),
        );
    },
};
