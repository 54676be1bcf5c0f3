// PROTOCOL-v3 §V2: prekey kinds, sizes and the prekey signature, shared by the relay (which checks
// every uploaded signature, §V3.1) and the client (which makes them, and checks fetched bundles, §V3.3).
import { sign, verify } from "../crypto.ts";
import { concatBytes, utf8 } from "../encoding.ts";

/** PROTOCOL-v3 §V2: the kind byte of each prekey. */
export const PREKEY_KIND = { SPK: 1, PQSPK: 2, OPK: 3, OPQK: 4 } as const;
export type PrekeyKind = (typeof PREKEY_KIND)[keyof typeof PREKEY_KIND];

/** PROTOCOL-v3 §V2 / notation: sizes in bytes. */
export const X25519_PUB_LEN = 32;
export const MLKEM_EK_LEN = 1184;
export const MLKEM_DK_LEN = 2400;
export const MLKEM_CT_LEN = 1088;
export const MLKEM_SS_LEN = 32;

/** The length of a prekey's `pub` for its kind. */
export function prekeyPubLength(kind: PrekeyKind): number {
  return kind === PREKEY_KIND.SPK || kind === PREKEY_KIND.OPK ? X25519_PUB_LEN : MLKEM_EK_LEN;
}

/** PROTOCOL-v3 §V2: ids are 0 … 0xFFFFFFFE; 0xFFFFFFFF means "no OPK" in §V7. */
export const NO_OPK_ID = 0xffffffff;
export const PREKEY_LABEL = "phantom-v3-prekey";

/** PROTOCOL-v3 §V2: "phantom-v3-prekey" ‖ u8(kind) ‖ u32(id) ‖ pub, the bytes a prekey's sig covers. */
export function prekeySignedBytes(kind: PrekeyKind, id: number, pub: Uint8Array): Uint8Array {
  const head = new Uint8Array(5);
  const v = new DataView(head.buffer);
  v.setUint8(0, kind);
  v.setUint32(1, id, false);
  return concatBytes(utf8.encode(PREKEY_LABEL), head, pub);
}

export function signPrekey(signSeed: Uint8Array, kind: PrekeyKind, id: number, pub: Uint8Array): Uint8Array {
  return sign(signSeed, prekeySignedBytes(kind, id, pub));
}

/** False (never a throw) for a bad signature; a bad `signPub` throws as lib/crypto verify does. */
export function verifyPrekey(
  signPub: Parameters<typeof verify>[0],
  kind: PrekeyKind,
  id: number,
  pub: Uint8Array,
  sig: Uint8Array,
): boolean {
  return verify(signPub, prekeySignedBytes(kind, id, pub), sig);
}
