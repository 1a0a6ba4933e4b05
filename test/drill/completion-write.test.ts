/**
 * The idempotency completion write and an outage of the table (found by the
 * drill): the handler returns, the table is unreachable for a moment, and the
 * write that marks the event done must not be lost, or the event's record
 * stays IN_PROGRESS and the handler runs a second time once it expires.
 *
 * The worker's own createLaneProcessor with the DynamoDB client the Lambda
 * worker uses (handlers/shared/clients.ts) against the drill's restartable
 * moto: the handler's first call restarts the emulator with a 3 s outage and
 * returns while it is down; the message is then processed again after the in-progress expiry, as a
 * redelivery would be. `node dist/drill/repro-completion-write.js --sdk-default`
 * shows the same run with the SDK's default retries (two completions).
 */
import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import * as os from "os";
import * as path from "path";
import { createLaneProcessor } from "../../handlers/worker/worker";
import { awsClients } from "../../handlers/shared/clients";
import { startDrillEmulator, type DrillEmulator } from "../../drill/emulator";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than the SDK's default retries last (3 attempts, well under a second), shorter than ours (~7.5-12 s). */
const outageMs = 3_000;

describe("idempotency completion write through a table outage (Lambda worker's client)", function () {
    this.timeout(90_000);
    let emulator: DrillEmulator;

    before(async () => {
        emulator = await startDrillEmulator({ stateFile: path.join(os.tmpdir(), `wp-completion-${process.pid}.pickle`) });
    });
    after(async () => {
        await emulator?.stop();
    });

    it("runs the handler once when the completion write meets a restart of the table's service", async () => {
        const clients = awsClients(emulator.endpoint);
        // Every attempt the SDK makes, by operation: the deserialize step runs once per attempt, inside the retry loop.
        const attempts: Record<string, { ok: number; failed: number }> = {};
        clients.dynamo.middlewareStack.add(
            (next, context) => async (args) => {
                const counts = (attempts[context.commandName ?? "?"] ??= { ok: 0, failed: 0 });
                try {
                    const out = await next(args);
                    counts.ok += 1;
                    return out;
                } catch (err) {
                    counts.failed += 1;
                    throw err;
                }
            },
            { step: "deserialize", name: "countAttempts" },
        );
        await clients.dynamo.send(
            new CreateTableCommand({ TableName: "idempotency", BillingMode: "PAY_PER_REQUEST", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }] }),
        );
        let completions = 0;
        let restarting: Promise<unknown> | undefined;
        const processMessage = createLaneProcessor({
            config: { lane: "github-default", provider: "github", bucket: "unused", idempotencyTable: "idempotency", idempotencyTtlSeconds: 3600, ordering: false },
            handler: async () => {
                if (completions === 0) {
                    restarting = emulator.restart({ downForMs: outageMs });
                    await sleep(300);
                }
                completions += 1;
            },
            s3: clients.s3,
            dynamo: clients.dynamo,
        });
        const message = JSON.stringify({ v: 1, provider: "github", lane: "github-default", requestId: "r-1", eventId: "evt-1", eventType: "push", receivedAt: Date.now(), archiveKey: "raw/x#0", body: "{}" });
        const lambdaContext = { getRemainingTimeInMillis: () => 3_000 };
        await processMessage(message, { attempt: 1, lambdaContext });
        const restart = (await restarting) as { downMs: number };
        expect(restart.downMs, "the emulator was down while the write was pending").to.be.at.least(outageMs);
        await sleep(3_500);
        await processMessage(message, { attempt: 2, lambdaContext });
        expect(completions).to.equal(1);
        // The completion write met the outage and was retried until it went through.
        expect(attempts.UpdateItemCommand?.failed ?? 0, JSON.stringify(attempts)).to.be.greaterThan(0);
        expect(attempts.UpdateItemCommand?.ok, JSON.stringify(attempts)).to.equal(1);
    });
});
