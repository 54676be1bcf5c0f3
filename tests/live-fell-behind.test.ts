// RelayClient.live (PROTOCOL §7.9) when the relay closes a socket that fell behind (1013).
// The compiled relay (dist/phantom-relay, run ./build.sh first) runs in its own process, so it
// keeps writing while this process's event loop is blocked. The rest of live delivery is tested
// beside the code, in client/net/live.test.ts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { listenLive, pairUp } from "./helpers/clients.ts";
import { RELAY_BIN, ROOT, startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { signHeaders } from "./helpers/signer.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun

let relay: RunningRelay;

beforeAll(async () => {
  if (!existsSync(RELAY_BIN)) throw new Error("dist/phantom-relay is missing: run ./build.sh first");
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
});

describe("live", () => {
  test("a socket the relay closes with 1013 (fell behind) reconnects and re-syncs with /fetch: nothing lost or doubled", async () => {
    const { a, cb, roomId, sessionKey } = await pairUp(relay.url);
    const l = await listenLive(cb, roomId, { backoffMs: { min: 50, max: 200 } });
    expect(await l.ready).toBe("websocket");
    // Large messages (~64 KB frames), signed now and sent by a child process while this process's event
    // loop is blocked, so our socket reads nothing: the kernel buffers fill, then the relay's.
    const N = 120;
    const dir = tempDir();
    const sent = Array.from({ length: N }, () => c.encryptMessage(sessionKey, "x".repeat(48_000)));
    const prepared = sent.map((ciphertext) => {
      const body = JSON.stringify({ room_id: roomId, ciphertext });
      const headers = signHeaders(a, "POST", "/send", new TextEncoder().encode(body));
      return { url: `${relay.url}/send`, headers: { ...headers, "content-type": "application/json" }, body };
    });
    writeFileSync(join(dir, "in.json"), JSON.stringify(prepared));
    const out = join(dir, "out.json");
    const child = Bun.spawn(
      [process.execPath, join(ROOT, "tests/helpers/post-prepared.ts"), join(dir, "in.json"), out],
      {
        stdout: "ignore",
        stderr: "inherit",
      },
    );
    const deadline = Date.now() + 30_000;
    while (!existsSync(out) && Date.now() < deadline) Bun.sleepSync(50); // blocks our event loop
    await child.exited;
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(Array(N).fill(200));
    await l.count(N);
    await Bun.sleep(300); // a doubled frame would show up here
    await l.stop();
    expect(l.frames.map((f) => ("ciphertext" in f ? f.ciphertext : f))).toEqual(sent);
    expect(l.retryErrors).toContain("live connection closed (1013)");
    expect(l.stats().connects).toBeGreaterThanOrEqual(2);
  });
});
