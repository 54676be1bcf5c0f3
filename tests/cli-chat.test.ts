// End to end with the compiled binaries: two users (separate homes, no terminal,
// PHANTOM_PASSWORD) on a real relay: init, add, chat both ways, files (and a
// hostile sender), listen, key change after verify, burn, remove, panic.
// Every command here runs without a terminal and every --json line must parse.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { relayRowCount } from "./helpers/relay-rows.ts";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encryptFile, encryptMessage, fingerprintOf, pairKeys, randomBytes } from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { Transport } from "../lib/transport.ts";
import { encodeEnvelope, encodeFileMessage } from "../lib/wire.ts";
import { RelayClient } from "../client/net/relay-client.ts";
import { updateContacts } from "../client/state/contacts.ts";
import { expectOneLineError, nextJson, ok, PASSWORD, phantom, startListen, type User, userEnv } from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { makeUser, register } from "./helpers/signer.ts";
import { withHomeState } from "./helpers/state.ts";

setDefaultTimeout(60_000); // bunfig's [test] timeout is not applied by this Bun; scrypt is ~0.5 s per command

let relay: RunningRelay;
const root = tempDir("phantom-cli-chat-");

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

// Each test has its own users (fresh identities, so their rooms on the shared relay are their
// own) and its own folder, and brings them to the state it starts from.
let worlds = 0;

/** Alice and bob with homes in a folder of their own, no identity yet. */
function people() {
  const dir = join(root, `w${++worlds}`);
  mkdirSync(dir);
  const alice = { home: join(dir, "alice"), env: userEnv(join(dir, "alice"), relay.url) } as User;
  const bob = { home: join(dir, "bob"), env: userEnv(join(dir, "bob"), relay.url) } as User;
  return { dir, alice, bob };
}

/** people() after `phantom init`, registered with the relay. */
async function initialized() {
  const p = people();
  const [a, b] = await Promise.all([ok(p.alice, ["init", "--json"]), ok(p.bob, ["init", "--json"])]);
  p.alice.uid = a.json()[0]!.uid as string;
  p.bob.uid = b.json()[0]!.uid as string;
  return p;
}

/** initialized(), then alice added bob as "bob"; bob learned alice from his inbox and named her "alice". */
async function introduced() {
  const p = await initialized();
  await ok(p.alice, ["add", p.bob.uid, "--nick", "bob"]);
  await ok(p.bob, ["contacts"]);
  await ok(p.bob, ["accept", p.alice.uid]); // accept step: someone who adds you is a contact request
  await ok(p.bob, ["nick", p.alice.uid, "alice"]);
  return p;
}

/** A registered user who opened a room with `to` by key exchange (§7.4), as in the hostile-sender test. */
async function strangerWritingTo(to: User) {
  const mallory = makeUser();
  expect((await register(relay.url, mallory)).status).toBe(200);
  const client = new RelayClient({ baseUrl: relay.url, transport: new Transport({ via: "direct" }), signer: mallory });
  const { roomId } = pairKeys(mallory, (await client.pubkey(to.uid))!);
  await client.kePush({ from_uid: mallory.uid, to_uid: to.uid, pub_key: mallory.pubB64, room_id: roomId });
  return mallory;
}

test("init both users: identity 0600 in a 0700 home, registered; whoami --json", async () => {
  const { alice, bob } = people();
  const a = await ok(alice, ["init"]);
  expect(a.stdout).toMatch(/uid: +[A-Za-z0-9_-]{28}\n/);
  alice.uid = /uid: +([A-Za-z0-9_-]{28})/.exec(a.stdout)![1]!;
  const b = (await ok(bob, ["init", "--json"])).json();
  bob.uid = b[0]!.uid as string;
  expect(statSync(alice.home).mode & 0o777).toBe(0o700);
  expect(statSync(join(alice.home, "identity.json")).mode & 0o777).toBe(0o600);
  expect(expectOneLineError(await phantom(alice.env, ["init"]))).toContain("already exists");
  const who = (await ok(alice, ["whoami", "--json"])).json();
  expect(who).toEqual([
    {
      uid: alice.uid,
      fingerprint: expect.any(String),
      relay: relay.url,
      tor: false,
      protocols: [2, 3],
      conversations: [],
    },
  ]);
  const bad = await phantom({ ...alice.env, PHANTOM_PASSWORD: "wrong password!" }, ["whoami"]);
  expect(expectOneLineError(bad)).toBe("wrong password");
});

