// End to end with the compiled binaries on a real relay: forward secrecy and healing of a v3
// conversation, shown on the client's own files (PROTOCOL-v3 §V5, §V8; issue 12 "Tests").
//
// 1. Forward secrecy: the keys of Alice's message m2 (her sending chain key before m2, its message
//    key and AEAD key, taken from her state at send time) are nowhere in Bob's state after his
//    `read`: not in the raw bytes of state.db/-wal/-shm, not in any unsealed value of any table
//    (every sealed row is opened with Bob's password; an unknown table fails the test), and a
//    copy of Bob's home taken after the read cannot decrypt m2's wire bytes, while a copy taken
//    before the read can.
// 2. Healing: a copy of Bob's home decrypts nothing Alice sends once Bob has replied on a DH pair
//    made after the copy (§V5.5 step 2: the pair is made when Bob receives a new chain of Alice's).
//    A copy taken after Bob read m1 already holds the pair his next reply uses, so it still opens
//    Alice's answer to that reply; only the round trip after it heals (shown with two copies).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Session } from "../client/core/session.ts";
import { loadHeld } from "../client/core/v3.ts";
import { deleteHistoryRow, getPrekey } from "../client/state/ratchet-store.ts";
import { PREKEY_KIND } from "../lib/v3/prekey.ts";
import { closeState, DOC_TABLES, joinKey, StateDb, stateOf, u32 } from "../client/state/state-db.ts";
import { openIdentityKeyed } from "../client/state/vault.ts";
import { b64decode, hexencode, utf8 } from "../lib/encoding.ts";
import { torConfigFromEnv } from "../lib/tor.ts";
import { kdfCk, messageKeys } from "../lib/v3/kdf.ts";
import { parseSession } from "../lib/v3/serialize.ts";
import { activeSession } from "../lib/v3/sessions.ts";
import type { StoredMessage } from "../lib/wire.ts";
import { nextMessage, ok, PASSWORD, startListen, type User, userEnv } from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { withHomeState } from "./helpers/state.ts";
import { introducedPair } from "./helpers/v3-pair.ts";

setDefaultTimeout(60_000);

let relay: RunningRelay;
const root = tempDir("phantom-v3-secrecy-");

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let worlds = 0;

const introduced = () => introducedPair(join(root, `w${++worlds}`), relay.url);

const sha = (b: Uint8Array) => hexencode(new Uint8Array(createHash("sha256").update(b).digest()));
const bodies = async (u: User, peer: string) =>
  (await ok(u, ["read", peer, "--json"])).json().map((m) => m.body as string);

/** Run `f` with a Session opened on `home` in this process (its state.db unlocked), then close both. */
async function withSession<T>(home: string, f: (s: Session) => Promise<T>): Promise<T> {
  const tor = torConfigFromEnv({ PHANTOM_TOR: "never" });
  const s = await Session.open({ home, password: PASSWORD, relayUrl: relay.url, tor, direct: false });
  try {
    return await f(s);
  } finally {
    s.close();
    closeState(home);
  }
}

/** The relay's rows of the room with `peer`, each labelled with its body as `home`'s history shows it. */
async function labelledRows(home: string, peer: string): Promise<Array<{ row: StoredMessage; body: string | null }>> {
  return await withSession(home, async (s) => {
    const rows = await (await s.relay()).allRows(s.roomOf(peer));
    const ctx = s.roomContext(peer);
    return rows.map((row) => ({ row, body: ctx.v3!(row)?.message.body ?? null }));
  });
}

/**
 * What a copy of a home makes of `rows` (in the relay's order): each row's history entry is removed
 * first, so §V5.5 step 0 cannot answer and only the ratchet state can decrypt it. Null: not decrypted.
 */
async function decryptOnCopy(copy: string, peer: string, rows: StoredMessage[]): Promise<Array<string | null>> {
  return await withSession(copy, async (s) => {
    const db = stateOf(copy);
    db.tx(() => {
      for (const r of rows) deleteHistoryRow(db, hashOf(r));
    });
    const ctx = s.roomContext(peer);
    return rows.map((r) => ctx.v3!(r)?.message.body ?? null);
  });
}

function hashOf(r: StoredMessage): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b64decode(r.ciphertext)).digest());
}

