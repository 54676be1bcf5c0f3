// End to end with the compiled binaries: who can become a contact. A key-exchange notice from
// someone unknown is a contact request (not a contact); its messages are held until it is
// accepted (`accept`, or `add`); `block`/`unblock` for requests, contacts and any UID; many
// throwaway identities give requests, no contacts and no live sockets; at most 200 are kept.
import { LISTEN_POLL_MS } from "../client/core/receive.ts";
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pairKeys } from "../lib/crypto.ts";
import { Transport } from "../lib/transport.ts";
import { RelayClient } from "../client/net/relay-client.ts";
import {
  expectOneLineError,
  nextJson,
  nextMessage,
  ok,
  phantom,
  startListen,
  type User,
  userEnv,
} from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { makeUser, register } from "./helpers/signer.ts";

setDefaultTimeout(120_000); // scrypt is ~0.5 s per command

let relay: RunningRelay;
const root = tempDir("phantom-requests-");

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let worlds = 0;
async function users<N extends string[]>(...names: N): Promise<{ [K in keyof N]: User }> {
  const dir = join(root, `w${++worlds}`);
  mkdirSync(dir);
  return (await Promise.all(
    names.map(async (n) => {
      const u = { home: join(dir, n), env: userEnv(join(dir, n), relay.url) } as User;
      u.uid = (await ok(u, ["init", "--json"])).json()[0]!.uid as string;
      return u;
    }),
  )) as { [K in keyof N]: User };
}

/** A throwaway identity, registered, that pushed a key-exchange notice to `to` (PROTOCOL §7.4). */
async function throwaway(toUid: string): Promise<string> {
  const m = makeUser();
  expect((await register(relay.url, m)).status).toBe(200);
  const client = new RelayClient({ baseUrl: relay.url, transport: new Transport({ via: "direct" }), signer: m });
  const { roomId } = pairKeys(m, (await client.pubkey(toUid))!);
  await client.kePush({ from_uid: m.uid, to_uid: toUid, pub_key: m.pubB64, room_id: roomId });
  return m.uid;
}

async function throwaways(toUid: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, () => throwaway(toUid));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Live-socket upgrades (PROTOCOL §7.9) the relay logged so far. */
function upgrades(): number {
  return relay.logs.filter((l) => /^GET \/ws\/\S+ 101 /.test(l)).length;
}

test("someone who adds you is a request, not a contact; their messages are held until you accept", async () => {
  const [alice, bob] = await users("alice", "bob");
  const aliceFp = (await ok(alice, ["whoami", "--json"])).json()[0]!.fingerprint as string;
  await ok(alice, ["add", bob.uid, "--nick", "bob"]);
  await ok(alice, ["send", "bob", "hello, it is alice"]);

  expect((await ok(bob, ["contacts", "--json"])).json()).toEqual([]);
  const human = (await ok(bob, ["contacts"])).stdout;
  expect(human).toContain("1 contact request(s) waiting: phantom contacts --requests");
  const reqs = (await ok(bob, ["contacts", "--requests", "--json"])).json();
  expect(reqs).toEqual([
    { uid: alice.uid, fingerprint: aliceFp, first_seen: expect.any(Number), room_id: expect.any(String) },
  ]);
  const shown = (await ok(bob, ["contacts", "--requests"])).stdout;
  expect(shown).toContain(aliceFp);
  expect(shown).toContain(`phantom accept ${alice.uid}`);
  expect(shown).toContain("wait on the relay for 7 day(s)");

  for (const args of [
    ["read", alice.uid],
    ["send", alice.uid, "hi"],
  ]) {
    const err = expectOneLineError(await phantom(bob.env, args));
    expect(err).toContain("accept first");
    expect(err).toContain(`phantom accept ${alice.uid}`);
  }

  const accepted = (await ok(bob, ["accept", alice.uid, "--json"])).json();
  expect(accepted).toEqual([{ uid: alice.uid, nickname: null, fingerprint: aliceFp, verified: false }]);
  expect((await ok(bob, ["contacts", "--json"])).json()).toMatchObject([{ uid: alice.uid, new: true }]);
  expect((await ok(bob, ["contacts", "--requests", "--json"])).json()).toEqual([]);
  const held = (await ok(bob, ["read", alice.uid, "--json"])).json();
  expect(held.map((m) => [m.from, m.body])).toEqual([[alice.uid, "hello, it is alice"]]);
  await ok(bob, ["send", alice.uid, "hi alice"]);
  expect((await ok(alice, ["read", "bob", "--json"])).json().map((m) => m.body)).toEqual([
    "hello, it is alice",
    "hi alice",
  ]);
  expect(expectOneLineError(await phantom(bob.env, ["accept", alice.uid]))).toContain("already a contact");
});

