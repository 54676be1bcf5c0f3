// RelayClient against a relay that stops answering: the compiled relay (dist/phantom-relay,
// run ./build.sh first) in its own process, paused with SIGSTOP. The rest of RelayClient's
// tests are beside it, in client/net/relay-client.test.ts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as c from "../lib/crypto.ts";
import { client, fails } from "./helpers/clients.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser } from "./helpers/signer.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun

describe("failures", () => {
  let doomed: RunningRelay;
  beforeAll(async () => {
    doomed = await startRelay();
  });
  afterAll(async () => {
    await doomed.stop();
    doomed.cleanup();
  });

  test("a relay that does not answer times out, without retrying", async () => {
    const u = makeUser();
    await client(doomed.url).register(u.uid, u.pubB64, u.signPubB64u);
    doomed.proc.kill("SIGSTOP");
    try {
      const e = await fails(client(doomed.url, u, { timeoutMs: 300 }).health());
      expect(e.code).toBe("timeout");
      expect(e.message).toBe("timed out: no complete answer within 0.3 s (checking the relay)");
      const s = await fails(client(doomed.url, u, { timeoutMs: 300 }).send("A".repeat(22), "AAAA"));
      expect(s.message).toBe("timed out: no complete answer within 0.3 s (sending the message)");
      // A transfer gets a deadline scaled by its size, but fails once nothing moves for the base timeout.
      const up = await fails(
        client(doomed.url, u, { timeoutMs: 300 }).upload("A".repeat(22), c.randomBytes(2_000_000)),
      );
      expect(up.message).toBe("timed out: no data moved for 0.3 s (uploading the file)");
    } finally {
      doomed.proc.kill("SIGCONT");
    }
    expect((await client(doomed.url).health()).status).toBe("ok");
  });
});
