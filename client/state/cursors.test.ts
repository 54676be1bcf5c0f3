// listen's delivery cursor and the ids already shown (against replays), in state.db.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorOf } from "../../tests/helpers/errors.ts";
import { unlockedHome, unlockHome } from "../../tests/helpers/state.ts";
import { advanced, cursorsPath, isAfter, loadCursors, updateCursors } from "./cursors.ts";
import { CURSORS_FILE, SHOWN_FILE, STATE_FILES } from "./home.ts";
import { isRepeat, loadShown, markShown, pruneShown, shownPath, updateShown } from "./shown.ts";

const home = () => join(mkdtempSync(join(tmpdir(), "phantom-cursors-")), "home");
const UID = "A".repeat(28);
const OTHER = "B".repeat(28);

test("both files are state files (panic wipes them)", () => {
  expect(STATE_FILES).toContain(CURSORS_FILE);
  expect(STATE_FILES).toContain(SHOWN_FILE);
});

test("a cursor with seq: only higher seqs are after it, whatever their ts", () => {
  let c = advanced(undefined, { seq: 5, ts: 100, id: "a" });
  expect(c).toEqual({ seq: 5, ts: 100, ids: ["a"] });
  expect(isAfter(c, { seq: 5, ts: 200, id: "x" })).toBe(false);
  expect(isAfter(c, { seq: 6, ts: 50, id: "x" })).toBe(true);
  c = advanced(c, { seq: 6, ts: 100, id: "b" });
  expect(c).toEqual({ seq: 6, ts: 100, ids: ["a", "b"] });
  expect(isAfter(undefined, { seq: 1, ts: 1, id: "a" })).toBe(true);
});

test("a cursor without seq (a 2.2.x relay): later ts, or the same ts with an id not yet printed", () => {
  let c = advanced(undefined, { ts: 100, id: "a" });
  expect(c).toEqual({ ts: 100, ids: ["a"] });
  expect(isAfter(c, { ts: 99, id: "z" })).toBe(false);
  expect(isAfter(c, { ts: 100, id: "a" })).toBe(false);
  expect(isAfter(c, { ts: 100, id: "b" })).toBe(true);
  c = advanced(c, { ts: 100, id: "b" });
  expect(c.ids).toEqual(["a", "b"]);
  c = advanced(c, { ts: 101, id: "c" });
  expect(c).toEqual({ ts: 101, ids: ["c"] });
  expect(isAfter(c, { ts: 100, id: "d" })).toBe(false);
});

test("updateCursors keeps other contacts' cursors; a corrupt cursors.json stops the first unlock, naming it", () => {
  const h = unlockedHome("phantom-cursors-");
  updateCursors(h, (c) => void (c[UID] = { seq: 3, ts: 10, ids: ["a"] }));
  updateCursors(h, (c) => void (c[OTHER] = { ts: 11, ids: [] }));
  expect(loadCursors(h)).toEqual({ [UID]: { seq: 3, ts: 10, ids: ["a"] }, [OTHER]: { ts: 11, ids: [] } });
  expect(existsSync(cursorsPath(h))).toBe(false);
  const h2 = home();
  mkdirSync(h2);
  writeFileSync(cursorsPath(h2), "{nope");
  expect(errorOf(() => unlockHome(h2)).message).toContain(`corrupt file ${cursorsPath(h2)}`);
});

test("seen: an id shown at ts 10 is a repeat at ts 20, not at its own place; the first place is kept", () => {
  const s = Object.create(null) as Parameters<typeof markShown>[0];
  markShown(s, UID, [{ id: "a", ts: 10 }]);
  expect(isRepeat(s, UID, { id: "a", ts: 10 })).toBe(false);
  expect(isRepeat(s, UID, { id: "a", ts: 20 })).toBe(true);
  expect(isRepeat(s, OTHER, { id: "a", ts: 20 })).toBe(false);
  markShown(s, UID, [{ id: "a", ts: 20 }]);
  expect(s[UID]).toEqual({ a: 10 });
});

test("seen: ids older than the window are dropped when the state is written", () => {
  const h = unlockedHome("phantom-cursors-");
  const now = Math.floor(Date.now() / 1000);
  updateShown(h, 3600, (s) =>
    markShown(s, UID, [
      { id: "old", ts: now - 7200 },
      { id: "new", ts: now - 60 },
    ]),
  );
  expect(loadShown(h)).toEqual({ [UID]: { new: now - 60 } });
  expect(existsSync(shownPath(h))).toBe(false);
  const s = loadShown(h);
  pruneShown(s, now + 7200, 3600);
  expect(s).toEqual({});
});
