// Lock contention: a second process holding the SQLite write lock on the
// relay's database must not freeze the real compiled relay. /health keeps answering, reads go
// on (WAL), a /send that cannot commit within relay/writes.ts BUSY_GIVE_UP_MS is 503 busy
// with Retry-After and is never stored, one whose lock ends sooner succeeds, and after the
// lock everything works and nothing acknowledged is lost. Build first: ./build.sh
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { lines, startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed } from "./helpers/signer.ts";

const HEALTH_BOUND_MS = 5000;
let relay: RunningRelay;
let p: Awaited<ReturnType<typeof pair>>;

beforeAll(async () => {
  relay = await startRelay({ args: ["--log-level", "warn"] });
  p = await pair(relay.url);
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

const ct = () => b64encode(c.randomBytes(40));

/** Another process that takes the write lock (BEGIN EXCLUSIVE) and holds it until release(). */
async function lockDatabase(path: string) {
  const script = `
    import { Database } from "bun:sqlite";
    const db = new Database(${JSON.stringify(path)});
    db.run("PRAGMA busy_timeout = 5000");
    db.run("BEGIN EXCLUSIVE");
    db.run("CREATE TABLE IF NOT EXISTS locker_probe (x)");
    process.stdout.write("locked\\n");
    for await (const _ of Bun.stdin.stream()) break;
    db.run("ROLLBACK");
    db.close();
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  for await (const line of lines(proc.stdout)) if (line === "locked") break;
  return {
    async release() {
      proc.stdin.write("release\n");
      await proc.stdin.end();
      await proc.exited;
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

const health = () => fetch(`${relay.url}/health`).then((r) => r.status);
const send = (text: string) => signed(relay.url, p.a, "POST", "/send", { room_id: p.roomId, ciphertext: text });
async function fetched(): Promise<string[]> {
  const r = await signed(relay.url, p.b, "POST", "/fetch", { room_id: p.roomId });
  expect(r.status).toBe(200);
  return ((await r.json()) as { messages: { ciphertext: string }[] }).messages.map((m) => m.ciphertext);
}

test("a lock held past the bounded wait: /health and reads go on, /send is 503 busy and not stored; afterwards all works", async () => {
  const before = ct();
  expect((await send(before)).status).toBe(200);
  const lock = await lockDatabase(join(relay.dataDir, "relay.db"));
  let released = false;
  try {
    const refused = ct();
    const sending = timed(() => send(refused));
    // While that /send waits for the lock, the event loop is free.
    for (let i = 0; i < 4; i++) {
      const h = await timed(health);
      expect(h.value).toBe(200);
      expect(h.ms).toBeLessThan(HEALTH_BOUND_MS);
      await Bun.sleep(200);
    }
    expect(await fetched()).toEqual([before]); // a WAL reader does not wait for the writer
    const { value: res, ms } = await sending;
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await res.json()).toEqual({ error: "busy", message: expect.any(String) });
    expect(ms).toBeLessThan(HEALTH_BOUND_MS);
    await lock.release();
    released = true;
    expect(await fetched()).toEqual([before]); // the refused message was never stored
    const after = ct();
    expect((await send(after)).status).toBe(200);
    expect(await fetched()).toEqual([before, after]);
  } finally {
    if (!released) await lock.release();
  }
}, 30_000);

test("a lock released within the bounded wait: the /send waiting for it succeeds", async () => {
  const lock = await lockDatabase(join(relay.dataDir, "relay.db"));
  const text = ct();
  const sending = send(text);
  await Bun.sleep(150);
  await lock.release();
  expect((await sending).status).toBe(200);
  expect(await fetched()).toContain(text);
}, 30_000);
