// This client's prekey bundle on the relay (PROTOCOL-v3 §V1, §V2, §V3.1, §V3.2): made after `init`
// and topped up at most hourly when a command talks to a v3 relay; the private halves are sealed in
// state.db (client/state/ratchet-store.ts) in one transaction BEFORE the upload, so an upload that
// succeeds never names a key this client does not hold. Cleared on the relay by panic (§V3.1).
import { randomBytes, x25519Public } from "../../lib/crypto.ts";
import { b64encode, b64uencode } from "../../lib/encoding.ts";
import { kemKeygen, MLKEM_SEED_LEN } from "../../lib/v3/mlkem.ts";
import { NO_OPK_ID, PREKEY_KIND, signPrekey, type PrekeyKind } from "../../lib/v3/prekey.ts";
import type { PrekeyObject, PrekeyStatus, PrekeyUpload } from "../net/relay-client.ts";
import {
  deletePrekey,
  getPrekey,
  listPrekeys,
  markPrekeyId,
  prekeyIdState,
  putPrekey,
} from "../state/ratchet-store.ts";
import type { StateDb } from "../state/state-db.ts";

/** What a full bundle carries (§V3.1 caps the store at 100 and 10). */
export const OPK_TARGET = 100;
export const OPQK_TARGET = 10;
/** §V3.2: top up below these. */
export const OPK_LOW = 20;
export const OPQK_LOW = 3;
/** §V2: the SPK (with the PQSPK) is replaced every 7 days and its private key kept 14 days longer. */
export const SPK_LIFETIME_S = 7 * 86_400;
export const SPK_KEEP_S = 14 * 86_400;
/** How often a command may ask the relay how the bundle stands. */
export const CHECK_INTERVAL_S = 3600;

const META_CHECKED = "v3:prekeys-checked";
const META_SPK = "v3:spk-id";
const KINDS = Object.values(PREKEY_KIND) as PrekeyKind[];

/** What the relay needs of this client: §V3.1 and §V3.2. */
export interface PrekeyRelay {
  prekeyStatus(): Promise<PrekeyStatus>;
  publishPrekeys(body: PrekeyUpload): Promise<{ opks: number; opqks: number }>;
}

/** §V2: a random id in 0 … 0xFFFFFFFE that this identity never used, in any kind. */
function freshId(db: StateDb, taken: Set<number>): number {
  for (;;) {
    const b = randomBytes(4);
    const id = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (id === NO_OPK_ID || taken.has(id)) continue;
    if (KINDS.some((k) => prekeyIdState(db, k, id) !== null || getPrekey(db, k, id) !== null)) continue;
    taken.add(id);
    return id;
  }
}

/** A new prekey of `kind`: its private part (X25519 key or ML-KEM seed), stored sealed, and its object. */
function newPrekey(db: StateDb, signSeed: Uint8Array, kind: PrekeyKind, now: number, taken: Set<number>): PrekeyObject {
  const id = freshId(db, taken);
  const x = kind === PREKEY_KIND.SPK || kind === PREKEY_KIND.OPK;
  const secret = randomBytes(x ? 32 : MLKEM_SEED_LEN);
  const pub = x ? x25519Public(secret) : kemKeygen(secret).ek;
  putPrekey(db, kind, id, secret, now);
  markPrekeyId(db, kind, id, "published", now);
  return { id, pub: b64encode(pub), sig: b64uencode(signPrekey(signSeed, kind, id, pub)) };
}

/**
 * What to upload for `status`, made and sealed in one transaction (null: nothing is missing). A
 * new SPK and PQSPK when the relay has none or ours is 7 days old; OPKs and OPQKs back to 100 and
 * 10 when fewer than 20 or 3 remain. SPKs and PQSPKs replaced more than 14 days ago are deleted.
 */
export function planUpload(db: StateDb, signSeed: Uint8Array, status: PrekeyStatus, now: number): PrekeyUpload | null {
  return db.tx(() => {
    const taken = new Set<number>();
    const up: PrekeyUpload = {};
    const current = Number(db.meta(META_SPK) ?? -1);
    const created = listPrekeys(db, PREKEY_KIND.SPK).find((p) => p.id === current)?.created;
    const held = status.spk_id !== null && status.spk_id === current && status.pqspk_id !== null;
    if (!held || created === undefined || now - created >= SPK_LIFETIME_S) {
      up.spk = newPrekey(db, signSeed, PREKEY_KIND.SPK, now, taken);
      up.pqspk = newPrekey(db, signSeed, PREKEY_KIND.PQSPK, now, taken);
      db.setMeta(META_SPK, up.spk.id);
      for (const kind of [PREKEY_KIND.SPK, PREKEY_KIND.PQSPK]) {
        for (const p of listPrekeys(db, kind)) {
          if (p.created <= now - SPK_LIFETIME_S - SPK_KEEP_S) deletePrekey(db, kind, p.id);
        }
      }
    }
    if (status.opks < OPK_LOW) {
      up.opks = Array.from({ length: OPK_TARGET - status.opks }, () =>
        newPrekey(db, signSeed, PREKEY_KIND.OPK, now, taken),
      );
    }
    if (status.opqks < OPQK_LOW) {
      up.opqks = Array.from({ length: OPQK_TARGET - status.opqks }, () =>
        newPrekey(db, signSeed, PREKEY_KIND.OPQK, now, taken),
      );
    }
    return Object.keys(up).length === 0 ? null : up;
  });
}

/** An hour has passed since the bundle was last checked (or it never was). */
export function bundleCheckDue(db: StateDb, now = Math.floor(Date.now() / 1000)): boolean {
  return now - Number(db.meta(META_CHECKED) ?? 0) >= CHECK_INTERVAL_S;
}

/**
 * Keep the bundle on the relay complete: at most once an hour unless `force` (after init). Returns
 * what was uploaded (null: nothing was needed or it was not time yet).
 */
export async function topUpBundle(
  db: StateDb,
  signSeed: Uint8Array,
  relay: PrekeyRelay,
  o: { now?: number; force?: boolean } = {},
): Promise<PrekeyUpload | null> {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  if (!o.force && !bundleCheckDue(db, now)) return null;
  const up = planUpload(db, signSeed, await relay.prekeyStatus(), now);
  if (up !== null) await relay.publishPrekeys(up);
  db.setMeta(META_CHECKED, now);
  return up;
}
