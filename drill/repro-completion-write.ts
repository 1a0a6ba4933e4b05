/**
 * Reproduction of what the drill found: when the worker's idempotency
 * completion write fails (the table is unreachable for a few seconds right
 * after the handler returned), the handler runs a second time for the same
 * event once the in-progress record has expired.
 *
 *   node dist/drill/repro-completion-write.js              the workers' DynamoDB client (patient retries, handlers/shared/retry.ts)
 *   node dist/drill/repro-completion-write.js --sdk-default a client with the SDK's default retries, as the workers had before
 *
 * test/drill/completion-write.test.ts runs the first form in `npm test`.
 *
 * One lane message, the worker's own createLaneProcessor, a real moto (the
 * drill's, restartable): the handler's first call starts an emulator restart (3 s down)
 * and returns 300 ms later, while the emulator is down; the message is then
 * processed again after the 3 s in-progress expiry, as a redelivery would.
 * Prints the handler's completions: 1 is right, 2 is the defect.
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import * as os from "os";
import * as path from "path";
import { createLaneProcessor } from "../handlers/worker/worker";
import { localClients } from "../local/resources";
import { startDrillEmulator } from "./emulator";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
    const sdkDefault = process.argv.includes("--sdk-default");
    const emulator = await startDrillEmulator({ stateFile: path.join(os.tmpdir(), `repro-completion-${process.pid}.pickle`) });
    try {
        const local = localClients(emulator.endpoint);
        const dynamo = sdkDefault ? new DynamoDBClient({ endpoint: emulator.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } }) : local.dynamo;
        await dynamo.send(
            new CreateTableCommand({ TableName: "idempotency", BillingMode: "PAY_PER_REQUEST", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }] }),
        );
        let completions = 0;
        let restarting: Promise<unknown> | undefined;
        const handler = async () => {
            if (completions === 0) {
                restarting = emulator.restart({ downForMs: 3_000 });
                await sleep(300);
            }
            completions += 1;
        };
        const processMessage = createLaneProcessor({
            config: { lane: "github-default", provider: "github", bucket: "unused", idempotencyTable: "idempotency", idempotencyTtlSeconds: 3600, ordering: false },
            handler,
            s3: local.s3,
            dynamo,
        });
        const message = JSON.stringify({ v: 1, provider: "github", lane: "github-default", requestId: "r-1", eventId: "evt-1", eventType: "push", receivedAt: Date.now(), archiveKey: "raw/x#0", body: "{}" });
        const lambdaContext = { getRemainingTimeInMillis: () => 3_000 };
        const first = await processMessage(message, { attempt: 1, lambdaContext }).catch((err: Error) => `failed: ${err.name}: ${err.message}`);
        await restarting;
        await sleep(3_500);
        const second = await processMessage(message, { attempt: 2, lambdaContext }).catch((err: Error) => `failed: ${err.name}: ${err.message}`);
        process.stdout.write(JSON.stringify({ client: sdkDefault ? "sdk-default" : "local (patient retries)", first, second, handlerCompletions: completions }) + "\n");
        return completions === 1 ? 0 : 1;
    } finally {
        await emulator.stop();
    }
}

main().then(
    (code) => process.exit(code),
    (err: Error) => {
        process.stderr.write(`${err.stack ?? String(err)}\n`);
        process.exit(2);
    },
);
