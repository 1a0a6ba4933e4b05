/**
 * Fuzzing config validation (model/config.ts validateConfig): seeded random
 * mutations of a valid configuration that uses every feature. Each mutation
 * knows whether it keeps the config valid. The contract checked for each case:
 *
 *   - validateConfig never throws;
 *   - an invalid config gives ok=false and at least one problem, every problem
 *     of the form `<path>: <message>`, the path naming a place that exists in
 *     the input (or a missing key whose parent exists; `(config)` is the root);
 *   - a valid config gives ok=true (nothing valid is refused).
 *
 * Invalid cases apply one to three invalid mutations at once, so the "collect
 * every problem" path is exercised too.
 */
import { validateConfig } from "../model/config";
import { seededRandom } from "../local/failure-switch";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: unknown };

export interface FuzzFailure {
    readonly mutations: readonly string[];
    readonly expected: "valid" | "invalid";
    readonly problem: string;
    /** The config, shortened for the report. */
    readonly config: string;
}

export interface FuzzResult {
    readonly cases: number;
    readonly invalidCases: number;
    readonly validCases: number;
    /** Cases that broke the contract; `failures` holds the first few. */
    readonly failed: number;
    readonly failures: readonly FuzzFailure[];
    /** Problems checked (invalid cases). */
    readonly problems: number;
    /** Mutation kinds and how often each was drawn. */
    readonly kinds: Readonly<Record<string, number>>;
}

/** The known handler modules passed to validation, as the stack loader does. */
const handlers = ["log"];

/** A valid config with every feature: hmac, FIFO, named lanes, routes, drop, kafka, secrets lists. */
export function baseConfig(): Obj {
    return {
        providers: [
            {
                name: "stripe",
                plugin: "stripe",
                secret: "sk_test",
                concurrency: 5,
                ordering: true,
                batchSize: 10,
                routes: { "invoice.*": "billing", "radar.*": "drop" },
                lanes: { billing: { concurrency: 2, timeoutSeconds: 60, handler: "log" } },
            },
            { name: "github", plugin: "github", secret: ["a", "b"], maxReceiveCount: 4, routes: { ping: "drop" } },
            {
                name: "acme",
                plugin: "hmac",
                secret: "x",
                signature: { header: "X-Acme-Signature", algorithm: "sha256", encoding: "hex", prefix: "sha256=", timestampHeader: "X-Acme-Timestamp" },
                eventIdPath: "id",
                eventTypePath: "type",
                orderingKeyPath: "account.id",
                toleranceSeconds: 300,
            },
            { name: "shop", plugin: "shopify", lane: "kafka", concurrency: 3, timeoutSeconds: 30, handler: "log" },
        ],
        router: { batchSize: 100, batchWindowSeconds: 1, concurrency: 10, timeoutSeconds: 60, memorySize: 512 },
        api: { throttleRateLimit: 1000, throttleBurstLimit: 2000 },
        archive: { transitionDays: 30, expirationDays: 0, idempotencyDays: 7 },
        kafka: { mode: "external", brokers: ["b1:9092"], sasl: { mechanism: "scram-sha-512", username: "u", password: "p" }, tls: true },
        alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:alarms",
    };
}

/** Numeric settings and their ranges, by where they may appear. */
const laneNumbers: Record<string, [number, number]> = { concurrency: [2, 1000], batchSize: [1, 10000], maxReceiveCount: [1, 1000], timeoutSeconds: [1, 900] };
const sectionNumbers: Record<string, Record<string, [number, number]>> = {
    router: { batchSize: [1, 10000], batchWindowSeconds: [0, 300], concurrency: [2, 1000], timeoutSeconds: [1, 900], memorySize: [128, 10240] },
    api: { throttleRateLimit: [1, 100000], throttleBurstLimit: [1, 100000] },
    archive: { transitionDays: [1, 3650], expirationDays: [0, 36500], idempotencyDays: [1, 365] },
};

type Path = (string | number)[];
type Mutation = { kind: string; apply(config: Obj, rnd: Rand): string | undefined };

