// A relay must not make an old message look new: it can store the same ciphertext again (with a
// new ts). The message id is the hash of the ciphertext, and the ids already shown are kept in
// seen.json: the repeat is shown once, at its first place, by listen and by read.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { nextJson, ok, startListen } from "./helpers/cli.ts";
import { cliUser, peerOf, restOf } from "./helpers/listen-world.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(120_000);

let relay: RunningRelay;
let root: string;

beforeAll(async () => {
  relay = await startRelay();
  root = tempDir("phantom-listen-replay-");
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

test("the same ciphertext stored again with a new ts: listen prints it once, read shows it once", async () => {
  const bob = await cliUser(join(root, "bob"), relay.url);
  const alice = await peerOf(relay.url, bob);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", alice.user.uid]);
  const original = await alice.send("transfer the 500 EUR now");
  let l = await startListen(bob.env);
  expect(await nextJson(l.out, "the original")).toMatchObject({ ts: original.ts, body: "transfer the 500 EUR now" });
  await alice.send("thanks");
  expect(await nextJson(l.out, "thanks")).toMatchObject({ body: "thanks" });
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });

  // The relay's clock moves on a second, so the repeat gets a later ts than the original.
  while (Math.floor(Date.now() / 1000) <= original.ts) await Bun.sleep(50);
  l = await startListen(bob.env);
  try {
    // The same bytes POSTed again (PROTOCOL §7.6): a new row, ts and seq, pushed live.
    const again = await alice.relay.send(alice.roomId, original.ciphertext);
    expect(again).toBeGreaterThan(original.ts);
    await alice.send("after the repeat");
    expect(await nextJson(l.out, "the next new message")).toMatchObject({ body: "after the repeat" });
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });
  const stored = await alice.relay.fetch(alice.roomId, { limit: 200 });
  expect(stored.filter((r) => r.ciphertext === original.ciphertext).length).toBe(2);

  const read = (await ok(bob, ["read", alice.user.uid, "--json"])).json();
  expect(read.map((m) => [m.ts, m.body])).toEqual([
    [original.ts, "transfer the 500 EUR now"],
    [expect.any(Number), "thanks"],
    [expect.any(Number), "after the repeat"],
  ]);
});

test("read shows a repeat once at its first place, also before anything was listened to", async () => {
  const bob = await cliUser(join(root, "bob2"), relay.url);
  const alice = await peerOf(relay.url, bob);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", alice.user.uid]);
  const original = await alice.send("pay me");
  while (Math.floor(Date.now() / 1000) <= original.ts) await Bun.sleep(50);
  await alice.relay.send(alice.roomId, original.ciphertext);
  const read = (await ok(bob, ["read", alice.user.uid, "--json"])).json();
  expect(read.map((m) => [m.ts, m.body])).toEqual([[original.ts, "pay me"]]);
  // listen's backlog shows it once too.
  const l = await startListen(bob.env);
  try {
    expect(await nextJson(l.out, "the backlog")).toMatchObject({ ts: original.ts, body: "pay me" });
    await alice.send("next");
    expect(await nextJson(l.out, "next")).toMatchObject({ body: "next" });
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });
});