function copyHome(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** Where `needle` occurs in `hay` (byte offsets). */
function occurrences(hay: Uint8Array, needle: Uint8Array): number[] {
  const out: number[] = [];
  const h = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength);
  for (let i = h.indexOf(needle); i >= 0; i = h.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Every byte string inside a parsed value (a session: its keys, chains, skipped keys). */
function byteStrings(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(v);
  else if (Array.isArray(v)) for (const x of v) byteStrings(x, out);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) byteStrings(x, out);
  return out;
}

const b = (x: unknown): Uint8Array => (x instanceof Uint8Array ? x : new Uint8Array(x as ArrayBuffer));
function u64(n: number): Uint8Array {
  const o = new Uint8Array(8);
  new DataView(o.buffer).setBigUint64(0, BigInt(n));
  return o;
}

type Row = Record<string, unknown>;
/**
 * How each table's sealed value is opened: its row key rebuilt from the row's columns as the
 * client builds it (state-db.ts for meta and the doc tables, ratchet-store.ts for the others).
 * `null`: the table holds nothing sealed. A table missing here fails the test.
 */
const ROW_KEYS: Record<string, ((r: Row) => Uint8Array) | null> = {
  ...Object.fromEntries(DOC_TABLES.map((t) => [t, (r: Row) => b(r.k)])),
  meta: (r) => utf8.encode(r.k as string),
  sessions: (r) => joinKey(b(r.contact), b(r.sid)),
  prekeys: (r) => joinKey(Uint8Array.of(r.kind as number), u32(r.id as number)),
  skipped: (r) => joinKey(b(r.contact), b(r.sid), b(r.dh), u32(r.n as number)),
  history: (r) => joinKey(b(r.h), b(r.contact), Uint8Array.of(r.direction as number), u64(r.ts as number)),
  prekey_ids: null,
  dropped_sids: null,
  // The daemon's event log (client/state/daemon-events.ts): sealed under its h, consumers under their HMAC.
  daemon_events: (r) => b(r.h),
  daemon_consumers: (r) => b(r.k),
  daemon_acks: null,
};

interface Unsealed {
  /** Rows per table, and how many sealed values of it were opened. */
  counts: Record<string, { rows: number; opened: number }>;
  /** Every plaintext, with the table it came from; sessions also as their parsed fields. */
  values: Array<{ table: string; bytes: Uint8Array }>;
}

/** PROTOCOL-v3 §V8: open every sealed value of every table of `db` (a row that does not open throws). */
function unsealAll(db: StateDb): Unsealed {
  const counts: Unsealed["counts"] = {};
  const values: Unsealed["values"] = [];
  const tables = db.db
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((t) => t.name);
  for (const table of tables) {
    if (!(table in ROW_KEYS))
      throw new Error(`table ${table} of state.db is unknown to this test: say how it is sealed`);
    const rowKey = ROW_KEYS[table]!;
    const rows = db.db.query<Row, []>(`SELECT * FROM ${table}`).all();
    let opened = 0;
    for (const r of rows) {
      if (rowKey === null) {
        // Nothing sealed, and nothing secret: no column may hold more than an id, a SID or a time.
        for (const v of Object.values(r)) if (v instanceof Uint8Array) expect(v.length).toBeLessThanOrEqual(32);
        continue;
      }
      // meta holds plain numbers and strings too; its blobs are sealed (the check row).
      if (table === "meta" && !(r.v instanceof Uint8Array)) continue;
      const plain = db.open(table, rowKey(r), b(r.v));
      opened++;
      values.push({ table, bytes: plain });
      if (table === "sessions") {
        // The stored session: u64 createdAt ‖ u64 lastReceivedAt ‖ serialised session (client/core/v3.ts).
        for (const f of byteStrings(parseSession(plain.subarray(16))))
          values.push({ table: "sessions(parsed)", bytes: f });
      }
    }
    counts[table] = { rows: rows.length, opened };
    if (rowKey !== null && table !== "meta") expect(opened).toBe(rows.length);
  }
  for (const t of Object.keys(ROW_KEYS)) expect(tables).toContain(t);
  return { counts, values };
}

/** The keys of the next message Alice sends Bob (§V5.4: CKs, mk = KDF_CK(CKs)), from her state now. */
async function nextMessageKeys(alice: User, bob: User): Promise<Record<string, Uint8Array>> {
  const cks = await withHomeState(alice.home, PASSWORD, () => {
    const held = loadHeld(stateOf(alice.home), bob.uid);
    const i = activeSession(held.map((h) => h.meta));
    expect(i).toBeGreaterThanOrEqual(0);
    return Uint8Array.from(held[i]!.session.ratchet.cks!);
  });
  const [, mk] = kdfCk(cks);
  return { cks, mk, key: messageKeys(mk).key };
}

/** Every value of `u`'s unsealed state that contains or equals one of `secrets`. */
function leaks(u: Unsealed, secrets: Record<string, Uint8Array>): string[] {
  const out: string[] = [];
  for (const { table, bytes } of u.values) {
    for (const [name, v] of Object.entries(secrets)) {
      if (sameBytes(bytes, v) || occurrences(bytes, v).length > 0) out.push(`${name} in ${table}`);
    }
  }
  return out;
}

/**
 * The database states a -wal holds: the main file with the WAL's frames applied in order, one
 * state at each commit frame (a frame whose "size after commit" is non-zero). Frames whose salts
 * are not the WAL header's (left from before a reset) are counted as stale, not applied.
 */
function walStates(main: Uint8Array, wal: Uint8Array): { frames: number; stale: number; states: Uint8Array[] } {
  if (wal.length === 0) return { frames: 0, stale: 0, states: [] };
  const dv = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  expect([0x377f0682, 0x377f0683]).toContain(dv.getUint32(0));
  const pageSize = dv.getUint32(8);
  const [salt1, salt2] = [dv.getUint32(16), dv.getUint32(20)];
  const pages = new Map<number, Uint8Array>();
  const states: Uint8Array[] = [];
  let frames = 0;
  let stale = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (dv.getUint32(at + 8) !== salt1 || dv.getUint32(at + 12) !== salt2) {
      stale++;
      continue;
    }
    frames++;
    pages.set(dv.getUint32(at), wal.subarray(at + 24, at + 24 + pageSize));
    const size = dv.getUint32(at + 4);
    if (size === 0) continue;
    const state = new Uint8Array(size * pageSize);
    state.set(main.subarray(0, Math.min(main.length, state.length)));
    for (const [n, page] of pages) if (n <= size) state.set(page, (n - 1) * pageSize);
    states.push(state);
  }
  return { frames, stale, states };
}