test("a UID that begins with '-' is a UID, not an option (add, send, read, verify)", async () => {
  const { alice } = await initialized();
  let dashed = makeUser();
  while (!dashed.uid.startsWith("-")) dashed = makeUser(); // 1 in 64 UIDs; the b64u alphabet has "-"
  expect((await register(relay.url, dashed)).status).toBe(200);
  const added = (await ok(alice, ["add", dashed.uid, "--json"])).json();
  expect(added).toEqual([{ uid: dashed.uid, nickname: null, fingerprint: expect.any(String), verified: false }]);
  await ok(alice, ["send", dashed.uid, "hi"]);
  expect((await ok(alice, ["read", dashed.uid, "--json"])).json()).toMatchObject([{ from: alice.uid, body: "hi" }]);
  await ok(alice, ["verify", dashed.uid]);
  await ok(alice, ["remove", dashed.uid, "--yes"]);
});

test("add by UID; the other side sees a new contact; chat both ways, text and stdin", async () => {
  const { alice, bob } = await initialized();
  const added = (await ok(alice, ["add", bob.uid, "--nick", "bob", "--json"])).json();
  expect(added).toEqual([{ uid: bob.uid, nickname: "bob", fingerprint: expect.any(String), verified: false }]);
  await ok(bob, ["accept", alice.uid]); // accept step: someone who adds you is a contact request
  const seen = (await ok(bob, ["contacts", "--json"])).json();
  expect(seen).toEqual([
    {
      uid: alice.uid,
      nickname: null,
      fingerprint: expect.any(String),
      verified: false,
      key_changed: false,
      new: true,
      protocol: 2,
    },
  ]);
  await ok(bob, ["nick", alice.uid, "alice"]);
  await ok(alice, ["send", "bob", "hello", "bob"]);
  await ok(bob, ["send", "alice"], { stdin: "line one\nline two \u00e9\n" });
  for (const [u, peer] of [
    [alice, "bob"],
    [bob, "alice"],
  ] as const) {
    const msgs = (await ok(u, ["read", peer, "--json"])).json();
    expect(msgs.map((m) => [m.from, m.body])).toEqual([
      [alice.uid, "hello bob"],
      [bob.uid, "line one\nline two \u00e9"],
    ]);
    for (const m of msgs) expect(Object.keys(m).sort()).toEqual(["body", "from", "protocol", "ts"]);
  }
  const human = await ok(bob, ["read", "alice"]);
  expect(human.stdout).toContain("alice: hello bob");
  expect(human.stdout).toContain("me: line one");
});

