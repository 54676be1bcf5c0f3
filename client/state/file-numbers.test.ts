// files.json: a file's number is its place in first-seen order and never shifts.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileNumbersPath, forgetFileNumbers, loadFileNumbers, numberFiles } from "./file-numbers.ts";
import { STATE_FILES } from "./home.ts";

const home = () => join(mkdtempSync(join(tmpdir(), "phantom-file-numbers-")), "home");
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
  expect(statSync(fileNumbersPath(h)).mode & 0o777).toBe(0o600);
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
