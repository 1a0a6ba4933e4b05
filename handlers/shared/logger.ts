/** The logger interface the handlers use; Powertools Logger satisfies it. */
import type { HandlerLogger } from "../app/types";

export type { HandlerLogger };

/** For tests and tools that do not want log lines. */
export const silentLogger: HandlerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
