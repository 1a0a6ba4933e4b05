/**
 * The generic scheme, declared in stack config with no code (`plugin: hmac`):
 * a signature header, algorithm, encoding, optional prefix, and optionally a
 * timestamp header (then `"<timestamp>.<body>"` is signed and stale requests
 * are refused). Event id and type come from headers or JSON dot paths.
 */
import { anyMatch, checkTimestamp, decodeDigest, facts, header, hmac, missing, noSecret, ok, parseJson, pathValue, randomId, reject } from "./crypto";
import { HmacSchemeOptions, PluginName, ProviderPlugin, RejectReason, WebhookRequest } from "./types";

export function createHmacPlugin(options: HmacSchemeOptions): ProviderPlugin {
    const { algorithm, encoding } = options.signature;
    const signatureHeader = options.signature.header.toLowerCase();
    const timestampHeader = options.signature.timestampHeader?.toLowerCase();
    const prefix = options.signature.prefix ?? "";
    const signed = (request: { body: Buffer }, ts: string | undefined): (string | Buffer)[] => (ts === undefined ? [request.body] : [`${ts}.`, request.body]);
    const headers = [signatureHeader, timestampHeader, options.eventIdHeader?.toLowerCase(), options.eventTypeHeader?.toLowerCase()].filter((h): h is string => !!h);

    const read = (request: WebhookRequest, fromHeader: string | undefined, path: string | undefined, body: () => unknown) =>
        fromHeader ? header(request, fromHeader) : path ? pathValue(body(), path) : undefined;

    return {
        name: PluginName.Hmac,
        headers: [...new Set(headers)],
        signsUrl: false,
        signsTimestamp: timestampHeader !== undefined,
        verify(request, secrets, verifyOptions) {
            const value = header(request, signatureHeader);
            if (!value) return missing(signatureHeader);
            const ts = timestampHeader ? header(request, timestampHeader) : undefined;
            if (timestampHeader && !ts) return missing(timestampHeader);
            if (!secrets.length) return noSecret();
            const digest = value.startsWith(prefix) ? decodeDigest(value.slice(prefix.length), encoding) : undefined;
            if (!digest) return reject(RejectReason.MalformedSignature, `header ${signatureHeader} must be ${prefix}<${encoding} ${algorithm}>`);
            if (ts !== undefined) {
                if (!/^\d+$/.test(ts)) return reject(RejectReason.MalformedSignature, `header ${timestampHeader} must be a unix timestamp`);
                const stale = checkTimestamp(Number(ts), verifyOptions.now, verifyOptions.toleranceSeconds, timestampHeader);
                if (stale) return stale;
            }
            return anyMatch(secrets, [digest], (secret) => hmac(algorithm, secret, ...signed(request, ts))) ? ok : reject(RejectReason.BadSignature, `header ${signatureHeader} matches no configured secret`);
        },
        facts(request) {
            let parsed: unknown;
            const body = () => (parsed ??= parseJson(request.body) ?? null);
            return facts(
                request.body,
                read(request, options.eventIdHeader, options.eventIdPath, body),
                read(request, options.eventTypeHeader, options.eventTypePath, body),
                options.orderingKeyPath ? pathValue(body(), options.orderingKeyPath) : undefined,
            );
        },
        sign(body, secret, now) {
            const ts = timestampHeader ? String(Math.floor(now / 1000)) : undefined;
            const out: Record<string, string> = { [options.signature.header]: prefix + hmac(algorithm, secret, ...signed({ body }, ts)).toString(encoding) };
            if (options.signature.timestampHeader && ts) out[options.signature.timestampHeader] = ts;
            if (options.eventIdHeader) out[options.eventIdHeader] = randomId("evt_", now);
            if (options.eventTypeHeader) out[options.eventTypeHeader] = "order.created";
            return out;
        },
        sample(now) {
            return Buffer.from(JSON.stringify({ id: randomId("evt_", now), type: "order.created", created: Math.floor(now / 1000), account: { id: "acct_42" }, data: { id: randomId("ord_", now), total: 1999 } }));
        },
    };
}
