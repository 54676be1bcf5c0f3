// PROTOCOL-v3 §V8 history read back (client/core/history.ts): rows written by putHistory into a real
// state.db, decoded as messages (text, file, "already read", unknown kinds), searched, and pruned.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { b64uencode, utf8 } from "../../lib/encoding.ts";
import { encodeInner, newInnerId } from "../../lib/v3/inner.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { testVaultKey } from "../../tests/helpers/state.ts";
import { type Direction, listHistory, putHistory } from "../state/ratchet-store.ts";
import { StateDb } from "../state/state-db.ts";
import { applyHistoryPolicy, historyMessage, historyOf, searchHistory } from "./history.ts";

const open = () => StateDb.open(join(mkdtempSync(join(tmpdir(), "phantom-history-")), "home"), testVaultKey());
const ME = "M".repeat(28);
const ALICE = "A".repeat(28);
const BOB = "B".repeat(28);
const hash = () => new Uint8Array(createHash("sha256").update(randomBytes(16)).digest());

function text(db: StateDb, uid: string, ts: number, body: string, direction: Direction = "in"): Uint8Array {
  const h = hash();
  putHistory(db, uid, { hash: h, ts, direction, inner: encodeInner({ t: "text", id: newInnerId(), body }) });
  return h;
}

function file(db: StateDb, uid: string, ts: number, name: string, direction: Direction = "in"): Uint8Array {
  const h = hash();
  const key = new Uint8Array(randomBytes(32));
  const inner = encodeInner({
    t: "file",
    id: newInnerId(),
    name,
    size: 1234,
    mime: "image/png",
    url: "http://127.0.0.1:8787/file/abc",
    key,
  });
  putHistory(db, uid, { hash: h, ts, direction, inner });
  return h;
}

test("a text row: body, sender from the direction, id = b64u(hash), protocol 3", () => {
  const db = open();
  const hIn = text(db, ALICE, 100, "hello");
  const hOut = text(db, ALICE, 101, "hi back", "out");
  const [a, b] = historyOf(db, ALICE, ME);
  expect(a!.message).toEqual({ id: b64uencode(hIn), ts: 100, from: ALICE, mine: false, body: "hello", protocol: 3 });
  expect(b!.message).toEqual({ id: b64uencode(hOut), ts: 101, from: ME, mine: true, body: "hi back", protocol: 3 });
  expect(a!.fileMessage).toBeNull();
  expect(a!.fileInner).toBeUndefined();
  db.close();
});

test("a file row: body and file are the cleaned name, fileInner is the parsed message with its key", () => {
  const db = open();
  file(db, BOB, 5, "../../etc/evil\u0007.png");
  const [d] = historyOf(db, BOB, ME);
  expect(d!.message.body).toBe("evil.png");
  expect(d!.message.file).toEqual({ n: 0, name: "evil.png", size: 1234, mime: "image/png" });
  expect(d!.fileMessage).toBeNull();
  expect(d!.fileInner?.t).toBe("file");
  expect(d!.fileInner?.name).toBe("../../etc/evil\u0007.png");
  expect(d!.fileInner?.key.length).toBe(32);
  expect(d!.fileInner?.url).toBe("http://127.0.0.1:8787/file/abc");
  db.close();
});

test("an empty inner (history off) is 'already read'; an unknown kind or a bad inner is left out", () => {
  const db = open();
  const h = hash();
  putHistory(db, ALICE, { hash: h, ts: 1, direction: "in", inner: new Uint8Array(0) });
  putHistory(db, ALICE, { hash: hash(), ts: 2, direction: "in", inner: utf8.encode('{"t":"sticker","id":"x"}') });
  putHistory(db, ALICE, { hash: hash(), ts: 3, direction: "in", inner: utf8.encode("not json") });
  putHistory(db, ALICE, { hash: hash(), ts: 4, direction: "in", inner: utf8.encode('{"t":"text","id":"short"}') });
  text(db, ALICE, 5, "last");
  expect(listHistory(db, ALICE)).toHaveLength(5);
  const list = historyOf(db, ALICE, ME);
  expect(list.map((d) => d.message.body)).toEqual(["", "last"]);
  expect(list[0]!.message).toEqual({
    id: b64uencode(h),
    ts: 1,
    from: ALICE,
    mine: false,
    body: "",
    protocol: 3,
    alreadyRead: true,
  });
  expect(historyMessage({ hash: h, ts: 9, direction: "out", inner: utf8.encode("[]") }, ME, ALICE)).toBeNull();
  db.close();
});

