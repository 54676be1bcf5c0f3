// The data folder: created 0700, every file in it 0600,
// and the file-id key generated once and kept there unless PHANTOM_FILE_ID_KEY_B64 is set.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "../lib/crypto.ts";
import { b64decode, b64encode } from "../lib/encoding.ts";
import { PhantomError } from "../lib/errors.ts";

export const FILE_ID_KEY_FILE = "file-id.key";
export const DB_FILE = "relay.db";

/** Create (or tighten) the data folder; files the process creates from now on are 0600. */
export function prepareDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** PROTOCOL §9: the configured key, else the one kept in the data folder, else a new one written there. */
export function fileIdKey(dir: string, configured: Uint8Array | null): Uint8Array {
  if (configured) return configured;
  const path = join(dir, FILE_ID_KEY_FILE);
  try {
    const fd = openSync(path, "wx", 0o600);
    const key = randomBytes(32);
    try {
      writeSync(fd, `${b64encode(key)}\n`);
    } finally {
      closeSync(fd);
    }
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  let key: Uint8Array;
  try {
    key = b64decode(readFileSync(path, "utf8").trim());
  } catch {
    throw new PhantomError("bad-key-file", `the file-id key in the data folder is unreadable or damaged`);
  }
  if (key.length !== 32) throw new PhantomError("bad-key-file", "the file-id key in the data folder is damaged");
  return key;
}
