/** Helpers for the tests that run each function's zip alone (scripts/bundles.ts `isolateBundle`). */
import type { IsolatedRun } from "../../scripts/bundles";
import { plain, RecordedResource } from "../../scripts/pulumi-mocks";

/** The environment a function gets on AWS (its own variables) plus where AWS is (moto) and test credentials. */
export function functionEnv(fn: RecordedResource): Record<string, string> {
    const own = plain<Record<string, string> | undefined>(fn.inputs.environment?.variables) ?? {};
    const aws = Object.fromEntries(["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_DISABLED"].map((k) => [k, process.env[k] ?? ""]));
    return { ...Object.fromEntries(Object.entries(own).map(([k, v]) => [k, String(plain(v))])), ...aws, AWS_DEFAULT_REGION: process.env.AWS_REGION ?? "us-east-1", NODE_NO_WARNINGS: "1" };
}

/** Package folders (`@scope/name`) a run loaded files from, inside its zip. */
export function packagesLoaded(run: IsolatedRun<unknown>): string[] {
    const names = new Set<string>();
    for (const f of run.loaded) {
        const m = /^node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f);
        if (m) names.add(m[1].replace("\\", "/"));
    }
    return [...names].sort();
}
