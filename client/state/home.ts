// Local state in $PHANTOM_HOME (default ~/.phantom): folder 0700, files 0600,
// every write atomic (temp file + fsync + rename). A file that cannot be read or
// parsed is an error naming the file: nothing is ever silently reset.

import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { PhantomError, WireError } from "../../lib/errors.ts";
import { parseJson } from "../../lib/wire.ts";
import { describeErrno } from "../text/format.ts";
import { BURN_LIST_FILE, DAEMON_FILES } from "./names.ts";

// The files of $PHANTOM_HOME, every one named here (ARCHITECTURE.md "state").
/** The identity, sealed with the password (state/vault.ts). */
export const IDENTITY_FILE = "identity.json";
/** The contact book with pinned keys (state/contacts.ts). */
export const CONTACTS_FILE = "contacts.json";
/** The user's settings (state/settings.ts). */
export const SETTINGS_FILE = "settings.json";
/** The newest message read per contact, for unread counts (state/read-state.ts). */
export const READ_STATE_FILE = "read-state.json";
/** Per contact, the ids of the conversation's files in first-seen order: their numbers (state/file-numbers.ts). */
export const FILE_NUMBERS_FILE = "files.json";
/** Contact requests (key-exchange notices from people not in the book) and blocked UIDs (state/requests.ts). */
export const REQUESTS_FILE = "requests.json";
/** What `listen` has printed per contact: its delivery cursor (state/cursors.ts). */
export const CURSORS_FILE = "cursors.json";
/** The ids of messages already shown per contact, against replays (state/shown.ts). */
export const SHOWN_FILE = "seen.json";
export { BURN_LIST_FILE } from "./names.ts";
/** The pinned key of each update server (lib/update/store.ts). */
export const UPDATE_PINS_FILE = "update-pins.json";
/** The newest release version seen and the time of the last update check (lib/update/store.ts). */
export const UPDATE_STATE_FILE = "update-state.json";
/** The cross-process lock of every read-modify-write of these files: an empty SQLite database (state/lock.ts). */
export const STATE_LOCK_FILE = "state.lock";
/**
 * The sealed state (state/state-db.ts, PROTOCOL-v3 §V8): contacts, requests, read state, cursors,
 * seen ids, file numbers, and the v3 ratchet. SQLite adds its -wal and -shm beside it.
 */
export const STATE_DB_FILE = "state.db";
export const STATE_DB_SIDE_FILES = [`${STATE_DB_FILE}-wal`, `${STATE_DB_FILE}-shm`];
// The daemon's files (state/names.ts: read by commands that load nothing else).
export { DAEMON_FILES, DAEMON_PID_FILE, DAEMON_SOCKET_FILE, DAEMON_TOKEN_FILE } from "./names.ts";
/**
 * The plaintext files of Phantom 2.x that state.db replaces: imported into it at the first unlock,
 * then removed (state/migrate.ts). Still named here so that panic deletes one an older binary wrote.
 */
export const LEGACY_FILES = [
  CONTACTS_FILE,
  READ_STATE_FILE,
  REQUESTS_FILE,
  CURSORS_FILE,
  SHOWN_FILE,
  FILE_NUMBERS_FILE,
];
/** The files a refusal to wipe a folder without any of STATE_FILES names (state/wipe.ts). */
export const HOME_MARKERS = [IDENTITY_FILE, STATE_DB_FILE, SETTINGS_FILE];
/** Every file Phantom writes in its home: what panic deletes; a folder with none of them is not ours (state/wipe.ts). */
export const STATE_FILES = [
  ...HOME_MARKERS,
  ...LEGACY_FILES,
  BURN_LIST_FILE,
  UPDATE_PINS_FILE,
  UPDATE_STATE_FILE,
  STATE_LOCK_FILE,
  ...STATE_DB_SIDE_FILES,
  ...DAEMON_FILES,
];

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

function fsError(what: string, path: string, cause: unknown): PhantomError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new PhantomError("state-io", `cannot ${what} ${path}: ${describeErrno(code)}`, { cause });
}