test("historyOf: one conversation, oldest first, whatever order the rows were written in", () => {
  const db = open();
  text(db, ALICE, 30, "third");
  text(db, BOB, 15, "bob's");
  text(db, ALICE, 10, "first");
  text(db, ALICE, 20, "second", "out");
  expect(historyOf(db, ALICE, ME).map((d) => d.message.body)).toEqual(["first", "second", "third"]);
  expect(historyOf(db, BOB, ME).map((d) => d.message.body)).toEqual(["bob's"]);
  expect(historyOf(db, "C".repeat(28), ME)).toEqual([]);
  db.close();
});

test("search: case-insensitive, NFC, texts and file names, every conversation oldest first, or one", () => {
  const db = open();
  text(db, ALICE, 40, "See you at the CAFE\u0301"); // e + combining acute: NFC é
  text(db, BOB, 10, "café tomorrow?", "out");
  text(db, ALICE, 20, "nothing here");
  file(db, BOB, 30, "Cafe-menu.PDF");
  putHistory(db, BOB, { hash: hash(), ts: 50, direction: "in", inner: new Uint8Array(0) }); // already read
  const found = searchHistory(db, [ALICE, BOB], ME, "CAFÉ");
  expect(found.map((f) => [f.uid, f.message.ts, f.message.body])).toEqual([
    [BOB, 10, "café tomorrow?"],
    [ALICE, 40, "See you at the CAFE\u0301"],
  ]);
  expect(found[0]!.message.mine).toBe(true);
  const files = searchHistory(db, [ALICE, BOB], ME, "menu.pdf");
  expect(files.map((f) => f.message.file)).toEqual([{ n: 0, name: "Cafe-menu.PDF", size: 1234, mime: "image/png" }]);
  // What search hands out has no file key or URL.
  expect(JSON.stringify(files)).not.toContain("8787");
  // Case is ignored, accents are not: "cafe" is not "café".
  expect(searchHistory(db, [ALICE, BOB], ME, "cafe").map((f) => f.message.ts)).toEqual([30]);
  expect(searchHistory(db, [ALICE, BOB], ME, "e").map((f) => f.message.ts)).toEqual([20, 30, 40]);
  expect(searchHistory(db, [ALICE, BOB], ME, "e", { contact: BOB }).map((f) => f.message.ts)).toEqual([30]);
  expect(searchHistory(db, [ALICE], ME, "menu")).toEqual([]); // only the uids asked for
  expect(searchHistory(db, [ALICE, BOB], ME, "nope")).toEqual([]);
  expect(errorOf(() => searchHistory(db, [ALICE], ME, "  ")).message).toContain("empty");
  db.close();
});

test("'already read' rows never match, even a search for nothing in particular", () => {
  const db = open();
  putHistory(db, ALICE, { hash: hash(), ts: 1, direction: "in", inner: new Uint8Array(0) });
  expect(searchHistory(db, [ALICE], ME, "a")).toEqual([]);
  expect(searchHistory(db, [ALICE], ME, "already")).toEqual([]);
  db.close();
});

test("history policy: days N deletes rows older than N days; keep and off delete nothing", () => {
  const db = open();
  const now = 1_000_000_000;
  text(db, ALICE, now - 3 * 86_400 - 1, "old");
  text(db, BOB, now - 3 * 86_400, "edge");
  text(db, ALICE, now - 10, "new");
  expect(applyHistoryPolicy(db, { mode: "keep" }, now)).toBe(0);
  expect(applyHistoryPolicy(db, { mode: "off" }, now)).toBe(0);
  expect(historyOf(db, ALICE, ME)).toHaveLength(2);
  expect(applyHistoryPolicy(db, { mode: "days", days: 3 }, now)).toBe(1);
  expect(historyOf(db, ALICE, ME).map((d) => d.message.body)).toEqual(["new"]);
  expect(historyOf(db, BOB, ME).map((d) => d.message.body)).toEqual(["edge"]);
  expect(applyHistoryPolicy(db, { mode: "days", days: 3 }, now)).toBe(0);
  db.close();
});
