// The burn list of an unfinished panic: $PHANTOM_HOME/burn-list.json. Panic deletes the identity
// at once, but the relay burns at most 10 rooms per 10 minutes (PROTOCOL §7.7); what is left to
// burn is kept here, sealed under the password, until `phantom panic --finish` has burned it all.
// It holds only what a burn needs: the UID, the Ed25519 signing seed (§6), the §7.7 burn key per
// relay auth key (derived, never the X25519 identity key) and the room ids, per relay URL.

import { withStateLock } from "./lock.ts";
import { existsSync, rmSync } from "node:fs";
import { NONCE_LEN, openBurnList, randomBytes, sealBurnList, VAULT_SALT_LEN, vaultKey } from "../../lib/crypto.ts";
import { b64decode, b64encode, b64udecode, b64uencode, utf8 } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { BurnListFile, BurnListPlaintext, parseJson } from "../../lib/wire.ts";
import { BURN_LIST_FILE, ensureHome, parseState, readStateText, statePath, tightenModes, writeAtomic } from "./home.ts";

export interface BurnRelay {
  url: string;
  /** The relay's §7.7 auth key (b64) that `burnKey` was derived for; null: the relay had none, or was not reached. */
  authPub: string | null;
  burnKey: Uint8Array | null;
  /** Room ids (§4.1) still to burn. */
  rooms: string[];
}

export interface BurnList {
  uid: string;
  signSeed: Uint8Array;
  relays: BurnRelay[];
}

/** An opened burn list and the key it is sealed with (kept in memory, so each update is one AEAD, no scrypt). */
export interface OpenBurnList {
  list: BurnList;
  key: Uint8Array;
  salt: Uint8Array;
}

export function burnListPath(home: string): string {
  return statePath(home, BURN_LIST_FILE);
}

export function roomsLeft(list: BurnList): number {
  return list.relays.reduce((n, r) => n + r.rooms.length, 0);
}

/** The number of rooms still to burn, read without the password (it is in the clear); null: no burn list. */
export function burnListLeft(home: string): number | null {
  const path = burnListPath(home);
  const text = readStateText(path);
  return text === null ? null : parseState(BurnListFile, text, path).left;
}

function seal(o: OpenBurnList): string {
  const nonce = randomBytes(NONCE_LEN);
  const plain = utf8.encode(
    JSON.stringify({
      uid: o.list.uid,
      sign_seed: b64uencode(o.list.signSeed),
      relays: o.list.relays.map((r) => ({
        url: r.url,
        auth_pub: r.authPub,
        burn_key: r.burnKey === null ? null : b64encode(r.burnKey),
        rooms: r.rooms,
      })),
    }),
  );
  const ct = sealBurnList(o.key, nonce, plain);
  plain.fill(0);
  const file: BurnListFile = {
    left: roomsLeft(o.list),
    salt: b64encode(o.salt),
    nonce: b64encode(nonce),
    ct: b64encode(ct),
  };
  return `${JSON.stringify(file)}\n`;
}

function unseal(file: BurnListFile, key: Uint8Array): BurnList {
  const pt = openBurnList(key, b64decode(file.nonce), b64decode(file.ct));
  const inner = parseJson(BurnListPlaintext, utf8.decode(pt, "burn list"), "burn list contents");
  pt.fill(0);
  return {
    uid: inner.uid,
    signSeed: b64udecode(inner.sign_seed),
    relays: inner.relays.map((r) => ({
      url: r.url,
      authPub: r.auth_pub,
      burnKey: r.burn_key === null ? null : b64decode(r.burn_key),
      rooms: r.rooms,
    })),
  };
}

/** Write a new burn list (0600, atomic), sealed under a fresh scrypt key of `password`. Empty: nothing is written. */
export async function createBurnList(home: string, list: BurnList, password: string): Promise<OpenBurnList> {
  const salt = randomBytes(VAULT_SALT_LEN);
  const opened: OpenBurnList = { list, key: await vaultKey(password, salt), salt };
  if (roomsLeft(list) > 0) {
    ensureHome(home);
    writeAtomic(burnListPath(home), seal(opened));
  }
  return opened;
}

function readFile(home: string): BurnListFile | null {
  const path = burnListPath(home);
  const text = readStateText(path);
  if (text === null) return null;
  tightenModes(home, path);
  return parseState(BurnListFile, text, path);
}

/** Open the burn list with the password: null when there is none; a wrong password is CryptoError("wrong-password"). */
export async function openBurnListFile(home: string, password: string): Promise<OpenBurnList | null> {
  const file = readFile(home);
  if (file === null) return null;
  const salt = b64decode(file.salt);
  const key = await vaultKey(password, salt);
  try {
    return { list: unseal(file, key), key, salt };
  } catch (e) {
    key.fill(0);
    throw e;
  }
}

/**
 * Read-modify-write of the burn list: re-read from disk (another process may have burned some),
 * apply `change`, write it back sealed with a fresh nonce, or delete the file once no room is left.
 * Returns the list as written.
 */
export function updateBurnList(home: string, o: OpenBurnList, change: (list: BurnList) => void): BurnList {
  return withStateLock(home, () => updateLocked(home, o, change));
}

function updateLocked(home: string, o: OpenBurnList, change: (list: BurnList) => void): BurnList {
  const file = readFile(home);
  let list: BurnList;
  if (file === null) {
    list = { ...o.list, relays: [] }; // finished by another process
  } else {
    if (b64encode(o.salt) !== file.salt) {
      throw new PhantomError("burn-list-changed", `${burnListPath(home)} was replaced by another panic`);
    }
    list = unseal(file, o.key);
  }
  change(list);
  o.list = list;
  if (roomsLeft(list) === 0) rmSync(burnListPath(home), { force: true });
  else writeAtomic(burnListPath(home), seal(o));
  return list;
}

export function hasBurnList(home: string): boolean {
  return existsSync(burnListPath(home));
}

/** Forget the keys held in memory. */
export function closeBurnList(o: OpenBurnList): void {
  o.key.fill(0);
  o.list.signSeed.fill(0);
  for (const r of o.list.relays) r.burnKey?.fill(0);
}