test("adding someone who asked accepts the request; accept of a UID that did not ask is an error", async () => {
  const [alice, bob, carol] = await users("alice", "bob", "carol");
  await ok(alice, ["add", bob.uid]);
  await ok(alice, ["send", bob.uid, "first"]);
  expect((await ok(bob, ["contacts", "--requests", "--json"])).json()).toMatchObject([{ uid: alice.uid }]);
  await ok(bob, ["add", alice.uid, "--nick", "alice"]);
  expect((await ok(bob, ["contacts", "--requests", "--json"])).json()).toEqual([]);
  expect((await ok(bob, ["read", "alice", "--json"])).json().map((m) => m.body)).toEqual(["first"]);
  expect(expectOneLineError(await phantom(bob.env, ["accept", carol.uid]))).toContain("no contact request from");
  expect(expectOneLineError(await phantom(bob.env, ["accept", "nope"]))).toContain("not a UID");
});

test("block drops a request and its later notices; unblock gives it back; blocking a contact keeps its record", async () => {
  const [alice, bob] = await users("alice", "bob");
  await ok(alice, ["add", bob.uid]);
  await ok(bob, ["contacts"]); // the request is stored
  const b = (await ok(bob, ["block", alice.uid, "--json"])).json();
  expect(b).toEqual([{ uid: alice.uid, blocked: true, was: "request" }]);
  await ok(alice, ["add", bob.uid]); // a new notice (§7.4 replaces the old one)
  expect((await ok(bob, ["contacts", "--requests", "--json"])).json()).toEqual([]);
  expect((await ok(bob, ["contacts", "--json"])).json()).toEqual([]);
  expect((await ok(bob, ["contacts", "--blocked", "--json"])).json()).toMatchObject([{ uid: alice.uid }]);
  for (const args of [
    ["read", alice.uid],
    ["send", alice.uid, "x"],
    ["accept", alice.uid],
    ["add", alice.uid],
  ]) {
    expect(expectOneLineError(await phantom(bob.env, args))).toContain(`phantom unblock ${alice.uid}`);
  }
  expect((await ok(bob, ["unblock", alice.uid, "--json"])).json()).toEqual([
    { uid: alice.uid, blocked: false, now: "request" },
  ]);
  await ok(bob, ["accept", alice.uid]);
  await ok(bob, ["nick", alice.uid, "alice"]);
  await ok(bob, ["verify", "alice"]);
  expect((await ok(bob, ["block", "alice", "--json"])).json()).toEqual([
    { uid: alice.uid, blocked: true, was: "contact" },
  ]);
  expect((await ok(bob, ["contacts", "--json"])).json()).toEqual([]);
  await ok(alice, ["send", bob.uid, "are you there?"]);
  expect(expectOneLineError(await phantom(bob.env, ["read", "alice"]))).toContain("unknown contact");
  expect(expectOneLineError(await phantom(bob.env, ["read", alice.uid]))).toContain("blocked");
  await ok(bob, ["unblock", alice.uid]);
  expect((await ok(bob, ["contacts", "--json"])).json()).toMatchObject([
    { uid: alice.uid, nickname: "alice", verified: true },
  ]);
  expect((await ok(bob, ["read", "alice", "--json"])).json().map((m) => m.body)).toEqual(["are you there?"]);
  const never = makeUser();
  expect((await ok(bob, ["block", never.uid, "--json"])).json()).toEqual([
    { uid: never.uid, blocked: true, was: "unknown" },
  ]);
  expect(expectOneLineError(await phantom(bob.env, ["unblock", alice.uid]))).toContain("is not blocked");
});

