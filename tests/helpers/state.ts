// An unlocked state.db for unit tests (client/state/state-db.ts): a temporary home and a
// random vault key, registered as the process's state of that home.
import { mkdtempSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unlockState } from "../../client/state/migrate.ts";
import { closeState, type StateDb } from "../../client/state/state-db.ts";
import { openIdentityKeyed } from "../../client/state/vault.ts";

/** A random stand-in for the scrypt output of PROTOCOL §3. */
export function testVaultKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** Unlock `home` (importing any 2.x files in it) with `key`; returns the home. */
export function unlockHome(home: string, key = testVaultKey()): string {
  unlockState(home, key);
  return home;
}

/** A new temporary home (not yet created on disk), unlocked. */
export function unlockedHome(prefix = "phantom-state-"): string {
  return unlockHome(join(mkdtempSync(join(tmpdir(), prefix)), "home"));
}

/**
 * Unlock a compiled client's home in this process with its password (scrypt), run `change`
 * against its state (the state modules' functions, in one transaction), and close it again.
 */
export async function withHomeState<T>(home: string, password: string, change: () => T): Promise<T> {
  const { key } = await openIdentityKeyed(home, password);
  let db: StateDb;
  try {
    db = unlockState(home, key);
  } finally {
    key.fill(0);
  }
  try {
    return db.tx(change);
  } finally {
    closeState(home);
  }
}
