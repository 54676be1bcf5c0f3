// The one-time import of the 2.x plaintext files into state.db (client/state/migrate.ts).
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testVaultKey } from "../../tests/helpers/state.ts";
import { loadContacts } from "./contacts.ts";
import { loadReadState } from "./read-state.ts";
import { importLegacyFiles, unlockState } from "./migrate.ts";
import { closeState, StateDb } from "./state-db.ts";

const A = "A".repeat(28);
const B = "B".repeat(28);
const PUB = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="; // any 32 bytes: the schema checks the form only

function legacyHome(): string {
  const home = join(mkdtempSync(join(tmpdir(), "phantom-migrate-")), "home");
  mkdirSync(home);
  writeFileSync(join(home, "read-state.json"), JSON.stringify({ [A]: 5 }));
  return home;
}

test("imported once and removed; the import is recorded, so a second unlock imports nothing", () => {
  const home = legacyHome();
  const key = testVaultKey();
  const db = StateDb.open(home, key);
  expect(importLegacyFiles(home, db)).toEqual(["read-state.json"]);
  expect(existsSync(join(home, "read-state.json"))).toBe(false);
  expect(importLegacyFiles(home, db)).toEqual([]);
  db.close();
  unlockState(home, key);
  expect(loadReadState(home)).toEqual({ [A]: 5 });
  closeState(home);
});

test("a file left by a crash after the commit is removed at the next unlock; a rewritten one is left alone, not imported", () => {
  const home = legacyHome();
  const key = testVaultKey();
  const db = StateDb.open(home, key);
  importLegacyFiles(home, db);
  // The crash: the import committed, the file was not removed (the same file, so the same stamp).
  writeFileSync(join(home, "read-state.json"), JSON.stringify({ [A]: 5 }));
  const st = statSync(join(home, "read-state.json"));
  db.setMeta("imported:read-state.json", `${st.ino}:${st.mtimeMs}:${st.size}`);
  writeFileSync(join(home, "contacts.json"), JSON.stringify({ [B]: { pub_key: PUB } })); // planted later
  db.close();
  unlockState(home, key);
  expect(existsSync(join(home, "read-state.json"))).toBe(false);
  expect(Object.keys(loadContacts(home))).toEqual([]);
  expect(existsSync(join(home, "contacts.json"))).toBe(true);
  closeState(home);
});
