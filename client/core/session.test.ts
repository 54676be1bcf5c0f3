// Session against the relay (started in this process): offline creation and later registration
// (PROTOCOL §7.2/§7.3), unread counts that survive a room the relay does not have.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { encryptMessage, generateIdentity, pairKeys } from "../../lib/crypto.ts";
import { torConfigFromEnv } from "../../lib/tor.ts";
import { encodeEnvelope } from "../../lib/wire.ts";
import { client } from "../../tests/helpers/clients.ts";
import { rejectionOf } from "../../tests/helpers/errors.ts";
import { startRelay, tempDir, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import { makeUser, register } from "../../tests/helpers/signer.ts";
import { contactsStamp, observeKey } from "../state/contacts.ts";
import { RelayError } from "../net/relay-error.ts";
import { checkRegisteredKey } from "./key-exchange.ts";
import { Session } from "./session.ts";
import { identityPath } from "../state/vault.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun; scrypt is ~0.5 s per vault

const PASSWORD = "correct horse battery";
const DOWN = "http://127.0.0.1:9"; // discard port: nothing listens
const env = { PHANTOM_TOR: "never" }; // loopback relay: direct, no proxy probe
const root = tempDir("phantom-session-");
let relay: RunningRelay;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const opts = (name: string, relayUrl: string) => ({
  home: join(root, name),
  password: PASSWORD,
  relayUrl,
  tor: torConfigFromEnv(env),
  direct: false,
});

describe("registration", () => {
  test("create offline writes identity.json without a relay; register() creates, then finds our key", async () => {
    const created = await Session.create(opts("offline", DOWN), {}, { offline: true });
    expect(existsSync(identityPath(created.home))).toBe(true);
    const uid = created.uid;
    created.close();

    const s = await Session.open(opts("offline", relay.url));
    expect(s.uid).toBe(uid);
    const anon = client(relay.url);
    expect(await anon.pubkey(uid)).toBeNull();
    expect(await s.register()).toBe("created");
    expect(await anon.pubkey(uid)).toEqual(s.id.encPub);
    expect(await s.register()).toBe("exists"); // 409 with our own key: fine
    s.close();
  });

  test("online create registers first; an unreachable relay leaves no identity behind", async () => {
    expect(await rejectionOf(Session.create(opts("down", DOWN)))).toBeInstanceOf(RelayError);
    expect(existsSync(identityPath(join(root, "down")))).toBe(false);
    const s = await Session.create(opts("online", relay.url));
    expect(await client(relay.url).pubkey(s.uid)).toEqual(s.id.encPub);
    s.close();
  });

  test("409 with another key or none is a clear error", () => {
    const ours = generateIdentity().encPub;
    const theirs = generateIdentity().encPub;
    expect(() => checkRegisteredKey("U", ours, ours, "http://r")).not.toThrow();
    expect(() => checkRegisteredKey("U", ours, theirs, "http://r")).toThrow(
      "someone registered your UID U on http://r with other keys",
    );
    expect(() => checkRegisteredKey("U", ours, null, "http://r")).toThrow("has no key for it");
  });
});

describe("key-exchange inbox", () => {
  test("a notice whose room id is not the one both sides derive (PROTOCOL §4.1) adds no contact", async () => {
    // Only someone holding one of the two private keys can compute the room id, so a
    // notice with another one was not made by that UID's owner (a relay can forge the rest).
    const warnings: string[] = [];
    const s = await Session.create(opts("inbox", relay.url), { onWarning: (m) => warnings.push(m) });
    const [forged, honest] = [makeUser(), makeUser()];
    for (const u of [forged, honest]) expect((await register(relay.url, u)).status).toBe(200);
    const otherRoom = pairKeys(forged, generateIdentity().encPub).roomId;
    await client(relay.url, forged).kePush({
      from_uid: forged.uid,
      to_uid: s.uid,
      pub_key: forged.pubB64,
      room_id: otherRoom,
    });
    const { roomId } = pairKeys(honest, s.id.encPub);
    await client(relay.url, honest).kePush({
      from_uid: honest.uid,
      to_uid: s.uid,
      pub_key: honest.pubB64,
      room_id: roomId,
    });
    await s.processInbox();
    s.accept(honest.uid); // accept step: a notice from someone unknown is a contact request
    const added = await s.processInbox();
    expect(added.map((c) => c.uid)).toEqual([honest.uid]);
    expect(s.contacts().map((c) => c.uid)).toEqual([honest.uid]);
    expect(warnings).toEqual([
      `ignored a key-exchange notice from ${forged.uid}: its room id is not the one your keys give`,
    ]);
    // An empty inbox (the menu reads it every 5 s) leaves the book alone: no rewrite, no fsync.
    const before = contactsStamp(s.home);
    expect(await s.processInbox()).toEqual([]);
    expect(contactsStamp(s.home)).toBe(before);
    s.close();
  });
});

describe("unread counts", () => {
  test("a room the relay does not have counts 0; the others are counted; no relay is one error", async () => {
    const s = await Session.create(opts("counts", relay.url));
    const bob = makeUser();
    const carol = makeUser();
    expect((await register(relay.url, bob)).status).toBe(200);
    expect((await register(relay.url, carol)).status).toBe(200);
    await s.addContact(bob.uid); // creates the room (PROTOCOL §7.4)
    const { roomId, sessionKey } = pairKeys(bob, s.id.encPub);
    const bobClient = client(relay.url, bob);
    for (const text of ["one", "two"]) {
      await bobClient.send(roomId, encryptMessage(sessionKey, encodeEnvelope(bob.uid, text)));
    }
    // Carol is known here but her room was never created on this relay: /fetch answers 403.
    s.mutate((b) => observeKey(b, carol.uid, carol.pubB64));
    expect(await s.unreadCounts()).toEqual({ [bob.uid]: 2, [carol.uid]: 0 });
    s.close();

    const offline = await Session.open(opts("counts", DOWN));
    const e = await rejectionOf(offline.unreadCounts());
    expect(e).toBeInstanceOf(RelayError);
    expect(e.code).toBe("relay-unreachable");
    offline.close();
  });
});

describe("panic", () => {
  test("once the relay cannot be reached, the other rooms are not tried; the home is deleted but for the burn list", async () => {
    const warnings: string[] = [];
    const s = await Session.create(opts("panic", DOWN), { onWarning: (m) => warnings.push(m) }, { offline: true });
    const others = [makeUser(), makeUser(), makeUser()];
    s.mutate((b) => others.forEach((u) => observeKey(b, u.uid, u.pubB64)));
    const r = await s.panic();
    expect(r.burned).toBe(0);
    // Not refused, only not reached: the three rooms stay in the sealed burn list for `panic --finish`.
    expect([r.failed, r.left, r.total]).toEqual([[], 3, 3]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the relay cannot be reached \(relay unreachable: .*\): 3 room\(s\) not burned$/);
    expect(readdirSync(s.home)).toEqual(["burn-list.json"]);
  });
});

/** The accept step of a test written for automatic contacts: read the inbox until `uid` asks, then accept. */
async function acceptWhenAsked(s: Session, uid: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (s.requests().some((r) => r.uid === uid)) return void s.accept(uid);
    if (Date.now() > deadline) throw new Error(`no contact request from ${uid} within 10 s`);
    await s.processInbox();
    await Bun.sleep(20);
  }
}