/** Create the home folder if needed (0700) and tighten its mode if it is looser. */
export function ensureHome(home: string): void {
  try {
    fs.mkdirSync(home, { recursive: true, mode: DIR_MODE });
    const st = fs.statSync(home);
    if (!st.isDirectory()) throw new PhantomError("state-io", `${home} is not a folder`);
    if ((st.mode & 0o777) !== DIR_MODE) fs.chmodSync(home, DIR_MODE);
  } catch (e) {
    if (e instanceof PhantomError) throw e;
    throw fsError("create", home, e);
  }
}

/**
 * Take group and others' access away from an existing state file and its folder (a copy
 * restored with `cp`, an old client): PROTOCOL §3 wants 0600 in 0700. Best effort: a file
 * we may not chmod is left as it is (reading it works anyway).
 */
export function tightenModes(home: string, path: string): void {
  for (const [p, mode] of [
    [home, DIR_MODE],
    [path, FILE_MODE],
  ] as const) {
    try {
      const st = fs.statSync(p);
      if ((st.mode & 0o077) !== 0) fs.chmodSync(p, mode);
    } catch {
      // not ours to change, or gone: nothing to tighten
    }
  }
}

export function statePath(home: string, name: string): string {
  return join(home, name);
}

/** The text of a state file, or null when it does not exist. */
export function readStateText(path: string): string | null {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw fsError("read", path, e);
  }
}

/** Parse a state file with a schema; a bad file is "corrupt file <path>: <what is wrong>". */
export function parseState<T extends z.ZodType>(schema: T, text: string, path: string): z.infer<T> {
  try {
    return parseJson(schema, text, path);
  } catch (e) {
    if (e instanceof WireError) {
      throw new PhantomError("corrupt-file", `corrupt file ${e.message} (fix or move it away; nothing was changed)`, {
        cause: e,
      });
    }
    throw e;
  }
}

/** Read and validate a JSON state file; null when it does not exist. */
export function readState<T extends z.ZodType>(schema: T, path: string): z.infer<T> | null {
  const text = readStateText(path);
  return text === null ? null : parseState(schema, text, path);
}

/** Temp files of writeAtomic: hidden, in the target's folder, named `.phantom-<16 hex>.tmp`. */
export const TEMP_FILE_RE = /^\.phantom-[0-9a-f]{16}\.tmp$/;

/**
 * A temp file beside `path` (same folder, so the rename is atomic). Its name does not grow
 * with the target's: a received file may have a name of the full 255 bytes (PROTOCOL §5.3).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.phantom-${randomBytes(8).toString("hex")}.tmp`);
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a folder; the rename itself is still atomic.
  }
}

function writeTemp(path: string, data: string | Uint8Array): string {
  const tmp = tempPathFor(path);
  const fd = fs.openSync(tmp, "wx", FILE_MODE);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return tmp;
}

/** link() errors of file systems without hard links (FAT and exFAT say EPERM, some shares ENOTSUP). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * Put the finished temp file at `path` only if nothing is there: a hard link fails on an
 * existing name. Where there are no hard links (a USB stick), the name is taken with an
 * exclusive create first and the temp file renamed over that empty placeholder.
 */
export function installExclusive(tmp: string, path: string, testOnlyLink: typeof fs.linkSync = fs.linkSync): void {
  try {
    testOnlyLink(tmp, path);
    fs.unlinkSync(tmp);
    return;
  } catch (e) {
    if (!NO_HARD_LINKS.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
  }
  fs.closeSync(fs.openSync(path, "wx", FILE_MODE));
  try {
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(path, { force: true }); // our empty placeholder
    throw e;
  }
}

/**
 * Atomic write: temp file (0600) in the same folder, fsync, rename over `path`.
 * With `exclusive`, never replaces an existing file (see installExclusive).
 */
export function writeAtomic(path: string, data: string | Uint8Array, o: { exclusive?: boolean } = {}): void {
  let tmp: string | null = null;
  try {
    tmp = writeTemp(path, data);
    if (o.exclusive) {
      installExclusive(tmp, path);
    } else {
      fs.renameSync(tmp, path);
    }
    tmp = null;
    fsyncDir(dirname(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new PhantomError("exists", `${path} already exists`, { cause: e });
    }
    throw fsError("write", path, e);
  } finally {
    if (tmp !== null) fs.rmSync(tmp, { force: true });
  }
}

/** Write a JSON state file atomically (pretty-printed, 0600). */
export function writeState(path: string, value: unknown): void {
  writeAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
