/** Signing secrets: one Secrets Manager secret per provider, never in code, environment or logs. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "../model/config";
import { destinationSecretsOf, PipelineModel, secretsOf } from "../model/pipeline";
import { autoName, childName, NameLimits } from "./naming";

/** One Secrets Manager secret per provider; the value is set from the Pulumi secret in config when given. */
export function createSecrets(name: string, config: PipelineConfig, parent: pulumi.Resource): Map<string, aws.secretsmanager.Secret> {
    const secrets = new Map<string, aws.secretsmanager.Secret>();
    for (const p of config.providers) {
        const secret = new aws.secretsmanager.Secret(autoName(childName(name, p.name, "secret"), NameLimits.secret), {
            description: `Signing secret(s) for webhook provider ${p.name}: JSON {"secrets": [...]}`,
            recoveryWindowInDays: 7,
        }, { parent });
        const values = secretsOf(p);
        if (values.length > 0) {
            new aws.secretsmanager.SecretVersion(childName(name, p.name, "secret-value"), {
                secretId: secret.id,
                secretString: pulumi.secret(JSON.stringify({ secrets: values })),
            }, { parent });
        }
        secrets.set(p.name, secret);
    }
    return secrets;
}

/**
 * The pipeline-internal key (model/seal.ts): seals the envelopes of the pipeline's own writers (ingress
 * functions, `ops replay`, `ops redrive --catch-all`). 64 random characters from Secrets Manager's
 * GetRandomPassword, stored once (`ignoreChanges`, so a later `pulumi up` keeps the key and messages
 * sealed before stay valid). Rotate by putting `{"secrets": ["<new>", "<old>"]}` into the secret by hand
 * (the first seals, any opens). Readable by the router and the ingress functions only (and operators).
 */
export function createInternalKey(name: string, parent: pulumi.Resource): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(childName(name, "internal-key"), {
        description: 'Pipeline-internal key sealing the envelopes of the pipeline\'s own writers: JSON {"secrets": [...]}',
        recoveryWindowInDays: 7,
    }, { parent });
    const key = aws.secretsmanager.getRandomPasswordOutput({ passwordLength: 64, excludePunctuation: true }, { parent });
    new aws.secretsmanager.SecretVersion(childName(name, "internal-key-value"), {
        secretId: secret.id,
        secretString: pulumi.secret(key.randomPassword.apply((k) => JSON.stringify({ secrets: [k] }))),
    }, { parent, ignoreChanges: ["secretString"] });
    return secret;
}

/** A provider without a secret in config works once the secret is put into Secrets Manager by hand; say so. */
export function warnAboutSecrets(config: PipelineConfig, resource: pulumi.Resource) {
    config.providers.forEach((p, i) => {
        if (p.secret === undefined) {
            pulumi.log.warn(
                `providers[${i}].secret is not set: webhooks for "${p.name}" are quarantined as no-secret until the secret holds {"secrets":["..."]} ` +
                    `(run \`pulumi config set --secret --path 'webhook-pipeline:providers[${i}].secret' <value>\`, or put the value into Secrets Manager)`,
                resource,
            );
        }
    });
}

/** A destination lane's secrets in Secrets Manager: the signing secrets and the auth header's value, each `{"secrets": [...]}`. */
export interface DestinationSecrets {
    readonly signing?: aws.secretsmanager.Secret;
    readonly auth?: aws.secretsmanager.Secret;
}

/**
 * One secret per destination secret of a lane (`<name>-<lane>-dest-signing`, `-dest-auth`), its value from
 * the Pulumi secret in config. Read by that lane's worker only, at run time (handlers/shared/secrets.ts).
 */
export function createDestinationSecrets(name: string, config: PipelineConfig, model: PipelineModel, parent: pulumi.Resource): Record<string, DestinationSecrets> {
    const values = destinationSecretsOf(config);
    const out: Record<string, DestinationSecrets> = {};
    for (const lane of model.lanes) {
        const d = lane.destination;
        if (!d) continue;
        const own = values[lane.id];
        const make = (kind: "signing" | "auth", secrets: readonly string[], description: string) => {
            const secret = new aws.secretsmanager.Secret(childName(name, lane.id, `dest-${kind}`), { description, recoveryWindowInDays: 7 }, { parent });
            new aws.secretsmanager.SecretVersion(childName(name, lane.id, `dest-${kind}-value`), { secretId: secret.id, secretString: pulumi.secret(JSON.stringify({ secrets })) }, { parent });
            return secret;
        };
        out[lane.id] = {
            ...(d.signingSecretCount > 0 ? { signing: make("signing", own?.signing ?? [], `Standard Webhooks signing secret(s) of lane ${lane.id}'s destination: JSON {"secrets": [...]}`) } : {}),
            ...(d.authHeader && own?.auth !== undefined ? { auth: make("auth", [own.auth], `Value of the ${d.authHeader} header sent to lane ${lane.id}'s destination: JSON {"secrets": ["..."]}`) } : {}),
        };
    }
    return out;
}
