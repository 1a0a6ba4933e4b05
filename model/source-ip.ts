/**
 * Source-IP allowlists (a provider's `allowedSourceIps`): CIDR blocks, IPv4 and IPv6, matched with node's
 * built-in `net.BlockList` ("net.BlockList", Node.js docs: addSubnet/check for `ipv4` and `ipv6`; no
 * dependency, no I/O). An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, what a dual-stack socket reports for
 * an IPv4 peer) is judged by its IPv4 address, so `10.0.0.0/8` admits `::ffff:10.1.2.3`.
 * (BlockList matches the mapped forms both ways; unmapIpv4 makes it explicit.)
 *
 * The address judged is the one the connection came from (API Gateway's `$context.identity.sourceIp`, the
 * ingress function's `requestContext.http.sourceIp`, `npm start`'s socket): never `X-Forwarded-For`.
 */
import { BlockList, isIP } from "net";

export interface Cidr {
    readonly address: string;
    readonly prefix: number;
    readonly family: "ipv4" | "ipv6";
}

/** Parse `a.b.c.d/n` or `x:y::z/n` (a bare address is a /32 or /128); undefined when it is not a CIDR block. */
export function parseCidr(text: string): Cidr | undefined {
    const slash = text.indexOf("/");
    const address = slash < 0 ? text : text.slice(0, slash);
    const version = isIP(address);
    if (version === 0) return undefined;
    const max = version === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = Number(prefixText);
    if (prefix > max) return undefined;
    return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), else the address as it is. */
export function unmapIpv4(ip: string): string {
    const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
    return m && isIP(m[1]) === 4 ? m[1] : ip;
}

/** A matcher for a list of CIDR blocks (already validated; a block that does not parse admits nothing). */
export function compileAllowlist(cidrs: readonly string[]): (ip: string) => boolean {
    const list = new BlockList();
    for (const text of cidrs) {
        const cidr = parseCidr(text);
        if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    return (ip: string): boolean => {
        const address = unmapIpv4(ip);
        const version = isIP(address);
        if (version === 0) return false; // "unknown" or anything else that is not an address: refused
        return list.check(address, version === 4 ? "ipv4" : "ipv6");
    };
}