class Rand {
    constructor(private readonly next: () => number) {}
    float(): number {
        return this.next();
    }
    int(min: number, max: number): number {
        return min + Math.floor(this.next() * (max - min + 1));
    }
    pick<T>(items: readonly T[]): T {
        return items[Math.floor(this.next() * items.length)];
    }
    chance(p: number): boolean {
        return this.next() < p;
    }
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const providers = (c: Obj) => (Array.isArray(c.providers) ? (c.providers as Obj[]).filter(isObj) : []);
const show = (p: Path) => p.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("").replace(/^\./, "");

/** Every scalar leaf (and array element) of a JSON value, with its path. */
function leaves(value: unknown, path: Path = [], out: { path: Path; value: unknown }[] = []): { path: Path; value: unknown }[] {
    if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...path, i], out));
    else if (isObj(value)) for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
    else out.push({ path, value });
    return out;
}

/** Every object (not array) in a JSON value that has a fixed set of keys (records like routes and lanes excluded). */
function strictObjects(value: unknown, path: Path = [], out: { path: Path; value: Obj }[] = []): { path: Path; value: Obj }[] {
    if (Array.isArray(value)) value.forEach((v, i) => strictObjects(v, [...path, i], out));
    else if (isObj(value)) {
        const last = path[path.length - 1];
        if (last !== "routes" && last !== "lanes") out.push({ path, value });
        for (const [k, v] of Object.entries(value)) strictObjects(v, [...path, k], out);
    }
    return out;
}

function setAt(root: Obj, path: Path, value: unknown): void {
    let at: unknown = root;
    for (const k of path.slice(0, -1)) at = (at as Record<string | number, unknown>)[k];
    (at as Record<string | number, unknown>)[path[path.length - 1]] = value;
}

function deleteAt(root: Obj, path: Path): void {
    let at: unknown = root;
    for (const k of path.slice(0, -1)) at = (at as Record<string | number, unknown>)[k];
    if (Array.isArray(at)) at.splice(Number(path[path.length - 1]), 1);
    else delete (at as Obj)[String(path[path.length - 1])];
}

/** A value of another type than `value`, never one the field could accept (a string field is never given a list: secret takes both). */
function wrongType(value: unknown, rnd: Rand): Json {
    const byType: Record<string, Json[]> = {
        string: [42, -1.5, true, false, null, {}, { a: 1 }],
        number: ["5", "", true, null, [], {}, [1]],
        boolean: ["true", 1, 0, null, [], {}],
    };
    return rnd.pick(byType[typeof value] ?? [42, "x"]);
}

const badNames: Json[] = ["Stripe", "my provider", "-x", "x-", "a".repeat(25), "", "under_score", "ünïcode", "dot.name", "ingress", 42, null];
const badLaneNames = ["Bad Name", "a.b", "x".repeat(17), "-lead", "trail-", "UPPER", "default", "drop", "sp ace", 'quo"te', "colon: x"];
const badPatterns = ["", "a: b", 'quo"te'];

