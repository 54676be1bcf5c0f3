// Panic: burn every known room on the relay (PROTOCOL §7.7), then delete $PHANTOM_HOME.
// Deleting needs no password; burning does (requests are signed, §6).

import { existsSync, lstatSync, readdirSync, realpathSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { CONTACTS_FILE } from "../state/contacts.ts";
import { TEMP_FILE_RE } from "../state/home.ts";
import { RelayError } from "../net/relay-error.ts";
import { READ_STATE_FILE } from "../state/read-state.ts";
import type { Session } from "./session.ts";
import { SETTINGS_FILE } from "../state/settings.ts";
import { IDENTITY_FILE } from "../state/vault.ts";

export interface BurnAllResult {
  burned: number;
  /** UIDs whose room could not be burned (or was not tried once the relay proved unreachable). */
  failed: string[];
}

/**
 * Burn every room of the contact book. A refused burn (403, 429…) does not stop the others;
 * once the relay cannot be reached at all (no route, no answer), the remaining rooms are not
 * tried (each would wait for its own timeout) and are reported as failed.
 */
export async function burnAll(s: Session): Promise<BurnAllResult> {
  const uids = Object.keys(s.book);
  let burned = 0;
  const failed: string[] = [];
  const giveUp = (i: number, e: unknown): BurnAllResult => {
    const rest = uids.slice(i);
    s.warn(`the relay cannot be reached (${messageOf(e)}): ${rest.length} room(s) not burned`);
    return { burned, failed: [...failed, ...rest] };
  };
  if (uids.length === 0) return { burned, failed };
  try {
    await s.relay(); // the route (Tor, consent) first: without one, no burn can work
  } catch (e) {
    return giveUp(0, e);
  }
  for (const [i, uid] of uids.entries()) {
    try {
      await s.burn(uid);
      burned++;
    } catch (e) {
      if (e instanceof RelayError && e.status === 0) return giveUp(i, e); // no HTTP answer
      failed.push(uid);
      s.warn(`could not burn the room with ${uid}: ${messageOf(e)}`);
    }
  }
  return { burned, failed };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Files Phantom writes in its home. A folder with none of them is not ours to delete. */
export const STATE_FILES = [IDENTITY_FILE, CONTACTS_FILE, SETTINGS_FILE, READ_STATE_FILE];

/** Refuses a folder that exists but holds none of Phantom's files (a mistyped PHANTOM_HOME is not wiped). */
export function checkPhantomHome(home: string): void {
  if (existsSync(home) && !STATE_FILES.some((f) => existsSync(join(home, f)))) {
    throw new PhantomError(
      "not-phantom-home",
      `${home} holds no Phantom files (${STATE_FILES.join(", ")}): not deleted`,
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
 */
export function wipeHome(home: string): string[] {
  checkPhantomHome(home);
  if (!existsSync(home)) return []; // already gone (another process, an earlier panic)
  const real = realpathSync(home);
  const kept: string[] = [];
  for (const name of readdirSync(real)) {
    const path = join(real, name);
    if (isPhantomEntry(name) && !lstatSync(path).isSymbolicLink()) rmSync(path, { recursive: true, force: true });
    else kept.push(name);
  }
  if (kept.length > 0) return kept.sort();
  rmdirSync(real);
  if (lstatSync(home, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(home);
  return [];
}

/** What wipeHome left in the folder: not Phantom's, so not deleted. */
export function keptWarning(home: string, kept: string[]): string {
  const names = kept.slice(0, 5).map((n) => JSON.stringify(n));
  const more = kept.length > 5 ? ` and ${kept.length - 5} more` : "";
  return `Phantom's files are deleted, but ${home} also holds ${kept.length} other entr${kept.length === 1 ? "y" : "ies"}, kept: ${names.join(", ")}${more}`;
}
