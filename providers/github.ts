/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`; delivery id in
 * `X-GitHub-Delivery`, event in `X-GitHub-Event` (plus the body's `action`).
 */
import { randomUUID } from "crypto";
import { facts, header, hmac, parseJson, pathValue, verifyHeaderHmac } from "./crypto";
import { PluginName, ProviderPlugin } from "./types";

const SIGNATURE = "x-hub-signature-256";
const DELIVERY = "x-github-delivery";
const EVENT = "x-github-event";

export const github: ProviderPlugin = {
    name: PluginName.GitHub,
    headers: [SIGNATURE, DELIVERY, EVENT],
    signsUrl: false,
    signsTimestamp: false,
    verify(request, secrets) {
        return verifyHeaderHmac(request, secrets, { header: SIGNATURE, encoding: "hex", prefix: "sha256=" });
    },
    facts(request) {
        const body = parseJson(request.body);
        const event = header(request, EVENT);
        const action = pathValue(body, "action");
        return facts(request.body, header(request, DELIVERY), event && action ? `${event}.${action}` : event, pathValue(body, "repository.full_name"));
    },
    sign(body, secret) {
        const event = (parseJson(body) as { zen?: string } | undefined)?.zen ? "ping" : "push";
        return { "X-Hub-Signature-256": `sha256=${hmac("sha256", secret, body).toString("hex")}`, "X-GitHub-Delivery": randomUUID(), "X-GitHub-Event": event };
    },
    sample(now) {
        return Buffer.from(
            JSON.stringify({
                ref: "refs/heads/main",
                before: "0000000000000000000000000000000000000000",
                after: now.toString(16).padStart(40, "0"),
                repository: { id: 1296269, full_name: "octocat/Hello-World" },
                pusher: { name: "octocat" },
                commits: [{ id: now.toString(16), message: "Update README.md" }],
            }),
        );
    },
};
