// Trust on first use with pinning (client/state/contacts.ts), on real keys.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintOf, generateIdentity, uidOf } from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { unlockedHome, unlockHome } from "../../tests/helpers/state.ts";
import * as c from "./contacts.ts";

function key() {
  const id = generateIdentity();
  return { pub: b64encode(id.encPub), uid: uidOf(id.encPub), fp: fingerprintOf(id.encPub) };
}

describe("observeKey", () => {
  test("first key is pinned, unverified", () => {
    const book: c.ContactBook = {};
    const k = key();
    expect(c.observeKey(book, k.uid, k.pub)).toEqual({ kind: "new", fingerprint: k.fp });
    expect(book[k.uid]).toEqual({ pub_key: k.pub, nickname: null, verified_fp: null, last_seen_fp: k.fp });
    expect(c.viewOf(k.uid, book[k.uid]!)).toMatchObject({ fingerprint: k.fp, verified: false, keyChanged: false });
    expect(c.observeKey(book, k.uid, k.pub)).toEqual({ kind: "same", fingerprint: k.fp });
  });

  test("unverified change: re-pinned, reported with both fingerprints, shown as changed until verified", () => {
    const book: c.ContactBook = {};
    const uid = key().uid;
    const [a, b] = [key(), key()];
    c.observeKey(book, uid, a.pub);
    expect(c.observeKey(book, uid, b.pub)).toEqual({ kind: "changed", oldFp: a.fp, newFp: b.fp });
    expect(book[uid]!.pub_key).toBe(b.pub);
    expect(c.viewOf(uid, book[uid]!)).toMatchObject({ fingerprint: b.fp, verified: false, keyChanged: true });
    expect(() => c.assertUsable(uid, book[uid]!)).not.toThrow(); // warned, not blocked
    c.verifyRecord(uid, book[uid]!, false);
    expect(c.viewOf(uid, book[uid]!)).toMatchObject({ verified: true, keyChanged: false });
  });

  test("verified change: blocked with old and new fingerprints until verify --force", () => {
    const book: c.ContactBook = {};
    const uid = key().uid;
    const [a, b] = [key(), key()];
    c.observeKey(book, uid, a.pub);
    c.setNickname(book, uid, "bob");
    c.verifyRecord(uid, book[uid]!, false);
    expect(c.observeKey(book, uid, b.pub)).toEqual({ kind: "blocked", oldFp: a.fp, newFp: b.fp });
    expect(c.blockedChange(book[uid]!)).toEqual({ oldFp: a.fp, newFp: b.fp });
    expect(c.viewOf(uid, book[uid]!)).toMatchObject({ verified: false, keyChanged: true });

    const blocked = errorOf(() => c.assertUsable(uid, book[uid]!));
    expect(blocked.code).toBe("key-changed");
    expect(blocked.message).toContain(a.fp);
    expect(blocked.message).toContain(b.fp);
    expect(blocked.message).toContain(`phantom verify ${uid} --force`);
    expect(blocked.message).toContain("bob");

    // Plain verify is not enough; --force is.
    expect(errorOf(() => c.verifyRecord(uid, book[uid]!, false)).code).toBe("key-changed");
    expect(book[uid]!.verified_fp).toBe(a.fp);
    c.verifyRecord(uid, book[uid]!, true);
    expect(book[uid]!.verified_fp).toBe(b.fp);
    expect(() => c.assertUsable(uid, book[uid]!)).not.toThrow();
    expect(c.viewOf(uid, book[uid]!)).toMatchObject({ verified: true, keyChanged: false });
  });

  test("a verified contact whose key comes back to the verified one is no longer blocked", () => {
    const book: c.ContactBook = {};
    const uid = key().uid;
    const [a, b] = [key(), key()];
    c.observeKey(book, uid, a.pub);
    c.verifyRecord(uid, book[uid]!, false);
    c.observeKey(book, uid, b.pub);
    expect(c.blockedChange(book[uid]!)).not.toBeNull();
    expect(c.observeKey(book, uid, a.pub).kind).toBe("same");
    expect(c.blockedChange(book[uid]!)).toBeNull();
  });

  test("a second change while blocked still names the verified fingerprint as the old one", () => {
    const book: c.ContactBook = {};
    const uid = key().uid;
    const [a, b, d] = [key(), key(), key()];
    c.observeKey(book, uid, a.pub);
    c.verifyRecord(uid, book[uid]!, false);
    c.observeKey(book, uid, b.pub);
    expect(c.observeKey(book, uid, d.pub)).toEqual({ kind: "blocked", oldFp: a.fp, newFp: d.fp });
  });
});

test("keyMatchesUid: a UID commits to its key (PROTOCOL §2)", () => {
  const [a, b] = [key(), key()];
  expect(c.keyMatchesUid(a.uid, a.pub)).toBe(true);
  expect(c.keyMatchesUid(a.uid, b.pub)).toBe(false);
  expect(c.keyMatchesUid(a.uid, "not base64!")).toBe(false);
});