describe("listen", () => {
  test("a new contact restarts the live round: every message once, the first one of the new contact too", async () => {
    const warnings: string[] = [];
    const bob = await Session.create(opts("listen", relay.url), { onWarning: (m) => warnings.push(m) });
    const alice = makeUser();
    expect((await register(relay.url, alice)).status).toBe(200);
    const aliceRoom = pairKeys(alice, bob.id.encPub);
    const aliceClient = client(relay.url, alice);
    await aliceClient.kePush({
      from_uid: alice.uid,
      to_uid: bob.uid,
      pub_key: alice.pubB64,
      room_id: aliceRoom.roomId,
    });
    await bob.processInbox();
    bob.accept(alice.uid); // accept step: a notice from someone unknown is a contact request
    expect((await bob.processInbox()).map((c) => c.uid)).toEqual([alice.uid]); // alice is known before listening
    const fromAlice = (text: string) =>
      aliceClient.send(aliceRoom.roomId, encryptMessage(aliceRoom.sessionKey, encodeEnvelope(alice.uid, text)));

    // Every delivery and every onReady, in order; `until` waits for a condition on them.
    const events: string[] = [];
    const waiters = new Set<{ ok: () => boolean; resolve: () => void }>();
    const record = (e: string) => {
      events.push(e);
      for (const w of waiters) if (w.ok()) (waiters.delete(w), w.resolve());
    };
    const until = (ok: () => boolean) =>
      ok() ? Promise.resolve() : new Promise<void>((resolve) => waiters.add({ ok, resolve }));
    const stop = new AbortController();
    const done = bob.listen((peer, m) => record(`${peer === alice.uid ? "alice" : "new"}:${m.body}`), {
      signal: stop.signal,
      inboxPollMs: 300,
      onReady: (n) => record(`ready:${n}`),
    });
    await until(() => events.includes("ready:1"));
    await fromAlice("m1");
    await until(() => events.includes("alice:m1"));

    // A new contact adds bob and sends at once. Bob notices at his next inbox poll (every 300 ms):
    // the message was then already stored, and comes from the restarted round's catch-up, which
    // runs before the new round reports ready. Should the poll fall between the notice and the
    // message (a few ms out of 300), the message arrives live instead: try again with another contact.
    const sent = ["m1"];
    let caughtUp = false;
    for (let i = 1; i <= 5 && !caughtUp; i++) {
      const carol = makeUser();
      expect((await register(relay.url, carol)).status).toBe(200);
      const { roomId, sessionKey } = pairKeys(carol, bob.id.encPub);
      const carolClient = client(relay.url, carol);
      await carolClient.kePush({ from_uid: carol.uid, to_uid: bob.uid, pub_key: carol.pubB64, room_id: roomId });
      await acceptWhenAsked(bob, carol.uid); // accept step: her notice is a contact request
      await carolClient.send(roomId, encryptMessage(sessionKey, encodeEnvelope(carol.uid, `c${i}`)));
      await fromAlice(`m${i + 1}`); // around the restart: before, during or after it
      sent.push(`c${i}`, `m${i + 1}`);
      await until(() => events.includes(`ready:${i + 1}`) && events.includes(`new:c${i}`));
      caughtUp = events.indexOf(`new:c${i}`) < events.indexOf(`ready:${i + 1}`);
    }
    expect(caughtUp).toBe(true);
    // A last message after the final restart: anything delivered twice would have come before it.
    await fromAlice("end");
    await until(() => events.includes("alice:end"));
    stop.abort();
    await done;

    const delivered = events.filter((e) => !e.startsWith("ready:"));
    expect(delivered.map((e) => e.slice(e.indexOf(":") + 1)).sort()).toEqual([...sent, "end"].sort());
    // alice's messages in the order she sent them
    expect(delivered.filter((e) => e.startsWith("alice:"))).toEqual(
      [...sent.filter((t) => t.startsWith("m")), "end"].map((t) => `alice:${t}`),
    );
    expect(warnings).toEqual([]);
    bob.close();
  });
});
