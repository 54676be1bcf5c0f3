// What panic deletes locally: Phantom's files in $PHANTOM_HOME and the folder itself, never
// anything else. Deleting needs no password.

import { existsSync, lstatSync, readdirSync, realpathSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { HOME_MARKERS, STATE_FILES, STATE_LOCK_FILE, TEMP_FILE_RE } from "./home.ts";
import { closeState } from "./state-db.ts";

/** Refuses a folder that exists but holds none of Phantom's files (a mistyped PHANTOM_HOME is not wiped). */
export function checkPhantomHome(home: string): void {
  if (existsSync(home) && !STATE_FILES.some((f) => existsSync(join(home, f)))) {
    throw new PhantomError(
      "not-phantom-home",
      `${home} holds no Phantom files (${HOME_MARKERS.join(", ")}): not deleted`,
    );
  }
}

/** Phantom's own entries in its home: the state files and writeAtomic's temp files (older names too). */
export function isPhantomEntry(name: string): boolean {
  if (STATE_FILES.includes(name) || TEMP_FILE_RE.test(name)) return true;
  return STATE_FILES.some((f) => name.startsWith(`${f}.`) && /^\.\d+\.[a-z0-9]+\.tmp$/.test(name.slice(f.length)));
}

/**
 * Delete $PHANTOM_HOME (checked first with checkPhantomHome): Phantom's files, then the folder
 * once it is empty. A home that is a symbolic link is followed: the folder it names is emptied
 * and removed, then the link. Anything else in the folder (not Phantom's: a PHANTOM_HOME set to
 * a folder in use, a file the user put there) is left where it is and returned, and so is a
 * symbolic link in it, even under a Phantom name: panic never deletes through a link in the folder.
 * The state files named in `o.keep` (the burn list of an unfinished panic) stay, and so does the folder.
 */
export function wipeHome(home: string, o: { keep?: readonly string[] } = {}): string[] {
  const keep = new Set(o.keep ?? []);
  checkPhantomHome(home);
  closeState(home); // state.db (and its -wal, -shm) go with the rest
  if (!existsSync(home)) return []; // already gone (another process, an earlier panic)
  const real = realpathSync(home);
  const kept: string[] = [];
  let keptOurs = false;
  for (const name of readdirSync(real)) {
    const path = join(real, name);
    if (keep.has(name)) {
      keptOurs = true;
      continue;
    }
    if (isPhantomEntry(name) && !lstatSync(path).isSymbolicLink()) rmSync(path, { recursive: true, force: true });
    else kept.push(name);
  }
  if (kept.length > 0) return kept.sort();
  if (keptOurs) return [];
  rmdirSync(real);
  if (lstatSync(home, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(home);
  return [];
}

/**
 * Remove $PHANTOM_HOME once it is empty (the burn list was the last file), and a symbolic link
 * naming it. Anything in it (a new identity made meanwhile) keeps it where it is.
 */
export function removeEmptyHome(home: string): void {
  try {
    const real = realpathSync(home);
    const left = readdirSync(real);
    if (left.some((name) => name !== STATE_LOCK_FILE)) return;
    if (left.length > 0) unlinkSync(join(real, STATE_LOCK_FILE)); // the lock the last change took
    rmdirSync(real);
    if (lstatSync(home, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(home);
  } catch {
    // gone already, or not ours to remove: left as it is
  }
}

/** What wipeHome left in the folder: not Phantom's, so not deleted. */
export function keptWarning(home: string, kept: string[]): string {
  const names = kept.slice(0, 5).map((n) => JSON.stringify(n));
  const more = kept.length > 5 ? ` and ${kept.length - 5} more` : "";
  return `Phantom's files are deleted, but ${home} also holds ${kept.length} other entr${kept.length === 1 ? "y" : "ies"}, kept: ${names.join(", ")}${more}`;
}