describe("nicknames and lookup", () => {
  const [a, b] = [key(), key()];
  const book: c.ContactBook = Object.create(null);
  c.observeKey(book, a.uid, a.pub);
  c.observeKey(book, b.uid, b.pub);

  test("resolve by UID, nickname, nickname ignoring case", () => {
    c.setNickname(book, a.uid, "Alice");
    expect(c.resolveContact(book, a.uid)).toBe(a.uid);
    expect(c.resolveContact(book, "Alice")).toBe(a.uid);
    expect(c.resolveContact(book, "alice")).toBe(a.uid);
    expect(errorOf(() => c.resolveContact(book, "carol")).code).toBe("unknown-contact");
    expect(errorOf(() => c.resolveContact(book, "__proto__")).code).toBe("unknown-contact");
  });

  test("nicknames are unique ignoring case, short, printable and not UID-shaped", () => {
    expect(errorOf(() => c.setNickname(book, b.uid, "ALICE")).code).toBe("nick-taken");
    expect(errorOf(() => c.setNickname(book, b.uid, "")).code).toBe("bad-nick");
    expect(errorOf(() => c.setNickname(book, b.uid, "x".repeat(c.MAX_NICK + 1))).code).toBe("bad-nick");
    expect(errorOf(() => c.setNickname(book, b.uid, "evil\u001b[2J")).code).toBe("bad-nick");
    expect(errorOf(() => c.setNickname(book, b.uid, "rtl\u202eevil")).code).toBe("bad-nick");
    expect(errorOf(() => c.setNickname(book, b.uid, a.uid)).code).toBe("bad-nick");
    c.setNickname(book, b.uid, "  bob  ");
    expect(book[b.uid]!.nickname).toBe("bob");
    c.setNickname(book, a.uid, "Alice"); // same contact keeps its own nickname
  });
});

describe("the book in state.db", () => {
  test("an empty state is an empty book; a saved book reads back, and no file shows the UID", () => {
    const home = unlockedHome("phantom-contacts-");
    expect(Object.keys(c.loadContacts(home))).toEqual([]);
    const stamp = c.contactsStamp(home);
    const k = key();
    const book = c.loadContacts(home);
    c.observeKey(book, k.uid, k.pub);
    c.saveContacts(home, book);
    expect(c.contactsStamp(home)).not.toBe(stamp);
    expect(c.loadContacts(home)[k.uid]).toEqual(book[k.uid]!);
    expect(statSync(join(home, "state.db")).mode & 0o777).toBe(0o600);
    expect(existsSync(c.contactsPath(home))).toBe(false);
    for (const f of readdirSync(home)) expect(readFileSync(join(home, f)).includes(k.uid)).toBe(false);
    // Saving the same book again changes nothing (an idle menu writes nothing).
    const same = c.contactsStamp(home);
    c.updateContacts(home, () => {});
    expect(c.contactsStamp(home)).toBe(same);
  });

  test("a corrupt or invalid contacts.json stops the first unlock with an error naming it, and is left as it was", () => {
    for (const bad of ["{not json", '{"short":{"pub_key":"x"}}', `{"${key().uid}":{"pub_key":"AAAA"}}`, "[]"]) {
      const home = mkdtempSync(join(tmpdir(), "phantom-contacts-"));
      const path = c.contactsPath(home);
      writeFileSync(path, bad);
      const e = errorOf(() => unlockHome(home));
      expect(e.code).toBe("corrupt-file");
      expect(e.message).toContain(path);
      expect(readFileSync(path, "utf8")).toBe(bad);
    }
  });

  test("fingerprints in another spelling are normalised", () => {
    const home = mkdtempSync(join(tmpdir(), "phantom-contacts-"));
    const k = key();
    const loose = k.fp.replaceAll(" ", "").toLowerCase();
    writeFileSync(c.contactsPath(home), JSON.stringify({ [k.uid]: { pub_key: k.pub, verified_fp: loose } }));
    unlockHome(home);
    expect(c.viewOf(k.uid, c.loadContacts(home)[k.uid]!)).toMatchObject({ fingerprint: k.fp, verified: true });
  });

  test("records written without last_seen_fp (older files) still load", () => {
    const home = mkdtempSync(join(tmpdir(), "phantom-contacts-"));
    const k = key();
    writeFileSync(c.contactsPath(home), JSON.stringify({ [k.uid]: { pub_key: k.pub, nickname: "x" } }));
    unlockHome(home);
    const book = c.loadContacts(home);
    expect(book[k.uid]).toMatchObject({ pub_key: k.pub, nickname: "x", verified_fp: null, last_seen_fp: null });
    expect(c.observeKey(book, k.uid, k.pub).kind).toBe("same");
  });
});
