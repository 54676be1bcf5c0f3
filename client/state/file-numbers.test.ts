// File numbers (state.db; files.json in 2.x): a file's number is its place in first-seen order and never shifts.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { unlockedHome } from "../../tests/helpers/state.ts";
import { fileNumbersPath, forgetFileNumbers, loadFileNumbers, numberFiles } from "./file-numbers.ts";
import { STATE_FILES } from "./home.ts";

const home = () => unlockedHome("phantom-file-numbers-");
const UID = "A".repeat(28);
const id = (c: string) => c.repeat(43);

test("numbers follow first-seen order; ids gone from the relay keep theirs, new ones come after", () => {
  const h = home();
  expect([...numberFiles(h, UID, [id("a"), id("b")])]).toEqual([
    [id("a"), 1],
    [id("b"), 2],
  ]);
  // The oldest file left the relay's answer: the others keep their numbers, a new one is third.
  const later = numberFiles(h, UID, [id("b"), id("c")]);
  expect(later.get(id("b"))).toBe(2);
  expect(later.get(id("c"))).toBe(3);
  expect(loadFileNumbers(h)[UID]).toEqual([id("a"), id("b"), id("c")]);
  expect(existsSync(fileNumbersPath(h))).toBe(false); // sealed in state.db
  expect(STATE_FILES).toContain("files.json");
});

test("nothing new: nothing written; forgetting a contact drops its list", () => {
  const h = home();
  expect(numberFiles(h, UID, []).size).toBe(0);
  expect(existsSync(fileNumbersPath(h))).toBe(false);
  numberFiles(h, UID, [id("a")]);
  forgetFileNumbers(h, UID);
  expect(loadFileNumbers(h)[UID]).toBeUndefined();
});