describe("files", () => {
  const data = randomBytes(150_000);

  test("send --file; read numbers it; get into a folder, a file path, the current folder", async () => {
    const { dir, alice, bob } = await introduced();
    const src = join(dir, "src");
    const dl = join(dir, "dl");
    mkdirSync(src);
    mkdirSync(dl);
    writeFileSync(join(src, "report.pdf"), data);
    const sent = (await ok(alice, ["send", "bob", "--file", join(src, "report.pdf"), "--json"])).json();
    expect(sent).toEqual([
      { ts: expect.any(Number), file: { n: 1, name: "report.pdf", size: data.length, mime: "application/pdf" } },
    ]);
    const last = (await ok(bob, ["read", "alice", "--json", "--limit", "1"])).json();
    expect(last).toEqual([
      {
        ts: sent[0]!.ts, // the announcement's ts, as the relay stored it
        from: alice.uid,
        body: "report.pdf",
        file: { n: 1, name: "report.pdf", size: data.length, mime: "application/pdf" },
        protocol: 3,
      },
    ]);
    expect((await ok(bob, ["get", "alice", "1", dl, "--json"])).json()).toEqual([{ path: join(dl, "report.pdf") }]);
    expect(Buffer.from(readFileSync(join(dl, "report.pdf"))).equals(data)).toBe(true);
    await ok(bob, ["get", "alice", "1", join(dl, "copy.bin")]);
    expect(Buffer.from(readFileSync(join(dl, "copy.bin"))).equals(data)).toBe(true);
    const cwd = join(dir, "cwd");
    mkdirSync(cwd);
    await ok(bob, ["get", "alice", "1"], { cwd });
    expect(readdirSync(cwd)).toEqual(["report.pdf"]);
  });

  test("an existing file is never overwritten without --force", async () => {
    // As the test above leaves it: alice sent report.pdf as file 1, bob saved it in dl.
    const { dir, alice, bob } = await introduced();
    const dl = join(dir, "dl");
    mkdirSync(dl);
    writeFileSync(join(dir, "report.pdf"), data);
    await ok(alice, ["send", "bob", "--file", join(dir, "report.pdf")]);
    await ok(bob, ["get", "alice", "1", dl]);
    writeFileSync(join(dl, "report.pdf"), "mine");
    expect(expectOneLineError(await phantom(bob.env, ["get", "alice", "1", dl]))).toContain("--force");
    expect(readFileSync(join(dl, "report.pdf"), "utf8")).toBe("mine");
    await ok(bob, ["get", "alice", "1", dl, "--force"]);
    expect(Buffer.from(readFileSync(join(dl, "report.pdf"))).equals(data)).toBe(true);
    expect(expectOneLineError(await phantom(bob.env, ["get", "alice", "7", dl]))).toContain("no file 7");
  });

  test("hostile sender: name ../../x, a foreign URL host, a forged sender, garbage", async () => {
    const { dir, alice, bob } = await initialized();
    const mallory = makeUser();
    // Mallory is a real user speaking the protocol with the real relay client, not a mock.
    expect((await register(relay.url, mallory)).status).toBe(200);
    const client = new RelayClient({
      baseUrl: relay.url,
      transport: new Transport({ via: "direct" }),
      signer: mallory,
    });
    const bobPub = (await client.pubkey(bob.uid))!;
    const { roomId, sessionKey } = pairKeys(mallory, bobPub);
    await client.kePush({ from_uid: mallory.uid, to_uid: bob.uid, pub_key: mallory.pubB64, room_id: roomId });
    const [key, nonce] = [randomBytes(32), randomBytes(12)];
    const blob = encryptFile(key, nonce, new TextEncoder().encode("payload"));
    const up = await client.upload(roomId, blob);
    const announce = encodeFileMessage({
      type: "file",
      name: "../../x",
      size: 7,
      cipher_size: blob.length,
      mime: "text/plain",
      url: `http://evil.invalid:1${up.url}`, // PROTOCOL §5.3: only the path is used, on bob's own relay
      key: b64encode(key),
      nonce: b64encode(nonce),
    });
    await client.send(roomId, encryptMessage(sessionKey, encodeEnvelope(mallory.uid, announce)));
    await client.send(roomId, encryptMessage(sessionKey, encodeEnvelope(alice.uid, "this is alice, honest")));
    await client.send(roomId, encryptMessage(randomBytes(32), encodeEnvelope(mallory.uid, "wrong key")));
    await client.send(
      roomId,
      encryptMessage(sessionKey, encodeEnvelope(mallory.uid, "hi \u001b]0;pwned\u0007\u001b[2J")),
    );

    await ok(bob, ["accept", mallory.uid]); // accept step: someone who adds you is a contact request
    const r = await ok(bob, ["read", mallory.uid, "--json"]);
    expect(r.json().map((m) => [m.from, m.body])).toEqual([
      [mallory.uid, "x"],
      [mallory.uid, "hi \u001b]0;pwned\u0007\u001b[2J"],
    ]);
    expect(r.stderr).toContain("phantom: warning: 2 message(s)");
    // On a terminal, a peer's control characters are shown, never acted on.
    const human = await ok(bob, ["read", mallory.uid]);
    expect(human.stdout).not.toContain("\u001b");
    expect(human.stdout).toContain("hi \\u001b]0;pwned\\u0007\\u001b[2J");
    const deep = join(dir, "deep", "er");
    mkdirSync(deep, { recursive: true });
    await ok(bob, ["get", mallory.uid, "1", deep]);
    expect(readFileSync(join(deep, "x"), "utf8")).toBe("payload");
    expect(existsSync(join(deep, "../../x"))).toBe(false);
  });
});

