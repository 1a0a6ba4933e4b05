/**
 * The local services a test can use. `npm test` (scripts/test-env.ts) starts
 * moto and a Kafka broker and passes their addresses through the environment.
 */

function required(name: string, what: string): string {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set: ${what} is started by the test runner. Run the tests with \`npm test\` (or \`node dist/scripts/test-env.js\` after \`npm run build\`), not with mocha directly.`);
    }
    return value;
}

/** True when the runner started Kafka (it does unless WEBHOOK_PIPELINE_SKIP_KAFKA=1). */
export function kafkaAvailable(): boolean {
    return Boolean(process.env.KAFKA_BROKERS);
}

export const services = {
    /** The AWS emulator (moto): http://127.0.0.1:<port>. The AWS SDK also picks it up from AWS_ENDPOINT_URL. */
    get awsEndpoint(): string {
        return required("AWS_ENDPOINT_URL", "the AWS emulator (moto)");
    },
    /** The Kafka broker(s), ["127.0.0.1:<port>"]. */
    get kafkaBrokers(): string[] {
        const hint = process.env.WEBHOOK_PIPELINE_SKIP_KAFKA === "1" ? "Kafka (skipped because WEBHOOK_PIPELINE_SKIP_KAFKA=1)" : "the Kafka broker";
        return required("KAFKA_BROKERS", hint)
            .split(",")
            .map((b) => b.trim())
            .filter(Boolean);
    },
};

/** Forget every resource in moto (POST /moto-api/reset). */
export async function resetMoto(): Promise<void> {
    const res = await fetch(`${services.awsEndpoint}/moto-api/reset`, { method: "POST" });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