/** Open a database image (state.db bytes) with `vaultKey` in a scratch home, unseal all of it, close it. */
function unsealImage(image: Uint8Array, vaultKey: Uint8Array, scratch: string): Unsealed {
  const home = mkdtempSync(join(scratch, "image-"));
  writeFileSync(join(home, "state.db"), image, { mode: 0o600 });
  const db = StateDb.open(home, vaultKey);
  try {
    return unsealAll(db);
  } finally {
    db.close();
  }
}

test("forward secrecy, shown: after Bob reads m2, no key of m2 is in his state, and a later copy cannot decrypt it", async () => {
  const { dir, alice, bob } = await introduced();
  await ok(alice, ["send", "bob", "m1"]);
  expect((await ok(alice, ["contacts", "--json"])).json()[0]).toMatchObject({ uid: bob.uid, protocol: 3 });

  // m2's keys, from Alice's state before she sends it.
  const secrets = await nextMessageKeys(alice, bob);
  await ok(alice, ["send", "bob", "m2"]);

  const before = copyHome(bob.home, join(dir, "bob-before-read"));
  expect(await bodies(bob, "alice")).toEqual(["m1", "m2"]);
  const after = copyHome(bob.home, join(dir, "bob-after-read"));

  // (c) The -wal after the client exited: asserted absent or empty rather than parsed, because an
  // empty WAL holds no page images, so no sealed copy of an old row can hide in it. This alone does
  // not catch a client that skips v3.ts checkpoint(): SQLite checkpoints and deletes the WAL at the
  // last close anyway (measured). So the -wal of a *running* client is parsed frame by frame below.
  const db = join(bob.home, "state.db");
  const wal = existsSync(db + "-wal") ? statSync(db + "-wal").size : -1;
  expect(wal <= 0).toBe(true);

  // (a) The raw files, before this process opens the database (opening it writes -wal/-shm).
  const files = ["", "-wal", "-shm"].map((s) => db + s).filter((p) => existsSync(p));
  let rawBytes = 0;
  for (const p of files) {
    const bytes = new Uint8Array(readFileSync(p));
    rawBytes += bytes.length;
    for (const [name, v] of Object.entries(secrets)) {
      expect({ file: p, secret: name, at: occurrences(bytes, v) }).toEqual({ file: p, secret: name, at: [] });
    }
  }

  // (b) Every sealed value of every table, opened with Bob's password.
  const { counts, values } = await withHomeState(bob.home, PASSWORD, () => unsealAll(stateOf(bob.home)));
  expect(counts.sessions!.opened).toBeGreaterThanOrEqual(1);
  expect(counts.history!.opened).toBeGreaterThanOrEqual(2);
  // Positive control: the chain key after m2 (Bob's CKr now, the key of m3) is found by the same
  // search, so the keys taken from Alice are the ones of Bob's chain and the search does see sessions.
  expect(leaks({ counts, values }, { ckAfter: kdfCk(secrets.cks!)[0] })).toEqual([
    "ckAfter in sessions",
    "ckAfter in sessions(parsed)",
  ]);
  for (const { table, bytes } of values) {
    for (const [name, v] of Object.entries(secrets)) {
      expect({ table, secret: name, at: occurrences(bytes, v), equal: sameBytes(bytes, v) }).toEqual({
        table,
        secret: name,
        at: [],
        equal: false,
      });
    }
  }

  // (d) m2's wire bytes as the relay stores them.
  const rows = await labelledRows(bob.home, alice.uid);
  expect(rows.map((r) => r.body)).toEqual(["m1", "m2"]);
  const m2 = rows[1]!.row;
  // m2 is still a prekey message (§V7: type 2, Alice has had no reply). The client refuses it on the
  // copy by its SID and index; that no one holding the copy can run the handshake again comes from
  // the one-time prekeys it named being gone after the read (§V4), while the copy before holds them.
  const wire = b64decode(m2.ciphertext);
  expect([wire[0], wire[1]]).toEqual([0x03, 0x02]);
  const pf = new DataView(wire.buffer, wire.byteOffset + 2 + 32, 13);
  const opk = pf.getUint32(4);
  const [pqKind, pqId] = [pf.getUint8(8), pf.getUint32(9)];
  expect(opk).not.toBe(0xffffffff); // the bundle had one-time prekeys to give
  expect(pqKind).toBe(PREKEY_KIND.OPQK);
  const held = (home: string) =>
    withHomeState(home, PASSWORD, () => {
      const db = stateOf(home);
      return [getPrekey(db, PREKEY_KIND.OPK, opk) !== null, getPrekey(db, PREKEY_KIND.OPQK, pqId) !== null];
    });
  expect(await held(before)).toEqual([true, true]);
  expect(await held(after)).toEqual([false, false]);
  expect(await decryptOnCopy(before, alice.uid, [m2])).toEqual(["m2"]); // the test can fail
  expect(await decryptOnCopy(after, alice.uid, [m2])).toEqual([null]);

  // (c) continued, while a client runs (its connection keeps -wal, and a kill -9 leaves it): Bob
  // listens, Alice sends m3; once listen has shown m3, the -wal is read and every database state in
  // it (each commit frame applied to the main file) is unsealed and searched for m3's keys, as is
  // the raw -wal. This is what fails when v3.ts checkpoint() is skipped: the commits of m3's ratchet
  // step stay in the -wal with the old session (and its receiving chain key) in them.
  const m3 = await nextMessageKeys(alice, bob);
  const listen = await startListen(bob.env);
  let walFrames = 0;
  let walStatesN = 0;
  let walRaw = 0;
  try {
    await ok(alice, ["send", "bob", "m3"]);
    // listen shows the conversation's earlier messages first (from history).
    const shown: unknown[] = [];
    for (let m = await nextMessage(listen.out, "m3"); ; m = await nextMessage(listen.out, "m3")) {
      shown.push(m.body);
      if (m.body === "m3") break;
    }
    expect(shown.at(-1)).toBe("m3");
    // Stopped while its files are read, so state.db and -wal are taken at one moment.
    listen.proc.kill("SIGSTOP");
    let main: Uint8Array;
    let walBytes: Uint8Array;
    try {
      main = new Uint8Array(readFileSync(db));
      walBytes = existsSync(db + "-wal") ? new Uint8Array(readFileSync(db + "-wal")) : new Uint8Array(0);
    } finally {
      listen.proc.kill("SIGCONT");
    }
    walRaw = walBytes.length;
    for (const [name, v] of Object.entries(m3))
      expect({ wal: name, at: occurrences(walBytes, v) }).toEqual({ wal: name, at: [] });
    const { frames, stale, states } = walStates(main, walBytes);
    walFrames = frames;
    walStatesN = states.length;
    expect(stale).toBe(0);
    const { key: vaultKey } = await openIdentityKeyed(bob.home, PASSWORD);
    try {
      [main, ...states].forEach((image, i) => {
        const what = i === 0 ? "state.db" : `-wal commit ${i}`;
        expect({ what, leaks: leaks(unsealImage(image, vaultKey, dir), m3) }).toEqual({ what, leaks: [] });
      });
    } finally {
      vaultKey.fill(0);
    }
  } finally {
    listen.proc.kill("SIGINT");
  }
  expect(await listen.proc.exited).toBe(0);

  const sealed = Object.values(counts).reduce((n, c) => n + c.opened, 0);
  console.log(
    `forward secrecy: ${files.length} raw files (${rawBytes} bytes, -wal ${wal < 0 ? "absent" : `${wal} bytes`}) ` +
      `and ${sealed} sealed values (${Object.entries(counts)
        .map(([t, c]) => `${t} ${c.opened}/${c.rows}`)
        .join(", ")}; ${values.length} plaintexts with parsed session fields) hold none of cks, mk, key of m2; ` +
      `a copy before the read decrypts m2, a copy after does not; ` +
      `while listen ran after m3: -wal ${walRaw} bytes, ${walFrames} frames, ${walStatesN} commit states, none with m3's keys`,
  );
});

