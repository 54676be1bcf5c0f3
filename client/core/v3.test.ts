// PROTOCOL-v3 in the client, against the relay started in this process: first contact goes v3 by
// itself, both directions, history outlives a burn, v2 when the peer has no bundle (retried hourly),
// require-v3, pinning, simultaneous first contact, a refused row changes nothing.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { torConfigFromEnv } from "../../lib/tor.ts";
import { startRelay, tempDir, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import { rejectionOf } from "../../tests/helpers/errors.ts";
import { listHistory, listSessions } from "../state/ratchet-store.ts";
import { Session } from "./session.ts";

setDefaultTimeout(60_000);

const PASSWORD = "correct horse battery";
const root = tempDir("phantom-v3-client-");
let relay: RunningRelay;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
async function user(hooks: Parameters<typeof Session.create>[1] = {}): Promise<Session> {
  const home = join(root, `u${++n}`);
  return await Session.create(
    { home, password: PASSWORD, relayUrl: relay.url, tor: torConfigFromEnv({ PHANTOM_TOR: "never" }), direct: false },
    hooks,
  );
}

/** Alice adds Bob, Bob accepts the request. */
async function pair(a: Session, b: Session): Promise<void> {
  await a.addContact(b.uid);
  await b.processInbox();
  b.accept(a.uid);
}

const texts = async (s: Session, peer: string) =>
  (await s.history(peer)).map((m) => `${m.mine ? ">" : "<"}${m.body}·v${m.protocol}`);

describe("v3 sessions in the client", () => {
  test("first messages sent at once from one process (the daemon's calls) make one session, all readable", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    const sent = Array.from({ length: 8 }, (_, i) => `m${i}`);
    await Promise.all(sent.map((t) => a.send(b.uid, t)));
    expect(listSessions(a.state(), b.uid).length).toBe(1);
    const got = (await b.history(a.uid)).map((m) => m.body);
    expect(b.skippedLast).toBe(0);
    expect(got.sort()).toEqual([...sent].sort());
  });

  test("first contact is v3 both ways; history outlives the relay's copy", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    await a.send(b.uid, "hello bob");
    expect(a.contact(b.uid).protocol).toBe(3);
    expect(await texts(b, a.uid)).toEqual(["<hello bob·v3"]);
    expect(b.contact(a.uid).protocol).toBe(3);
    await b.send(a.uid, "hi alice");
    await a.send(b.uid, "second");
    expect(await texts(a, b.uid)).toEqual([">hello bob·v3", "<hi alice·v3", ">second·v3"]);
    expect(await texts(b, a.uid)).toEqual(["<hello bob·v3", ">hi alice·v3", "<second·v3"]);
    // Read again: shown from history (a message key works once).
    expect(await texts(b, a.uid)).toEqual(["<hello bob·v3", ">hi alice·v3", "<second·v3"]);
    await a.burn(b.uid);
    expect(await texts(b, a.uid)).toEqual(["<hello bob·v3", ">hi alice·v3", "<second·v3"]);
    expect(listHistory(b.state(), a.uid)).toHaveLength(3);
    a.close();
    b.close();
  });

  test("no bundle → v2 with a warning, asked again after an hour; require-v3 refuses", async () => {
    const warnings: string[] = [];
    const a = await user({ onWarning: (m) => warnings.push(m) });
    const b = await user();
    await pair(a, b);
    await (await b.relay()).publishPrekeys({ clear: true });
    await a.send(b.uid, "plain");
    expect(a.contact(b.uid).protocol).toBe(2);
    expect(warnings.join("\n")).toContain("sent without forward secrecy (protocol v2)");
    expect(await texts(b, a.uid)).toEqual(["<plain·v2"]);
    // Within the hour the bundle is not asked for again, even once it is back.
    await b.maintainBundle(await b.relay(), true);
    await a.send(b.uid, "still v2");
    expect(a.contact(b.uid).protocol).toBe(2);
    a.mutate((bk) => void (bk[b.uid]!.v3_checked = Math.floor(Date.now() / 1000) - 3601));
    await a.send(b.uid, "now v3");
    expect(a.contact(b.uid).protocol).toBe(3);
    expect(await texts(b, a.uid)).toEqual(["<plain·v2", "<still v2·v2", "<now v3·v3"]);
    a.close();
    b.close();
  });

  test("require-v3 refuses a contact without a bundle; a pinned contact is never sent v2", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    await (await b.relay()).publishPrekeys({ clear: true });
    a.settings.requireV3 = true;
    expect((await rejectionOf(a.send(b.uid, "x"))).message).toContain("require-v3 is on");
    a.settings.requireV3 = false;
    // Pinned, then its sessions lost and no bundle: refused, not downgraded.
    const c = await user();
    await pair(a, c);
    await a.send(c.uid, "v3 once");
    expect(a.contact(c.uid).protocol).toBe(3);
    expect(listSessions(a.state(), c.uid)).toHaveLength(1);
    a.state().tx(() => a.state().db.query("DELETE FROM sessions").run());
    await (await c.relay()).publishPrekeys({ clear: true });
    expect((await rejectionOf(a.send(c.uid, "x"))).message).toContain("uses protocol v3");
    a.close();
    b.close();
    c.close();
  });

  test("simultaneous first contact: both sides hold both sessions and keep working", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    // Both send before either reads: each starts its own session from the other's bundle.
    await a.send(b.uid, "a1");
    await b.send(a.uid, "b1");
    expect(await texts(a, b.uid)).toEqual([">a1·v3", "<b1·v3"]);
    expect(await texts(b, a.uid)).toEqual(["<a1·v3", ">b1·v3"]);
    expect(listSessions(a.state(), b.uid)).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      await a.send(b.uid, `a${i + 2}`);
      await b.send(a.uid, `b${i + 2}`);
    }
    const want = ["a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"];
    expect((await a.history(b.uid)).map((m) => m.body)).toEqual(want);
    expect((await b.history(a.uid)).map((m) => m.body)).toEqual(want);
    a.close();
    b.close();
  });

  test("20 prekey messages without an answer: the user is told to compare the safety code, once", async () => {
    const warnings: string[] = [];
    const a = await user({ onWarning: (m) => warnings.push(m) });
    const b = await user();
    await pair(a, b);
    for (let i = 0; i < 19; i++) await a.send(b.uid, `m${i}`);
    expect(warnings.filter((w) => w.includes("has not answered"))).toEqual([]);
    await a.send(b.uid, "m19");
    await a.send(b.uid, "m20");
    expect(warnings.filter((w) => w.includes("has not answered"))).toHaveLength(1);
    a.close();
    b.close();
  });

  test("a file in a v3 conversation is a §V9 blob; get saves it", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    const dir = join(root, "files");
    mkdirSync(dir, { recursive: true });
    const data = new Uint8Array(200_001).map((_, i) => (i * 7) % 256);
    writeFileSync(join(dir, "data.bin"), data);
    const sent = await a.sendFile(b.uid, join(dir, "data.bin"));
    expect(sent).toMatchObject({ n: 1, name: "data.bin", size: data.length });
    const got = await b.history(a.uid);
    expect(got.map((m) => [m.body, m.protocol, m.file?.n])).toEqual([["data.bin", 3, 1]]);
    const out = await b.getFile(a.uid, 1, join(dir, "out.bin"));
    expect(new Uint8Array(readFileSync(out))).toEqual(data);
    // The sender's own copy of the announcement is in its history: it can fetch the blob too.
    const again = await a.getFile(b.uid, 1, join(dir, "again.bin"));
    expect(new Uint8Array(readFileSync(again))).toEqual(data);
    a.close();
    b.close();
  });

  test("listen delivers from history what its cursor has not passed and the relay no longer has", async () => {
    const a = await user();
    const b = await user();
    await pair(a, b);
    await a.send(b.uid, "one");
    await a.send(b.uid, "two");
    expect((await b.history(a.uid)).map((m) => m.body)).toEqual(["one", "two"]); // another process read them
    await a.burn(b.uid); // the relay's copies are gone; bob's history keeps them
    const got: string[] = [];
    const ac = new AbortController();
    const run = b.listen(
      {
        message: (_peer, m) => {
          got.push(m.body);
        },
      },
      { signal: ac.signal, cursor: true, onReady: () => ac.abort() },
    );
    await run;
    expect(got).toEqual(["one", "two"]);
    const again: string[] = [];
    const ac2 = new AbortController();
    await b.listen((_p, m) => void again.push(m.body), {
      signal: ac2.signal,
      cursor: true,
      onReady: () => ac2.abort(),
    });
    expect(again).toEqual([]);
    a.close();
    b.close();
  });
});
