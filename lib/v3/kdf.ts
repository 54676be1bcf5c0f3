// PROTOCOL-v3 §V4 (SK, SID, SAD) and §V5.1 (KDF_RK, KDF_CK, message key and nonce).
import * as nc from "node:crypto";
import { concatBytes, utf8 } from "../encoding.ts";

export const LABEL_PQXDH = "phantom-v3-pqxdh";
export const LABEL_SID = "phantom-v3-sid";
export const LABEL_AD = "phantom-v3";
export const LABEL_RK = "phantom-v3-rk";
export const LABEL_MK = "phantom-v3-mk";
export const SID_LEN = 8;
const ZERO32 = new Uint8Array(32);
const EMPTY = new Uint8Array(0);

/** HKDF-SHA256 (RFC 5869). */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(nc.hkdfSync("sha256", ikm, salt, utf8.encode(info), length));
}

export function hmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(nc.createHmac("sha256", key).update(msg).digest());
}

/** PROTOCOL-v3 §V4: the HKDF input 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ [DH4] ‖ SS. */
export function pqxdhIkm(dhs: Uint8Array[], ss: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array(32).fill(0xff), ...dhs, ss);
}

/** PROTOCOL-v3 §V4: SK = HKDF(ikm, zero32, "phantom-v3-pqxdh", 32). */
export function pqxdhSecret(dhs: Uint8Array[], ss: Uint8Array): Uint8Array {
  return hkdf(pqxdhIkm(dhs, ss), ZERO32, LABEL_PQXDH, 32);
}

/** PROTOCOL-v3 §V4: SID = HKDF(SK, zero32, "phantom-v3-sid", 8). */
export function sessionId(sk: Uint8Array): Uint8Array {
  return hkdf(sk, ZERO32, LABEL_SID, SID_LEN);
}

/** PROTOCOL-v3 §V4: SAD = "phantom-v3" ‖ IK_A ‖ IK_B (the initiator's key first). */
export function sessionAd(ikInitiator: Uint8Array, ikResponder: Uint8Array): Uint8Array {
  return concatBytes(utf8.encode(LABEL_AD), ikInitiator, ikResponder);
}

/** PROTOCOL-v3 §V5.1: KDF_RK(rk, dh_out, kem_ss) → [rk', ck]; kem_ss empty for a step without a KEM ciphertext. */
export function kdfRk(rk: Uint8Array, dhOut: Uint8Array, kemSs: Uint8Array = EMPTY): [Uint8Array, Uint8Array] {
  const out = hkdf(concatBytes(dhOut, kemSs), rk, LABEL_RK, 64);
  return [out.slice(0, 32), out.slice(32, 64)];
}

const ONE = Uint8Array.of(0x01);
const TWO = Uint8Array.of(0x02);

/** PROTOCOL-v3 §V5.1: KDF_CK(ck) → [ck', mk] (mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02)). */
export function kdfCk(ck: Uint8Array): [Uint8Array, Uint8Array] {
  return [hmac(ck, TWO), hmac(ck, ONE)];
}

/** PROTOCOL-v3 §V5.1: HKDF(mk, zero32, "phantom-v3-mk", 44) → key [0..32], nonce [32..44]. */
export function messageKeys(mk: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdf(mk, ZERO32, LABEL_MK, 44);
  return { key: out.slice(0, 32), nonce: out.slice(32, 44) };
}