test("healing, shown: a copy of Bob's home decrypts nothing Alice sends after Bob replied on a DH pair made after the copy", async () => {
  const { dir, alice, bob } = await introduced();
  await ok(alice, ["send", "bob", "m1"]);
  expect((await ok(alice, ["contacts", "--json"])).json()[0]).toMatchObject({ uid: bob.uid, protocol: 3 });
  // t0: before Bob has read m1. Reading m1 (the first message of Alice's first chain) is Bob's DH
  // step (§V5.5 step 2): new DHs and KEMs, from which his reply b1's chain comes. t0 lacks them.
  const t0 = copyHome(bob.home, join(dir, "bob-t0"));
  expect(await bodies(bob, "alice")).toEqual(["m1"]);
  // t1: after m1 was read, before Alice's next message. t1 already holds the DH and KEM pair that
  // b1 is sent on, so Alice's chain answering b1 (a2, a3) is open to it too: healing needs Bob's
  // *next* step, made when he reads a2 (a new chain of Alice's), which b2 is sent on.
  const t1 = copyHome(bob.home, join(dir, "bob-t1"));

  await ok(alice, ["send", "bob", "a1"]);
  expect(await bodies(bob, "alice")).toEqual(["m1", "a1"]);
  await ok(bob, ["send", "alice", "b1"]);
  expect(await bodies(alice, "bob")).toEqual(["m1", "a1", "b1"]);
  await ok(alice, ["send", "bob", "a2"]);
  await ok(alice, ["send", "bob", "a3"]);
  expect(await bodies(bob, "alice")).toEqual(["m1", "a1", "b1", "a2", "a3"]);
  await ok(bob, ["send", "alice", "b2"]);
  expect(await bodies(alice, "bob")).toEqual(["m1", "a1", "b1", "a2", "a3", "b2"]);
  await ok(alice, ["send", "bob", "a4"]);
  await ok(alice, ["send", "bob", "a5"]);
  expect(await bodies(bob, "alice")).toEqual(["m1", "a1", "b1", "a2", "a3", "b2", "a4", "a5"]);

  const rows = await labelledRows(bob.home, alice.uid);
  expect(rows.map((r) => r.body)).toEqual(["m1", "a1", "b1", "a2", "a3", "b2", "a4", "a5"]);
  const fromAlice = rows.filter((r) => r.body!.startsWith("a") || r.body === "m1");
  const sent = fromAlice.map((r) => r.body);
  const atT0 = await decryptOnCopy(
    t0,
    alice.uid,
    fromAlice.map((r) => r.row),
  );
  const atT1 = await decryptOnCopy(
    t1,
    alice.uid,
    fromAlice.map((r) => r.row),
  );
  expect(sent).toEqual(["m1", "a1", "a2", "a3", "a4", "a5"]);
  // t0: m1, a1 (before Bob's reply b1: expected), nothing after b1.
  expect(atT0).toEqual(["m1", "a1", null, null, null, null]);
  // t1: a1, and a2, a3 (Alice's chain answering b1, whose keys t1 held); nothing after b2.
  // m1 is not: its message key was used and deleted before t1 (forward secrecy).
  expect(atT1).toEqual([null, "a1", "a2", "a3", null, null]);
  console.log(`healing: copy t0 decrypts ${JSON.stringify(atT0)}; copy t1 decrypts ${JSON.stringify(atT1)}`);
});