/** Mutations that make the config invalid. Each returns a description, or undefined when it does not apply. */
const invalidMutations: Mutation[] = [
    {
        kind: "wrong-type",
        apply(c, rnd) {
            const candidates = leaves(c).filter((l) => l.path[0] !== "alarmTopicArn" || true);
            const leaf = rnd.pick(candidates);
            const value = wrongType(leaf.value, rnd);
            setAt(c, leaf.path, value);
            return `${show(leaf.path)} = ${JSON.stringify(value)}`;
        },
    },
    {
        kind: "out-of-range",
        apply(c, rnd) {
            const spots: { path: Path; range: [number, number] }[] = [];
            providers(c).forEach((p, i) => {
                for (const [k, r] of Object.entries(laneNumbers)) spots.push({ path: ["providers", i, k], range: r });
                spots.push({ path: ["providers", i, "toleranceSeconds"], range: [1, 3600] });
                if (isObj(p.lanes)) for (const name of Object.keys(p.lanes)) for (const [k, r] of Object.entries(laneNumbers)) spots.push({ path: ["providers", i, "lanes", name, k], range: r });
            });
            for (const [section, fields] of Object.entries(sectionNumbers)) if (isObj(c[section])) for (const [k, r] of Object.entries(fields)) spots.push({ path: [section, k], range: r });
            const spot = rnd.pick(spots);
            const [min, max] = spot.range;
            const value = rnd.pick([min - 1, max + 1, min - 1000, max * 1000, min + 0.5, -0.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21]);
            setAt(c, spot.path, value);
            return `${show(spot.path)} = ${value}`;
        },
    },
    {
        kind: "unknown-key",
        apply(c, rnd) {
            const target = rnd.pick(strictObjects(c));
            const key = rnd.pick(["concurency", "colour", "Name", "batch_size", "__proto__x", "secert", "timeout", "x".repeat(50)]);
            if (key in target.value) return undefined;
            target.value[key] = rnd.pick<Json>([1, "x", true, null, {}]);
            return `${show(target.path) || "(root)"}.${key} added`;
        },
    },
    {
        kind: "bad-provider-name",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const name = rnd.pick(badNames);
            ps[i].name = name;
            return `providers[${i}].name = ${JSON.stringify(name)}`;
        },
    },
    {
        kind: "duplicate-name",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length < 2) return undefined;
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const j = (i + rnd.int(1, ps.length - 1)) % ps.length;
            ps[j].name = ps[i].name;
            return `providers[${j}].name = providers[${i}].name`;
        },
    },
    {
        kind: "bad-route",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const routes = isObj(ps[i].routes) ? (ps[i].routes as Obj) : (ps[i].routes = {});
            if (rnd.chance(0.6)) {
                const pattern = rnd.pick(["order.*", "x", "a.b.c", "weird: pattern"]);
                routes[pattern] = rnd.pick(["nowhere", "Billing", "billing2", ""]);
                return `providers[${i}].routes[${JSON.stringify(pattern)}] = ${JSON.stringify(routes[pattern])}`;
            }
            const pattern = rnd.pick(badPatterns);
            routes[pattern] = rnd.pick(["nowhere", 5]);
            return pattern === "" ? `providers[${i}].routes[""] added` : `providers[${i}].routes[${JSON.stringify(pattern)}] = ${JSON.stringify(routes[pattern])}`;
        },
    },
    {
        kind: "hmac-without-signature",
        apply(c) {
            const acme = providers(c).find((p) => p.plugin === "hmac");
            if (!acme || !("signature" in acme)) return undefined;
            delete acme.signature;
            return "hmac provider without signature";
        },
    },
    {
        kind: "hmac-key-on-builtin",
        apply(c, rnd) {
            const p = providers(c).find((x) => x.plugin !== "hmac");
            if (!p) return undefined;
            const key = rnd.pick(["signature", "eventIdPath", "eventTypePath", "eventIdHeader", "eventTypeHeader", "orderingKeyPath"]);
            if (key in p) return undefined;
            p[key] = key === "signature" ? { header: "X-Sig", algorithm: "sha256", encoding: "hex" } : key.endsWith("Header") ? "X-Id" : "data.id";
            return `${String(p.name)}.${key} on plugin ${String(p.plugin)}`;
        },
    },
    {
        kind: "bad-header-name",
        apply(c, rnd) {
            const acme = providers(c).find((p) => p.plugin === "hmac" && isObj(p.signature));
            if (!acme) return undefined;
            const field = rnd.pick(["header", "timestampHeader"]);
            const value = rnd.pick(["X Acme", "", "Colon:Header", "ü", "a\nb"]);
            (acme.signature as Obj)[field] = value;
            return `signature.${field} = ${JSON.stringify(value)}`;
        },
    },
    {
        kind: "fifo-batch",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            if (ps[i].lane === "kafka") return undefined;
            ps[i].ordering = true;
            ps[i].batchSize = rnd.int(11, 10000);
            if (isObj(ps[i].lanes)) for (const lane of Object.values(ps[i].lanes as Obj)) if (isObj(lane)) delete lane.batchSize;
            return `providers[${i}] ordered with batchSize ${String(ps[i].batchSize)}`;
        },
    },
    {
        kind: "kafka-cross-field",
        apply(c, rnd) {
            const k = isObj(c.kafka) ? c.kafka : (c.kafka = {});
            switch (rnd.int(0, 4)) {
                case 0:
                    k.mode = "external";
                    delete k.brokers;
                    return "kafka external without brokers";
                case 1:
                    k.mode = "msk-serverless";
                    k.brokers = ["b:1"];
                    return "kafka msk-serverless with brokers";
                case 2:
                    k.vpcId = "vpc-1";
                    delete k.subnetIds;
                    return "kafka vpcId without subnetIds";
                case 3:
                    k.sasl = { mechanism: "scram-sha-256" };
                    return "kafka scram without username and password";
                default:
                    k.subnetIds = ["only-one"];
                    return "kafka with one subnet";
            }
        },
    },
    {
        kind: "missing-required",
        apply(c, rnd) {
            const spots: Path[] = [["providers"]];
            providers(c).forEach((p, i) => {
                spots.push(["providers", i, "name"], ["providers", i, "plugin"]);
                if (isObj(p.signature)) spots.push(["providers", i, "signature", "header"], ["providers", i, "signature", "algorithm"], ["providers", i, "signature", "encoding"]);
            });
            if (isObj(c.kafka) && isObj(c.kafka.sasl)) spots.push(["kafka", "sasl", "mechanism"]);
            const spot = rnd.pick(spots);
            deleteAt(c, spot);
            return `${show(spot)} removed`;
        },
    },
    {
        kind: "empty-list",
        apply(c, rnd) {
            const which = rnd.int(0, 3);
            if (which === 0) c.providers = [];
            else if (which < 3 && providers(c).length === 0) return undefined;
            else if (which === 1) providers(c)[0].secret = [];
            else if (which === 2) providers(c)[0].secret = ["a", "b", "c", "d", "e", "f"];
            else if (isObj(c.kafka)) c.kafka.brokers = [];
            else return undefined;
            return ["providers = []", "secret = []", "six secrets", "kafka.brokers = []"][which];
        },
    },
    {
        kind: "empty-secret",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            ps[i].secret = rnd.chance(0.5) ? "" : ["ok", ""];
            return `providers[${i}].secret has an empty value`;
        },
    },
    {
        kind: "bad-lane-name",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const lanes = isObj(ps[i].lanes) ? (ps[i].lanes as Obj) : (ps[i].lanes = {});
            const name = rnd.pick(badLaneNames);
            lanes[name] = { concurrency: 2 };
            return `providers[${i}].lanes[${JSON.stringify(name)}] added`;
        },
    },
    {
        kind: "unknown-handler",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            ps[i].handler = rnd.pick(["nope", "billing-db", "x1"]);
            return `providers[${i}].handler = ${JSON.stringify(ps[i].handler)}`;
        },
    },
    {
        kind: "conflicting-keys",
        apply(c, rnd) {
            const acme = providers(c).find((p) => p.plugin === "hmac");
            if (!acme) return undefined;
            if (rnd.chance(0.5)) {
                acme.eventIdPath = "id";
                acme.eventIdHeader = "X-Id";
                return "eventIdPath with eventIdHeader";
            }
            acme.eventTypePath = "type";
            acme.eventTypeHeader = "X-Type";
            return "eventTypePath with eventTypeHeader";
        },
    },
    {
        kind: "bad-enum",
        apply(c, rnd) {
            const ps = providers(c);
            const acme = ps.find((p) => p.plugin === "hmac" && isObj(p.signature));
            const choices: [string, () => void][] = [
                ["plugin paypal", () => ps[0] && (ps[0].plugin = "paypal")],
                ["lane sns", () => ps[0] && (ps[0].lane = "sns")],
                ["kafka.mode x", () => isObj(c.kafka) && (c.kafka.mode = "x")],
                ["sasl.mechanism plain", () => isObj(c.kafka) && (c.kafka.sasl = { mechanism: "plain", username: "u", password: "p" })],
            ];
            if (acme) choices.push(["algorithm md5", () => ((acme.signature as Obj).algorithm = "md5")], ["encoding utf8", () => ((acme.signature as Obj).encoding = "utf8")]);
            const [what, apply] = rnd.pick(choices);
            apply();
            return what;
        },
    },
    {
        kind: "bad-format",
        apply(c, rnd) {
            const acme = providers(c).find((p) => p.plugin === "hmac");
            const choices: [string, () => void][] = [
                ["alarmTopicArn is an SQS ARN", () => (c.alarmTopicArn = "arn:aws:sqs:us-east-1:1:q")],
                ["broker without a port", () => isObj(c.kafka) && (c.kafka.brokers = ["nohost"])],
            ];
            if (acme) choices.push(["eventIdPath data..id", () => (acme.eventIdPath = "data..id")], ["orderingKeyPath with a space", () => (acme.orderingKeyPath = "a b")]);
            const [what, apply] = rnd.pick(choices);
            apply();
            return what;
        },
    },
    {
        kind: "reserved-name",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            ps[i].name = "ingress";
            return `providers[${i}].name = "ingress"`;
        },
    },
];

