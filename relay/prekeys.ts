// PROTOCOL-v3 §V3: the relay's prekey rules — limits, the request bodies, and the checks of an
// upload (lengths and signatures per kind) — kept apart from the handlers (relay/routes/prekeys.ts).
import type { z } from "zod";
import type { PrekeyObject, PublishBody } from "../lib/v3/prekey-wire.ts";
import { b64decode, b64encode, b64udecode, b64uencode } from "../lib/encoding.ts";
import { PREKEY_KIND, type PrekeyKind, prekeyPubLength, verifyPrekey } from "../lib/v3/prekey.ts";
import type { KeyObject } from "node:crypto";
import { badRequest } from "./errors.ts";
import type { PrekeyUpload, StoredPrekey } from "./store.ts";

/** PROTOCOL-v3 §V3.1: one-time keys a store holds per UID at most. */
export const MAX_OPKS = 100;
export const MAX_OPQKS = 10;
/** PROTOCOL-v3 §V3.3: one OPK and one OPQK of a target per signer per 24 h. */
export const PREKEY_GRANT_WINDOW_S = 86_400;
/** PROTOCOL-v3 §V3.3: bundle requests per signer per hour. */
export const BUNDLE_RATE_LIMIT = 60;
export const BUNDLE_RATE_WINDOW_S = 3600;

export { BundleBody, PublishBody } from "../lib/v3/prekey-wire.ts";

function decodeKey(o: PrekeyObject, kind: PrekeyKind, field: string, signPub: KeyObject): StoredPrekey {
  let pub: Uint8Array;
  let sig: Uint8Array;
  try {
    pub = b64decode(o.pub);
    sig = b64udecode(o.sig);
  } catch {
    throw badRequest(`${field}: pub must be b64 and sig b64u`);
  }
  if (pub.length !== prekeyPubLength(kind)) throw badRequest(`${field}: pub must be ${prekeyPubLength(kind)} bytes`);
  if (sig.length !== 64) throw badRequest(`${field}: sig must be 64 bytes`);
  // PROTOCOL-v3 §V3.1: checked with its field's kind byte against the signer's sign_pub.
  if (!verifyPrekey(signPub, kind, o.id, pub, sig)) throw badRequest(`${field}: bad signature`);
  return { id: o.id, pub, sig };
}

/** PROTOCOL-v3 §V3.1: every length and signature of an upload, and no id twice in it (400). */
export function checkUpload(
  body: Exclude<z.infer<typeof PublishBody>, { clear: true }>,
  signPub: KeyObject,
): PrekeyUpload {
  const up: PrekeyUpload = {
    spk: body.spk && decodeKey(body.spk, PREKEY_KIND.SPK, "spk", signPub),
    pqspk: body.pqspk && decodeKey(body.pqspk, PREKEY_KIND.PQSPK, "pqspk", signPub),
    opks: (body.opks ?? []).map((o, i) => decodeKey(o, PREKEY_KIND.OPK, `opks[${i}]`, signPub)),
    opqks: (body.opqks ?? []).map((o, i) => decodeKey(o, PREKEY_KIND.OPQK, `opqks[${i}]`, signPub)),
  };
  if (new Set(uploadIds(up)).size !== uploadIds(up).length) throw badRequest("an id appears twice in the upload");
  return up;
}

export function uploadIds(up: PrekeyUpload): number[] {
  const ids = [...up.opks, ...up.opqks].map((k) => k.id);
  if (up.spk) ids.push(up.spk.id);
  if (up.pqspk) ids.push(up.pqspk.id);
  return ids;
}

/** A prekey as the §V3 JSON object. */
export function prekeyJson(k: StoredPrekey): { id: number; pub: string; sig: string } {
  return { id: k.id, pub: b64encode(k.pub), sig: b64uencode(k.sig) };
}
