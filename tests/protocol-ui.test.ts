// End to end with the compiled binaries: what `contacts`, `whoami`, `verify` and `read` say about
// a conversation's protocol (PROTOCOL-v3 §V1) and the v3 safety code (§V2.1). The v3 pins are
// written into each home's state.db the way the client stores them (protocol 3, v3_sign_pub).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { updateContacts } from "../client/state/contacts.ts";
import { ok, PASSWORD, type User, userEnv } from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { withHomeState } from "./helpers/state.ts";

setDefaultTimeout(60_000);

let relay: RunningRelay;
let v2Relay: RunningRelay;
const root = tempDir("phantom-protocol-ui-");

beforeAll(async () => {
  relay = await startRelay();
  // No --public-url and not on loopback only: the relay offers v2 alone (§V11).
  v2Relay = await startRelay({ args: ["--host", "0.0.0.0"] });
});

afterAll(async () => {
  for (const r of [relay, v2Relay]) {
    await r?.stop();
    r?.cleanup();
  }
  rmSync(root, { recursive: true, force: true });
});

let worlds = 0;

/** Alice and bob on `relayUrl`, each the other's contact ("bob", "alice"). */
async function pair(relayUrl: string) {
  const dir = join(root, `w${++worlds}`);
  mkdirSync(dir);
  const user = (name: string) => ({ home: join(dir, name), env: userEnv(join(dir, name), relayUrl) }) as User;
  const alice = user("alice");
  const bob = user("bob");
  alice.uid = (await ok(alice, ["init", "--json"])).json()[0]!.uid as string;
  bob.uid = (await ok(bob, ["init", "--json"])).json()[0]!.uid as string;
  await ok(alice, ["add", bob.uid, "--nick", "bob"]);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", alice.uid]);
  await ok(bob, ["nick", alice.uid, "alice"]);
  return { alice, bob };
}

test("v3 contacts: contacts says forward-secret, verify shows the same safety code on both sides", async () => {
  const { alice, bob } = await pair(relay.url);
  expect((await ok(alice, ["whoami", "--json"])).json()[0]!.protocols).toEqual([2, 3]);
  // Before any pin: v2, and why.
  expect((await ok(alice, ["contacts", "--json"])).json()[0]).toMatchObject({ uid: bob.uid, protocol: 2 });
  expect((await ok(alice, ["contacts"])).stdout).toContain(
    "    protocol:    v2 · not forward-secret (v3 is tried at the first message)\n",
  );
  expect((await ok(alice, ["verify", "bob", "--json"])).json()[0]!.safety_code).toBeNull();

  // The first message goes v3 by itself (bob's bundle) and pins both sides (PROTOCOL-v3 §V1).
  await ok(alice, ["send", "bob", "hello in v3"]);
  expect((await ok(bob, ["read", "alice", "--json"])).json()).toEqual([
    { ts: expect.any(Number), from: alice.uid, body: "hello in v3", protocol: 3 },
  ]);
  expect((await ok(alice, ["contacts", "--json"])).json()[0]).toMatchObject({ uid: bob.uid, protocol: 3 });
  expect((await ok(bob, ["contacts", "--json"])).json()[0]).toMatchObject({ uid: alice.uid, protocol: 3 });
  expect((await ok(alice, ["whoami", "--json"])).json()[0]!.conversations).toEqual([{ uid: bob.uid, protocol: 3 }]);
  expect((await ok(alice, ["whoami"])).stdout).toContain("protocol:    v3 · forward-secret with 1 of 1 contacts");
  expect((await ok(alice, ["contacts"])).stdout).toContain("    protocol:    v3 · forward-secret\n");

  const human = (await ok(alice, ["verify", "bob"])).stdout.split("\n");
  expect(human[0]).toBe(`Safety code (compare with bob (${bob.uid}); they see the same):`);
  expect(human[1]).toMatch(/^ {2}[A-Z2-7]{5}( [A-Z2-7]{5}){7}$/);
  expect(human.join("\n")).not.toContain("fingerprint");
  const theirs = (await ok(bob, ["verify", "alice", "--json"])).json()[0]!;
  expect(theirs).toMatchObject({ uid: alice.uid, verified: true });
  expect(theirs.safety_code).toBe(human[1]!.trim());
});

test("why a conversation is v2: a bundle request that found none; a relay without v3", async () => {
  const { alice, bob } = await pair(relay.url);
  await withHomeState(alice.home, PASSWORD, () =>
    updateContacts(alice.home, (b) => void (b[bob.uid]!.v3_checked = Math.floor(Date.now() / 1000))),
  );
  expect((await ok(alice, ["contacts"])).stdout).toContain(
    "    protocol:    v2 · not forward-secret (peer uses Phantom 2.2 or has not published a v3 key bundle)\n",
  );

  const old = await pair(`http://127.0.0.1:${v2Relay.port}`); // loopback: no Tor question
  expect((await ok(old.alice, ["contacts"])).stdout).toContain(
    "    protocol:    v2 · not forward-secret (the relay does not offer protocol v3)\n",
  );
  await ok(old.alice, ["send", "bob", "hello in v2"]);
  const read = (await ok(old.bob, ["read", "alice", "--json"])).json();
  expect(read).toEqual([{ ts: expect.any(Number), from: old.alice.uid, body: "hello in v2", protocol: 2 }]);
});
