// The identity vault file: $PHANTOM_HOME/identity.json (PROTOCOL §3).
// Sealing and opening are lib/crypto's; this file adds the file handling and
// errors that name the file. A wrong password stays CryptoError("wrong-password").

import { existsSync } from "node:fs";
import { type Identity, openVaultKeyed, sealVaultKeyed } from "../../lib/crypto.ts";
import { CryptoError, PhantomError } from "../../lib/errors.ts";
import { VaultFile } from "../../lib/wire.ts";
import { ensureHome, IDENTITY_FILE, parseState, readStateText, statePath, tightenModes, writeAtomic } from "./home.ts";

/** The shortest password a new identity may be sealed with (in characters). */
export const MIN_PASSWORD_LENGTH = 8;

export function checkNewPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new PhantomError("weak-password", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

export function identityPath(home: string): string {
  return statePath(home, IDENTITY_FILE);
}

export function hasIdentity(home: string): boolean {
  return existsSync(identityPath(home));
}

/** Seal `id` under `password` and write identity.json; refuses to replace an existing identity. */
export async function writeIdentity(home: string, id: Identity, password: string): Promise<void> {
  (await writeIdentityKeyed(home, id, password)).fill(0);
}

/**
 * writeIdentity that returns the vault key (the scrypt output of PROTOCOL §3), from which
 * state.db's key is derived (PROTOCOL-v3 §V8). The caller zeroes it.
 */
export async function writeIdentityKeyed(home: string, id: Identity, password: string): Promise<Uint8Array> {
  const path = identityPath(home);
  if (hasIdentity(home)) throw new PhantomError("identity-exists", `an identity already exists in ${path}`);
  ensureHome(home);
  const { vault, key } = await sealVaultKeyed(id, password);
  // PROTOCOL §3: file 0600 in a 0700 folder, written atomically, never over another identity.
  try {
    writeAtomic(path, `${JSON.stringify(vault)}\n`, { exclusive: true });
    return key;
  } catch (e) {
    key.fill(0);
    if (e instanceof PhantomError && e.code === "exists") {
      throw new PhantomError("identity-exists", `an identity already exists in ${path}`, { cause: e });
    }
    throw e;
  }
}

/** Open identity.json. Missing → "no identity"; corrupt → names the file; wrong password → "wrong password". */
export async function openIdentity(home: string, password: string): Promise<Identity> {
  const { id, key } = await openIdentityKeyed(home, password);
  key.fill(0);
  return id;
}

/**
 * openIdentity that also returns the vault key (the scrypt output of PROTOCOL §3), from which
 * state.db's key is derived (PROTOCOL-v3 §V8). The caller zeroes it.
 */
export async function openIdentityKeyed(home: string, password: string): Promise<{ id: Identity; key: Uint8Array }> {
  const path = identityPath(home);
  const text = readStateText(path);
  if (text === null) throw new PhantomError("no-identity", `no identity in ${home}: run 'phantom init' first`);
  tightenModes(home, path);
  const vault = parseState(VaultFile, text, path);
  try {
    return await openVaultKeyed(vault, password);
  } catch (e) {
    if (e instanceof CryptoError && e.code === "wrong-password") throw e;
    if (e instanceof PhantomError) {
      throw new PhantomError("corrupt-file", `corrupt file ${path}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
