// relay/server.ts: the last-resort error answers (errors Bun reports after a handler
// returned, while it sends the response), and relays started in-process by startRelay.
import { expect, test } from "bun:test";
import { generateIdentity, uidOf } from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { Log } from "./log.ts";
import { sendError, startRelay } from "./server.ts";
import { testRelayConfig } from "./test-relay.ts";

test("a blob that vanished before Bun opened it (a burn or purge at that moment) is the §7.8 404, not a 500", async () => {
  const lines: string[] = [];
  const log = new Log("info", (t) => void lines.push(t));
  const gone = Object.assign(new Error("ENOENT: no such file or directory, open '/data/blobs/0123'"), {
    code: "ENOENT",
    syscall: "open",
  });
  const res = sendError(gone, log);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: "not_found", message: "not found" });
  const other = sendError(new Error("boom"), log);
  expect(other.status).toBe(500);
  expect(JSON.stringify(await other.json())).not.toContain("boom");
});

test("two relays started in one process (startRelay) keep apart: own port, data folder, users and config", async () => {
  const ca = testRelayConfig();
  const cb = testRelayConfig({ args: ["--ws-max-per-room", "3"], env: { MAX_FILE_SIZE_BYTES: "1000" } });
  const a = await startRelay(ca.config);
  const b = await startRelay(cb.config);
  try {
    expect(a.url).not.toBe(b.url);
    expect(ca.dataDir).not.toBe(cb.dataDir);
    const health = async (url: string) => (await fetch(`${url}/health`)).json() as Promise<{ max_file_size: number }>;
    expect((await health(a.url)).max_file_size).toBe(52_428_800);
    expect((await health(b.url)).max_file_size).toBe(1000);
    // A user registered on one relay is unknown to the other (PROTOCOL §7.2, §7.3).
    const id = generateIdentity();
    const uid = uidOf(id.encPub);
    const body = { uid, pub_key: b64encode(id.encPub), sign_pub: b64uencode(id.signPub) };
    const reg = await fetch(`${a.url}/register`, { method: "POST", body: JSON.stringify(body) });
    expect(reg.status).toBe(200);
    expect((await fetch(`${a.url}/pubkey/${uid}`)).status).toBe(200);
    expect((await fetch(`${b.url}/pubkey/${uid}`)).status).toBe(404);
  } finally {
    await a.stop();
    await b.stop();
    ca.cleanup();
    cb.cleanup();
  }
});
