/**
 * The archive: every request the router accepted (raw/) or rejected
 * (quarantine/), written in batches as gzip NDJSON, one object per provider
 * and hour per router invocation, under Hive-style partitions so Athena (or
 * `replay`) can select by provider and time:
 *
 *   raw/provider=stripe/dt=2026-11-23/hour=14/<received-ms>-<batch id>.ndjson.gz
 *
 * Each line holds what is needed to replay the request byte for byte: the
 * declared headers, the URL when the scheme signs it, and the exact body.
 */
import { gunzipSync, gzipSync } from "zlib";
import { utf8Text, type Envelope } from "../../model/envelope";

export const ArchiveRecordVersion = 1;

export interface ArchiveRecord {
    readonly v: typeof ArchiveRecordVersion;
    readonly provider: string;
    readonly requestId: string;
    readonly receivedAt: number;
    readonly sourceIp: string;
    readonly url?: string;
    readonly headers: Readonly<Record<string, string>>;
    /** Body as UTF-8 text when it is valid UTF-8, else `bodyBase64`. */
    readonly body?: string;
    readonly bodyBase64?: string;
    /** Accepted requests: what the router read and where it went. */
    readonly eventId?: string;
    readonly eventType?: string;
    /** The first lane the route named (the only one unless it fans out), or `drop`. */
    readonly target?: string;
    /** Every lane a fan-out route named, in order; absent when the route names one (read `targets ?? [target]`). */
    readonly targets?: readonly string[];
    /** Quarantined requests: why. */
    readonly reason?: string;
    readonly detail?: string;
}

/** `raw/provider=<p>/dt=YYYY-MM-DD/hour=HH/` for a time in ms. */
export function partitionPrefix(prefix: string, provider: string, at: number): string {
    const iso = new Date(Number.isFinite(at) && at > 0 ? at : Date.now()).toISOString();
    return `${prefix}/provider=${provider}/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

/**
 * The body's JSON member: `"body":<text as JSON>` when it is UTF-8 (`text`,
 * see utf8Text; `textJson` is JSON.stringify(text) when the caller has it),
 * else `"bodyBase64":"..."`.
 */
export function bodyMember(body: Buffer, text: string | undefined, textJson?: string): string {
    return text !== undefined ? `"body":${textJson ?? JSON.stringify(text)}` : `"bodyBase64":"${body.toString("base64")}"`;
}

/**
 * One archive line (an ArchiveRecord as JSON): the request's envelope
 * fields, `extra`, then the body member last. Serializing a 2 KB body is the
 * costly part, so the router passes in the member it also uses for the lane
 * message (bodyMember) rather than building the record as an object.
 */
export function archiveLine(envelope: Envelope, extra: Partial<Omit<ArchiveRecord, "body" | "bodyBase64">>, body: string): string {
    const head = JSON.stringify({
        v: ArchiveRecordVersion,
        provider: envelope.provider,
        requestId: envelope.requestId,
        receivedAt: envelope.receivedAt,
        sourceIp: envelope.sourceIp,
        url: envelope.url,
        headers: envelope.headers,
        ...extra,
    });
    return `${head.slice(0, -1)},${body}}`;
}

/** An archive line with the body member worked out here (callers off the router's hot path). */
export function archiveLineOf(envelope: Envelope, body: Buffer, extra: Partial<Omit<ArchiveRecord, "body" | "bodyBase64">>): string {
    return archiveLine(envelope, extra, bodyMember(body, utf8Text(body, body === envelope.body ? envelope.text : undefined)));
}

/**
 * The archive object: gzip NDJSON of archive lines. Level 1 costs a quarter
 * of level 6's CPU on webhook NDJSON for objects about 18% larger; memLevel 9
 * is ~10% faster than the default 8 at the same size. Compression is the
 * largest share of the router's CPU per webhook (bench:
 * router_gzip_us_per_webhook) and is kept: a third of the bytes stored, and
 * Athena reads gzip as it is.
 */
export function encodeArchive(lines: readonly string[]): Buffer {
    return gzipSync(lines.join("\n") + "\n", { level: 1, memLevel: 9 });
}

export function decodeArchive(data: Buffer): ArchiveRecord[] {
    const text = (data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data).toString("utf8");
    return text
        .split("\n")
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as ArchiveRecord);
}

/** The exact request bytes an archive record holds. */
export function archivedBody(record: ArchiveRecord): Buffer {
    return record.bodyBase64 !== undefined ? Buffer.from(record.bodyBase64, "base64") : Buffer.from(record.body ?? "", "utf8");
}

/** `<object key>#<line>`: where one request sits in the archive. */
export function archivePointer(key: string, line: number): string {
    return `${key}#${line}`;
}

export function parseArchivePointer(pointer: string): { key: string; line: number } {
    const at = pointer.lastIndexOf("#");
    if (at < 0) throw new Error(`archive pointer "${pointer}" has no #<line>`);
    return { key: pointer.slice(0, at), line: Number(pointer.slice(at + 1)) };
}
