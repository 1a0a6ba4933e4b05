/**
 * The direct API Gateway integration as a sender can drive it: the route's
 * MessageAttributes template (apiGatewayMessageAttributes) filled in by plain
 * substitution, exactly as HTTP API parameter mapping does (no escaping), then
 * parsed the way SQS might parse JSON that names an attribute twice. Which one
 * SQS keeps is not documented, so both are modelled: `last` (JSON.parse, and
 * most parsers) and `first`; a parse error means SQS refuses the SendMessage
 * and nothing is enqueued.
 */
import { apiGatewayMessageAttributes, EdgeRequest, EnvelopeMessage, SdkAttribute, substituteEdgeTemplate } from "../../model/envelope";

export type DuplicateRule = "first" | "last";

/** A JSON parser that keeps the first or the last of duplicated object keys (JSON.parse keeps the last). */
export function parseJson(text: string, duplicates: DuplicateRule): unknown {
    if (duplicates === "last") return JSON.parse(text);
    let i = 0;
    const ws = () => {
        while (/\s/.test(text[i] ?? "")) i++;
    };
    const fail = (what: string): never => {
        throw new SyntaxError(`${what} at ${i}`);
    };
    const value = (): unknown => {
        ws();
        const c = text[i];
        if (c === "{") {
            i++;
            const out: Record<string, unknown> = {};
            ws();
            if (text[i] === "}") return i++, out;
            for (;;) {
                ws();
                if (text[i] !== '"') fail("expected a key");
                const key = string();
                ws();
                if (text[i++] !== ":") fail("expected :");
                const v = value();
                if (!Object.prototype.hasOwnProperty.call(out, key)) out[key] = v;
                ws();
                if (text[i] === ",") i++;
                else if (text[i] === "}") return i++, out;
                else fail("expected , or }");
            }
        }
        if (c === "[") {
            i++;
            const out: unknown[] = [];
            ws();
            if (text[i] === "]") return i++, out;
            for (;;) {
                out.push(value());
                ws();
                if (text[i] === ",") i++;
                else if (text[i] === "]") return i++, out;
                else fail("expected , or ]");
            }
        }
        if (c === '"') return string();
        const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
        if (!m) fail("unexpected character");
        i += m![0].length;
        return JSON.parse(m![0]);
    };
    const string = (): string => {
        const start = i;
        i++;
        while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
        if (text[i] !== '"') fail("unterminated string");
        i++;
        return JSON.parse(text.slice(start, i)) as string;
    };
    const out = value();
    ws();
    if (i !== text.length) fail("trailing text");
    return out;
}

export interface DirectRoute {
    readonly name: string;
    readonly headers: readonly string[];
    readonly signsUrl: boolean;
    /** The provider has allowedSourceIps (the template then writes wp-source-ip-end). */
    readonly checksSourceIp?: boolean;
}

/**
 * The catch-all message a direct route enqueues for a request, or `refused` when the filled-in
 * template is not JSON SQS can read (SQS rejects the SendMessage; the sender sees an error status).
 */
export function directIntegration(route: DirectRoute, request: EdgeRequest, body: string, duplicates: DuplicateRule): EnvelopeMessage | "refused" {
    const text = substituteEdgeTemplate(apiGatewayMessageAttributes(route.name, route.headers, route.signsUrl, "https", route.checksSourceIp ?? false), request);
    try {
        return { MessageBody: body, MessageAttributes: parseJson(text, duplicates) as Record<string, SdkAttribute> };
    } catch {
        return "refused";
    }
}

/** A header value that closes its attribute and adds `extra` (name -> value) as attributes of its own. */
export function injecting(prefix: string, extra: Readonly<Record<string, string>>): string {
    const added = Object.entries(extra)
        .map(([name, value]) => `"${name}":{"DataType":"String","StringValue":"${value}"}`)
        .join(",");
    // The template wraps the value as "=<value>"}: close the string and the object, add ours, and reopen one that the template's tail closes.
    return `${prefix}"},${added},"h.x-pad":{"DataType":"String","StringValue":"=`;
}
