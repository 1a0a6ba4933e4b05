/**
 * A class that extends Error does not survive Pulumi's function serialization:
 * in the uploaded code its instances are not Errors and have no name and no
 * message (test/components/input-error-deploy.test.ts, secret-error-deploy.test.ts).
 * Errors of code that may be uploaded are made by factories (model/errors.ts)
 * and told apart by name. This lists every class extending Error left in the
 * runtime layers (handlers/, model/, providers/): each runs only in a process
 * of its own (a command, the Kafka consumer, the Pulumi program), never in a
 * Lambda function's zip. A new one must be a factory, or be added here with why.
 */
import { expect } from "chai";
import { repositoryRoot, sourceFiles } from "./imports";

/** file -> classes extending Error, and why each may stay a class. */
const allowed: Record<string, { classes: string[]; why: string }> = {
    "handlers/kafka/cli.ts": { classes: ["CliUsageError"], why: "the argument errors of the Kafka consumer command (npm run kafka:consume) and of kafka:replay, run on a user's machine" },
    "handlers/kafka/consumer.ts": { classes: ["HandlerTimeoutError"], why: "the self-run Kafka consumer (startLaneConsumer: the consumer command, npm start); the Kafka Lambda worker imports only a type from it" },
    "handlers/kafka/replay.ts": { classes: ["ReplayError"], why: "the replay command (replayLane), run on a user's machine" },
    "model/config.ts": { classes: ["ConfigError"], why: "config validation at deploy time (components/), npm start (local/) and the Kafka commands" },
    "model/stack-config.ts": { classes: ["StackFileError"], why: "reading a stack file: the Pulumi program, npm start and the commands" },
};

describe("structure: no error class in code that may be uploaded", () => {
    it("GIVEN handlers/, model/ and providers/ THEN the only classes extending Error are the listed ones, which no Lambda function runs", () => {
        const found: Record<string, string[]> = {};
        for (const file of sourceFiles(repositoryRoot())) {
            if (!/^(handlers|model|providers)\//.test(file.path)) continue;
            const classes = [...file.text.matchAll(/^\s*(?:export\s+)?(?:abstract\s+)?class\s+(\w+)\s+extends\s+Error\b/gm)].map((m) => m[1]);
            if (classes.length) found[file.path] = classes;
        }
        expect(found).to.deep.equal(Object.fromEntries(Object.entries(allowed).map(([file, { classes }]) => [file, classes])));
    });
});
