/**
 * Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body; id in
 * `X-Shopify-Webhook-Id`, topic in `X-Shopify-Topic`, shop in `X-Shopify-Shop-Domain`.
 */
import { randomUUID } from "crypto";
import { facts, header, hmac, verifyHeaderHmac } from "./crypto";
import { PluginName, ProviderPlugin } from "./types";

const SIGNATURE = "x-shopify-hmac-sha256";
const ID = "x-shopify-webhook-id";
const TOPIC = "x-shopify-topic";
const SHOP = "x-shopify-shop-domain";

export const shopify: ProviderPlugin = {
    name: PluginName.Shopify,
    headers: [SIGNATURE, ID, TOPIC, SHOP],
    signsUrl: false,
    signsTimestamp: false,
    verify(request, secrets) {
        return verifyHeaderHmac(request, secrets, { header: SIGNATURE, encoding: "base64" });
    },
    facts(request) {
        return facts(request.body, header(request, ID), header(request, TOPIC), header(request, SHOP));
    },
    sign(body, secret) {
        return {
            "X-Shopify-Hmac-Sha256": hmac("sha256", secret, body).toString("base64"),
            "X-Shopify-Webhook-Id": randomUUID(),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Shop-Domain": "example.myshopify.com",
        };
    },
    sample(now) {
        return Buffer.from(JSON.stringify({ id: now, email: "jon@example.com", total_price: "199.00", currency: "USD", line_items: [{ id: 1, title: "IPod Nano", quantity: 1 }] }));
    },
};
