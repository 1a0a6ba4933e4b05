/** Output helpers shared by the component's steps. */
import * as pulumi from "@pulumi/pulumi";

/** `[[key, Output<string>], ...]` -> `Output<Record<key, string>>` */
export function keyed(entries: [string, pulumi.Output<string>][]): pulumi.Output<Record<string, string>> {
    return pulumi.all(entries.map(([k, v]) => v.apply((value): [string, string] => [k, value]))).apply((pairs) => Object.fromEntries(pairs));
}
