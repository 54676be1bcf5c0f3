// state.db (PROTOCOL-v3 §V8): modes, pragmas, the seal (its key and framing rebuilt here), the format version, the check row, transactions.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { hkdfSync } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorOf } from "../../tests/helpers/errors.ts";
import { testVaultKey } from "../../tests/helpers/state.ts";
import { STATE_FILES } from "./home.ts";
import { sealAad, STATE_FORMAT, StateDb } from "./state-db.ts";

const home = () => join(mkdtempSync(join(tmpdir(), "phantom-state-db-")), "home");
const UID = "A".repeat(28);

test("state.db and its -wal and -shm are 0600 and state files; WAL, secure_delete and a busy timeout are on", () => {
  const h = home();
  const db = StateDb.open(h, testVaultKey());
  db.putDoc("contacts", UID, { n: 1 });
  for (const f of ["state.db", "state.db-wal", "state.db-shm"]) {
    expect(statSync(join(h, f)).mode & 0o777).toBe(0o600);
    expect(STATE_FILES).toContain(f);
  }
  expect(db.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
  expect(db.db.query("PRAGMA secure_delete").get()).toEqual({ secure_delete: 1 });
  expect((db.db.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout).toBeGreaterThan(0);
  expect(db.meta("format_version")).toBe(STATE_FORMAT);
  db.close();
});

test("a row is nonce ‖ AEAD(HKDF(vault_key, zero32, 'phantom-v3-state'), nonce, value, u16(len(table)) ‖ table ‖ row key)", () => {
  const h = home();
  const vaultKey = testVaultKey();
  const db = StateDb.open(h, vaultKey);
  db.putDoc("cursors", UID, { ts: 5, ids: [] });
  const row = db.db.query<{ k: Uint8Array; v: Uint8Array }, []>("SELECT k, v FROM cursors").get()!;
  expect(row.k).toEqual(db.contactIndex(UID));
  const stateKey = Buffer.from(hkdfSync("sha256", vaultKey, new Uint8Array(32), "phantom-v3-state", 32));
  // (Bun's node:crypto has no ChaCha20-Poly1305: the AEAD is noble's, the framing is checked here.)
  const aad = Buffer.concat([Buffer.from([0, 7]), Buffer.from("cursors"), row.k]);
  const pt = Buffer.from(chacha20poly1305(stateKey, row.v.subarray(0, 12), aad).decrypt(row.v.subarray(12)));
  expect(JSON.parse(pt.toString("utf8"))).toEqual([UID, { ts: 5, ids: [] }]);
  expect(sealAad("cursors", row.k)).toEqual(new Uint8Array([0, 7, ...Buffer.from("cursors"), ...row.k]));
  // Two seals of one value differ (a random nonce each time).
  expect(db.seal("t", new Uint8Array(1), new Uint8Array(3))).not.toEqual(
    db.seal("t", new Uint8Array(1), new Uint8Array(3)),
  );
  db.close();
});

test("no UID in the file: rows are keyed by HMAC(index key, uid), the UID is inside the seal", () => {
  const h = home();
  const db = StateDb.open(h, testVaultKey());
  db.putDoc("contacts", UID, { nickname: "zelda-the-secret" });
  db.close();
  for (const f of readdirSync(h)) {
    const bytes = readFileSync(join(h, f));
    expect(bytes.includes(UID)).toBe(false);
    expect(bytes.includes("zelda-the-secret")).toBe(false);
  }
});

test("a row moved to another contact or table, or with a changed byte, is an error naming the table", () => {
  const h = home();
  const db = StateDb.open(h, testVaultKey());
  db.putDoc("read_state", UID, 10);
  db.putDoc("read_state", "B".repeat(28), 20);
  const rows = db.db.query<{ k: Uint8Array; v: Uint8Array }, []>("SELECT k, v FROM read_state").all();
  // Swap the two values: each is sealed under the other's row key.
  db.db.query("UPDATE read_state SET v = ? WHERE k = ?").run(rows[1]!.v, rows[0]!.k);
  let e = errorOf(() => db.loadDocs("read_state"));
  expect(e.code).toBe("state-corrupt");
  expect(e.message).toContain("table read_state");
  // The same bytes copied into another table do not open there either.
  db.db.query("DELETE FROM read_state").run();
  db.db.query("INSERT INTO cursors (k, v) VALUES (?, ?)").run(rows[0]!.k, rows[0]!.v);
  e = errorOf(() => db.loadDocs("cursors"));
  expect(e.message).toContain("table cursors");
  const flipped = Uint8Array.from(rows[0]!.v);
  flipped[20]! ^= 1;
  db.db.query("UPDATE cursors SET v = ?").run(flipped);
  expect(errorOf(() => db.getDoc("cursors", UID)).code).toBe("state-corrupt");
  db.close();
});

test("another identity's key is refused: the check row does not open", () => {
  const h = home();
  StateDb.open(h, testVaultKey()).close();
  const e = errorOf(() => StateDb.open(h, testVaultKey()));
  expect(e.code).toBe("state-foreign");
  expect(e.message).toContain("another identity");
});

test("a newer format is refused with a one-line reason (an older binary after `update --rollback`)", () => {
  const h = home();
  const key = testVaultKey();
  StateDb.open(h, key).close();
  const raw = new Database(join(h, "state.db"));
  raw.run(`UPDATE meta SET v = ${STATE_FORMAT + 1} WHERE k = 'format_version'`);
  raw.close();
  const e = errorOf(() => StateDb.open(h, key));
  expect(e.code).toBe("state-format");
  expect(e.message).toBe(
    `state.db is format ${STATE_FORMAT + 1}, this phantom understands up to ${STATE_FORMAT}: update phantom`,
  );
});

test("tx: a throw rolls back everything of the transaction; nested calls join it", () => {
  const h = home();
  const db = StateDb.open(h, testVaultKey());
  db.putDoc("read_state", UID, 1);
  expect(() =>
    db.tx(() => {
      db.putDoc("read_state", UID, 2);
      db.tx(() => db.putDoc("read_state", "B".repeat(28), 3));
      throw new Error("boom");
    }),
  ).toThrow("boom");
  expect(Object.fromEntries(db.loadDocs("read_state"))).toEqual({ [UID]: 1 });
  expect(db.inTx).toBe(false);
  db.tx(() => {
    db.putDoc("read_state", UID, 4);
    expect(db.inTx).toBe(true);
  });
  expect(db.getDoc("read_state", UID)).toBe(4);
  db.close();
});

test("saveDocs touches only what changed and counts a revision only then", () => {
  const h = home();
  const db = StateDb.open(h, testVaultKey());
  expect(db.saveDocs("seen", { [UID]: { a: 1 }, ["B".repeat(28)]: { b: 2 } })).toBe(true);
  const rev = db.revision("seen");
  expect(db.saveDocs("seen", { [UID]: { a: 1 }, ["B".repeat(28)]: { b: 2 } })).toBe(false);
  expect(db.revision("seen")).toBe(rev);
  expect(db.saveDocs("seen", { [UID]: { a: 1 } })).toBe(true);
  expect([...db.loadDocs("seen").keys()]).toEqual([UID]);
  db.close();
});