/** Mutations that keep the config valid. */
const validMutations: Mutation[] = [
    {
        kind: "valid-number",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const [field, [min, max]] = rnd.pick(Object.entries(laneNumbers));
            const ordered = ps[i].ordering === true && ps[i].lane !== "kafka";
            const value = field === "batchSize" && ordered ? rnd.int(1, 10) : rnd.int(min, max);
            ps[i][field] = value;
            return `providers[${i}].${field} = ${value}`;
        },
    },
    {
        kind: "valid-section-number",
        apply(c, rnd) {
            const [section, fields] = rnd.pick(Object.entries(sectionNumbers));
            const [field, [min, max]] = rnd.pick(Object.entries(fields));
            (isObj(c[section]) ? (c[section] as Obj) : (c[section] = {}))[field] = rnd.int(min, max);
            return `${section}.${field} in range`;
        },
    },
    {
        kind: "valid-rename",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
            let name = "";
            do {
                const length = rnd.int(1, 24);
                name = Array.from({ length }, (_, k) => (k > 0 && k < length - 1 && rnd.chance(0.15) ? "-" : alphabet[rnd.int(0, alphabet.length - 1)])).join("");
            } while (name === "ingress" || ps.some((p) => p.name === name));
            ps[i].name = name;
            return `providers[${i}].name = ${name}`;
        },
    },
    {
        kind: "valid-route",
        apply(c, rnd) {
            const stripe = providers(c).find((p) => isObj(p.lanes) && "billing" in (p.lanes as Obj));
            if (!stripe) return undefined;
            const pattern = rnd.pick(["customer.*", "charge.refunded", "*", "a.b.*.c"]);
            (stripe.routes as Obj)[pattern] = rnd.pick(["default", "drop", "billing"]);
            return `route ${pattern}`;
        },
    },
    {
        kind: "valid-lane",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            const lanes = isObj(ps[i].lanes) ? (ps[i].lanes as Obj) : (ps[i].lanes = {});
            const name = rnd.pick(["slow", "fast-1", "x", "a".repeat(16)]);
            const ordered = ps[i].ordering === true && ps[i].lane !== "kafka";
            lanes[name] = { concurrency: rnd.int(2, 50), batchSize: ordered ? rnd.int(1, 10) : rnd.int(1, 100), handler: "log" };
            return `lane ${name} on providers[${i}]`;
        },
    },
    {
        kind: "drop-optional",
        apply(c, rnd) {
            const key = rnd.pick(["router", "api", "archive", "alarmTopicArn"]);
            delete c[key];
            return `${key} removed`;
        },
    },
    {
        kind: "secret-list",
        apply(c, rnd) {
            const ps = providers(c);
            if (ps.length === 0) return undefined;
            const i = rnd.int(0, ps.length - 1);
            ps[i].secret = Array.from({ length: rnd.int(1, 5) }, (_, k) => `s${k}`);
            return `providers[${i}].secret list`;
        },
    },
];