test("listen streams incoming messages as JSON lines until interrupted", async () => {
  const { alice, bob } = await introduced();
  const { proc, out } = await startListen(bob.env);
  try {
    await ok(alice, ["send", "bob", "are you there?"]);
    expect(await nextJson(out, "the message", 20_000)).toEqual({
      ts: expect.any(Number),
      from: alice.uid,
      body: "are you there?",
      protocol: 3,
      nick: "alice",
      id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  } finally {
    proc.kill("SIGINT");
  }
  expect(await proc.exited).toBe(0);
});

test("a verified contact's key change is blocked with both fingerprints until verify --force", async () => {
  const { alice, bob } = await introduced();
  await ok(alice, ["verify", "bob"]);
  // A v2 UID commits to its key (PROTOCOL §2) and every key from the network is
  // checked against its UID, so no relay can present another key for bob's UID.
  // A pin can only differ from what the network presents when it was recorded
  // under other rules (an older client's contacts.json, a state restored from
  // elsewhere). We create exactly that state: alice's book pins and verifies
  // carol's key under bob's UID. Bob then announces his real key the normal way
  // (add → key-exchange inbox) and alice must refuse to use the contact.
  const carol = makeUser();
  const carolFp = fingerprintOf(carol.encPub);
  await withHomeState(alice.home, PASSWORD, () =>
    updateContacts(alice.home, (book) => {
      book[bob.uid] = { ...book[bob.uid]!, pub_key: carol.pubB64, verified_fp: carolFp, last_seen_fp: carolFp };
    }),
  );
  const bobFp = (await ok(bob, ["whoami", "--json"])).json()[0]!.fingerprint as string;
  await ok(bob, ["add", alice.uid]);

  const blocked = expectOneLineError(await phantom(alice.env, ["read", "bob"]));
  expect(blocked).toContain(carolFp);
  expect(blocked).toContain(bobFp);
  expect(blocked).toContain(`phantom verify ${bob.uid} --force`);
  expect(expectOneLineError(await phantom(alice.env, ["send", "bob", "hi"]))).toContain(bobFp);
  const listed = (await ok(alice, ["contacts", "--json"])).json();
  expect(listed[0]).toMatchObject({ uid: bob.uid, fingerprint: bobFp, verified: false, key_changed: true });
  expect(expectOneLineError(await phantom(alice.env, ["verify", "bob"]))).toContain("--force");

  const v = (await ok(alice, ["verify", "bob", "--force", "--json"])).json();
  expect(v).toEqual([{ uid: bob.uid, fingerprint: bobFp, verified: true, safety_code: null }]);
  await ok(alice, ["send", "bob", "after re-verify"]);
  expect((await ok(bob, ["read", "alice", "--json", "--limit", "1"])).json()[0]!.body).toBe("after re-verify");
});

test("burn and remove refuse without --yes when there is no terminal", async () => {
  // A conversation to burn, and a stranger in bob's contacts (learned from his inbox) to remove.
  const { alice, bob } = await introduced();
  await ok(alice, ["send", "bob", "hello bob"]);
  const mallory = await strangerWritingTo(bob);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", mallory.uid]); // accept step: someone who adds you is a contact request
  expect(expectOneLineError(await phantom(alice.env, ["burn", "bob"]))).toContain("--yes");
  const bobBefore = (await ok(bob, ["read", "alice", "--json"])).json();
  const burned = (await ok(alice, ["burn", "bob", "--yes", "--json"])).json();
  expect(burned[0]!.deleted as number).toBeGreaterThan(0);
  // The relay's copies are gone, and so is the burner's local history; the peer keeps its own.
  expect(await relayRowCount(bob.home, relay.url, alice.uid)).toBe(0);
  expect((await ok(alice, ["read", "bob", "--json"])).json()).toEqual([]);
  expect((await ok(bob, ["read", "alice", "--json"])).json()).toEqual(bobBefore);

  expect(expectOneLineError(await phantom(bob.env, ["remove", mallory.uid]))).toContain("--yes");
  await ok(bob, ["remove", mallory.uid, "--yes"]);
  expect((await ok(bob, ["contacts", "--json"])).json().map((c) => c.uid)).toEqual([alice.uid]);
});

test("panic burns every room, then deletes the home", async () => {
  const { alice, bob } = await introduced();
  await ok(bob, ["send", "alice", "before the panic"]);
  expect(expectOneLineError(await phantom(alice.env, ["panic"]))).toContain("--yes");
  expect(existsSync(join(alice.home, "identity.json"))).toBe(true);
  const p = (await ok(alice, ["panic", "--yes", "--json"])).json();
  expect(p).toEqual([{ burned: 1, failed: [], deleted: alice.home, unlocked: true, kept: [], left: 0, total: 1 }]);
  expect(existsSync(alice.home)).toBe(false);
  expect(await relayRowCount(bob.home, relay.url, alice.uid)).toBe(0);
  // Bob's local history is on Bob's device: alice's panic cannot reach it.
  expect((await ok(bob, ["read", "alice", "--json"])).json().map((m) => m.body)).toEqual(["before the panic"]);
  expect(expectOneLineError(await phantom(alice.env, ["whoami"]))).toContain("phantom init");
});

test("panic without the password (wrong, or none and no terminal) still deletes the home; the relay keeps its copies", async () => {
  const { dir, alice, bob } = await introduced();
  await ok(bob, ["send", "alice", "left on the relay"]);
  const copy = join(dir, "bob-copy");
  cpSync(bob.home, copy, { recursive: true });
  const { PHANTOM_PASSWORD: _none, ...noPassword } = bob.env;
  expect(expectOneLineError(await phantom(noPassword, ["panic"]))).toContain("--yes");

  const wrong = await phantom({ ...bob.env, PHANTOM_PASSWORD: "not the password" }, ["panic", "--yes", "--json"]);
  // With --json the error is one JSON line on stderr (the warning before it stays words).
  expect(wrong.code).toBe(1);
  const errorLines = wrong.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("phantom: warning: "));
  // Without the password the contacts are sealed in state.db (PROTOCOL-v3 §V8): not even
  // how many there are is known, let alone who.
  expect(errorLines.map((l) => JSON.parse(l))).toEqual([
    { error: "panic-incomplete", message: "the conversations stay on the relay until they expire" },
  ]);
  expect(wrong.stderr).toContain("phantom: warning: wrong password: the conversations cannot be burned on the relay");
  expect(wrong.json()).toEqual([
    { burned: 0, failed: [], deleted: bob.home, unlocked: false, kept: [], left: 0, total: 0 },
  ]);
  expect(wrong.stderr).not.toContain(alice.uid);
  expect(existsSync(bob.home)).toBe(false);

  const copyEnv = userEnv(copy, relay.url);
  const kept = (await ok({ ...bob, env: copyEnv }, ["read", alice.uid, "--json"])).json();
  expect(kept.map((m) => m.body)).toContain("left on the relay"); // not burned

  const { PHANTOM_PASSWORD: _no, ...copyNoPassword } = copyEnv;
  const none = await phantom(copyNoPassword, ["panic", "--yes"]);
  expect(expectOneLineError(none)).toBe("the conversations stay on the relay until they expire");
  expect(none.stderr).toContain("no password (PHANTOM_PASSWORD not set, no terminal to ask on): the conversations");
  expect(none.stderr).toContain("keeps its copies until they expire");
  expect(none.stdout).toBe(`deleted ${copy}; nothing was burned on the relay\n`);
  expect(existsSync(copy)).toBe(false);
  const again = await phantom(copyNoPassword, ["panic", "--yes"]);
  expect(again.code).toBe(0);
  expect(again.stdout).toBe(`nothing to delete: ${copy} does not exist\n`);
});