test("listen: a request's messages are not delivered; once accepted (by another process) they are, once", async () => {
  const [alice, bob] = await users("alice", "bob");
  const l = await startListen(bob.env);
  try {
    await ok(alice, ["add", bob.uid]);
    await ok(alice, ["send", bob.uid, "held until accepted"]);
    // Whichever process reads the inbox first stores the request; accept once it is there.
    const deadline = Date.now() + 45_000;
    while ((await ok(bob, ["contacts", "--requests", "--json"])).json().length === 0) {
      if (Date.now() > deadline) throw new Error("no contact request from alice within 45 s");
      await Bun.sleep(200);
    }
    await ok(bob, ["accept", alice.uid]);
    await ok(alice, ["send", bob.uid, "after the accept"]);
    // Event lines (the request, if listen read the inbox first; alice becoming a contact) are
    // collected apart; the messages come in order, each once.
    const events: Record<string, unknown>[] = [];
    const next = () => nextMessage(l.out, "a message", events, 45_000);
    expect(await next()).toMatchObject({ from: alice.uid, body: "held until accepted" });
    expect(await next()).toMatchObject({ from: alice.uid, body: "after the accept" });
    await ok(alice, ["send", bob.uid, "last"]);
    expect(await next()).toMatchObject({ from: alice.uid, body: "last" }); // nothing twice before it
    expect(events.filter((e) => e.event === "contact")).toEqual([{ event: "contact", uid: alice.uid, nick: null }]);
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await l.proc.exited).toBe(0);
});

test("listen --json says when someone asks to be a contact", async () => {
  const [alice, bob] = await users("alice", "bob");
  const l = await startListen(bob.env);
  try {
    await ok(alice, ["add", bob.uid]);
    const line = await nextJson(l.out, "the request", 45_000);
    expect(line).toEqual({
      event: "request",
      uid: alice.uid,
      fingerprint: expect.stringMatching(/\S/),
      first_seen: expect.any(Number),
    });
    const reqs = (await ok(bob, ["contacts", "--requests", "--json"])).json();
    expect(reqs.map((q) => q.uid)).toEqual([alice.uid]);
    expect(reqs[0]!.fingerprint).toBe(line.fingerprint);
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await l.proc.exited).toBe(0);
});

test("a contact blocked by another process while listen runs: listen stops delivering their messages", async () => {
  const [alice, carol, bob] = await users("alice", "carol", "bob");
  for (const peer of [alice, carol]) await ok(peer, ["add", bob.uid]);
  await ok(bob, ["contacts"]);
  for (const peer of [alice, carol]) await ok(bob, ["accept", peer.uid]);
  const l = await startListen(bob.env);
  const next = () => nextMessage(l.out, "a message", [], 45_000);
  try {
    await ok(alice, ["send", bob.uid, "before the block"]);
    expect(await next()).toMatchObject({ from: alice.uid, body: "before the block" });
    await ok(bob, ["block", alice.uid]);
    // One poll later listen no longer follows alice; carol's message after hers shows it.
    await Bun.sleep(LISTEN_POLL_MS + 2000);
    await ok(alice, ["send", bob.uid, "after the block"]);
    await ok(carol, ["send", bob.uid, "from carol"]);
    expect(await next()).toMatchObject({ from: carol.uid, body: "from carol" });
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await l.proc.exited).toBe(0);
});

test("50 throwaway identities: 0 contacts, 50 requests, listen opens no socket for them; 201 keep 200 with a warning", async () => {
  const [alice, bob] = await users("alice", "bob");
  await ok(alice, ["add", bob.uid]);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", alice.uid]); // one real contact
  const first = await throwaways(bob.uid, 50);
  expect((await ok(bob, ["contacts", "--json"])).json().map((c) => c.uid)).toEqual([alice.uid]);
  const reqs = (await ok(bob, ["contacts", "--requests", "--json"])).json();
  expect(reqs.map((r) => r.uid).sort()).toEqual([...first].sort());

  const before = upgrades();
  const l = await startListen(bob.env);
  l.proc.kill("SIGINT");
  expect(await l.proc.exited).toBe(0);
  expect(upgrades() - before).toBe(1); // alice's room only

  const more = await throwaways(bob.uid, 151);
  const r = await ok(bob, ["contacts", "--requests", "--json"]);
  expect(r.stderr).toContain("1 older contact request(s) were dropped: at most 200 are kept");
  const kept = r.json().map((x) => x.uid as string);
  expect(kept.length).toBe(200);
  // The oldest is dropped: one of the first 50, seen before the 151 (the earliest first_seen, ties by UID;
  // a running daemon may have read them over two of its inbox polls).
  const byAge = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Number(a.first_seen) - Number(b.first_seen) || (String(a.uid) < String(b.uid) ? -1 : 1);
  const oldest = String([...reqs].sort(byAge)[0]!.uid);
  expect(kept.sort()).toEqual([...first, ...more].filter((u) => u !== oldest).sort());
  expect((await ok(bob, ["contacts", "--json"])).json().map((c) => c.uid)).toEqual([alice.uid]);
});