function tokens(path: string): (string | number)[] | undefined {
    if (path === "(config)") return [];
    const out: (string | number)[] = [];
    // A provider's index may carry its name: `providers[2] (shopify).concurrency`.
    const re = /(?:^|\.)([A-Za-z0-9_$-]+)|\[(\d+)\](?: \([^()\s]+\))?|\[("(?:[^"\\]|\\.)*")\]/y;
    let at = 0;
    while (at < path.length) {
        re.lastIndex = at;
        const m = re.exec(path);
        if (!m) return undefined;
        if (m[1] !== undefined) out.push(m[1]);
        else if (m[2] !== undefined) out.push(Number(m[2]));
        else out.push(JSON.parse(m[3]) as string);
        at = re.lastIndex;
    }
    return out;
}

function resolve(root: unknown, path: (string | number)[]): { found: boolean; parentFound: boolean } {
    let at: unknown = root;
    for (let i = 0; i < path.length; i++) {
        const k = path[i];
        const container = at as Record<string | number, unknown> | null;
        const has = container !== null && typeof container === "object" && Object.prototype.hasOwnProperty.call(container, k);
        if (!has) return { found: false, parentFound: i === path.length - 1 && container !== null && typeof container === "object" };
        at = container![k];
    }
    return { found: true, parentFound: true };
}

