/** The test destination server (bench/destination-server.ts) and a loopback TLS certificate for it. */
import * as fs from "fs";
import * as path from "path";

export { maxInWindow, peakOverlap, startDestination } from "../../bench/destination-server";
export type { Answer, ReceivedRequest, Responder, TestDestination } from "../../bench/destination-server";

/**
 * A self-signed certificate for 127.0.0.1 (test/destination/fixtures, valid for 100 years): for an https
 * destination, which is what a deployed pipeline may deliver to. A test key, not a secret.
 */
export function loopbackTls(): { key: Buffer; cert: Buffer } {
    const dir = path.resolve(__dirname, "../../../test/destination/fixtures");
    return { key: fs.readFileSync(path.join(dir, "loopback-key.pem")), cert: fs.readFileSync(path.join(dir, "loopback-cert.pem")) };
}

