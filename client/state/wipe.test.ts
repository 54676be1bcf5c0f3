// wipeHome: what panic deletes. Phantom's files and its home; never anything else, never
// through a link; a home that is itself a link is the folder it names.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/helpers/relay.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { unlockHome } from "../../tests/helpers/state.ts";
import { updateReadState } from "./read-state.ts";
import { maybeStateOf } from "./state-db.ts";
import { isPhantomEntry, removeEmptyHome, wipeHome } from "./wipe.ts";

const root = tempDir("phantom-panic-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

function phantomHome(name: string): string {
  const home = join(root, name);
  mkdirSync(home, { mode: 0o700 });
  for (const f of [
    "identity.json",
    "contacts.json",
    "settings.json",
    "read-state.json",
    "requests.json",
    ".phantom-0123456789abcdef.tmp",
  ]) {
    writeFileSync(join(home, f), "{}", { mode: 0o600 });
  }
  return home;
}

test("a home with only Phantom's files (temp files too) is deleted", () => {
  const home = phantomHome("plain");
  writeFileSync(join(home, "contacts.json.4242.k3j5x9q1.tmp"), "{}"); // temp name of older versions
  expect(wipeHome(home)).toEqual([]);
  expect(existsSync(home)).toBe(false);
  expect(wipeHome(home)).toEqual([]); // already gone: nothing to do
});

test("PHANTOM_HOME that is a symbolic link: the folder it names is deleted, then the link", () => {
  const real = phantomHome("real");
  const link = join(root, "link-home");
  symlinkSync(real, link);
  expect(wipeHome(link)).toEqual([]);
  expect(existsSync(join(real, "identity.json"))).toBe(false);
  expect(existsSync(real)).toBe(false);
  expect(existsSync(link)).toBe(false);
});

test("a folder in use (PHANTOM_HOME mistyped, files of the user's): only Phantom's files go, the rest is kept", () => {
  const home = phantomHome("shared");
  writeFileSync(join(home, "notes.txt"), "mine");
  mkdirSync(join(home, "project"));
  writeFileSync(join(home, "project", "settings.json"), "theirs");
  expect(wipeHome(home)).toEqual(["notes.txt", "project"]);
  expect(readdirSync(home).sort()).toEqual(["notes.txt", "project"]);
  expect(readdirSync(join(home, "project"))).toEqual(["settings.json"]);
});

test("never through a link in the folder, even under a Phantom name; the link is kept and named", () => {
  const outside = join(root, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "vault"), "elsewhere");
  writeFileSync(join(outside, "photo.jpg"), "elsewhere");
  const home = phantomHome("links");
  rmSync(join(home, "identity.json"));
  symlinkSync(join(outside, "vault"), join(home, "identity.json"));
  symlinkSync(outside, join(home, "photos"));
  expect(wipeHome(home)).toEqual(["identity.json", "photos"]);
  expect(readdirSync(outside).sort()).toEqual(["photo.jpg", "vault"]);
});

test("a folder with none of Phantom's files is refused, untouched", () => {
  const home = join(root, "none");
  mkdirSync(home);
  writeFileSync(join(home, "notes.txt"), "mine");
  expect(errorOf(() => wipeHome(home)).code).toBe("not-phantom-home");
  expect(readdirSync(home)).toEqual(["notes.txt"]);
});

test("Phantom's entries by name", () => {
  for (const n of ["identity.json", "read-state.json", ".phantom-00112233aabbccdd.tmp", "settings.json.1.a.tmp"]) {
    expect(isPhantomEntry(n)).toBe(true);
  }
  for (const n of ["identity.json.bak", "notes.txt", ".phantom-x.tmp", "settings.json.tmp", "other.json.1.a.tmp"]) {
    expect(isPhantomEntry(n)).toBe(false);
  }
});

test("an unfinished panic: the burn list stays (and the folder with it), then removeEmptyHome takes the folder", () => {
  const home = phantomHome("burn-list");
  writeFileSync(join(home, "burn-list.json"), "{}", { mode: 0o600 });
  expect(wipeHome(home, { keep: ["burn-list.json"] })).toEqual([]);
  expect(readdirSync(home)).toEqual(["burn-list.json"]);
  removeEmptyHome(home);
  expect(existsSync(home)).toBe(true); // not empty yet
  rmSync(join(home, "burn-list.json"));
  removeEmptyHome(home);
  expect(existsSync(home)).toBe(false);
});

test("an unlocked state.db, its -wal and -shm are deleted too (the open database is closed first)", () => {
  const home = unlockHome(phantomHome("with-state"));
  updateReadState(home, (s) => void (s["A".repeat(28)] = 1));
  expect(readdirSync(home)).toEqual(expect.arrayContaining(["state.db", "state.db-wal", "state.db-shm"]));
  expect(wipeHome(home)).toEqual([]);
  expect(existsSync(home)).toBe(false);
  expect(maybeStateOf(home)).toBeNull();
});