/** Why a problem string breaks the contract, or undefined when it keeps it. */
export function problemDefect(problem: unknown, input: unknown): string | undefined {
    if (typeof problem !== "string") return "a problem is not a string";
    // The path is everything up to the first ": " that leaves a parseable path.
    let from = 0;
    for (;;) {
        const at = problem.indexOf(": ", from);
        if (at < 0) return "no `<path>: <message>` form";
        const path = problem.slice(0, at);
        const parsed = tokens(path);
        if (parsed) {
            if (!problem.slice(at + 2).trim()) return "empty message";
            const { found, parentFound } = resolve(input, parsed);
            return found || parentFound ? undefined : `path ${path} is not in the input`;
        }
        from = at + 1;
    }
}

/** Run `count` cases from `seed`; about one in five is a valid mutation. */
export function fuzzConfig(count: number, seed = 1, keepFailures = 20): FuzzResult {
    const rnd = new Rand(seededRandom(seed));
    const kinds: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    let failed = 0;
    let problems = 0;
    let invalidCases = 0;
    let validCases = 0;
    const fail = (f: FuzzFailure) => {
        failed += 1;
        if (failures.length < keepFailures) failures.push(f);
    };
    const base = baseConfig();
    const baseResult = validateConfig(base, { handlers });
    if (!baseResult.ok) throw new Error(`the fuzz's base config must be valid: ${baseResult.problems.join("; ")}`);

    // Inputs that are not objects at all.
    const notConfigs: unknown[] = [undefined, null, 42, "providers", [], [base], true, { providers: null }, { providers: {} }, { providers: "stripe" }, { providers: [null] }, { providers: [[]] }];
    for (const input of notConfigs) {
        kinds["not-a-config"] = (kinds["not-a-config"] ?? 0) + 1;
        invalidCases += 1;
        check(input, ["not-a-config"], "invalid");
    }

    for (let n = notConfigs.length; n < count; n++) {
        const config = clone(base);
        const valid = rnd.chance(0.2);
        const pool = valid ? validMutations : invalidMutations;
        const applied: string[] = [];
        const want = valid ? rnd.int(1, 3) : rnd.int(1, 3);
        for (let tries = 0; applied.length < want && tries < 20; tries++) {
            const m = rnd.pick(pool);
            const what = m.apply(config, rnd);
            if (what !== undefined) {
                applied.push(`${m.kind}: ${what}`);
                kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
            }
        }
        if (valid) validCases += 1;
        else invalidCases += 1;
        check(config, applied, valid ? "valid" : "invalid");
    }
    return { cases: count, invalidCases, validCases, failed, failures, problems, kinds };

    function check(input: unknown, mutations: string[], expected: "valid" | "invalid") {
        const config = JSON.stringify(input)?.slice(0, 400) ?? String(input);
        let result: ReturnType<typeof validateConfig>;
        try {
            result = validateConfig(input, { handlers });
        } catch (err) {
            return fail({ mutations, expected, problem: `validateConfig threw ${(err as Error).name}: ${(err as Error).message}`, config });
        }
        if (expected === "valid") {
            if (!result.ok) fail({ mutations, expected, problem: `a valid config was refused: ${result.problems.join("; ")}`, config });
            return;
        }
        if (result.ok) return fail({ mutations, expected, problem: "an invalid config was accepted", config });
        if (!Array.isArray(result.problems) || result.problems.length === 0) return fail({ mutations, expected, problem: "ok=false without a problem", config });
        problems += result.problems.length;
        // Every problem is checked, not just the first.
        for (const problem of result.problems) {
            const defect = problemDefect(problem, input);
            if (defect) return fail({ mutations, expected, problem: `${defect}: ${JSON.stringify(problem)}`, config });
        }
    }
}
