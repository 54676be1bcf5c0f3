// PROTOCOL-v3 notation / §V4 / §V5: ML-KEM-768 (FIPS 203) through @noble/post-quantum, with the
// randomness always supplied by the caller (the 64-byte d ‖ z seed, the 32-byte Encaps message).
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { MLKEM_CT_LEN, MLKEM_DK_LEN, MLKEM_EK_LEN } from "./prekey.ts";
import { V3Error } from "./errors.ts";

export const MLKEM_SEED_LEN = 64;
export const MLKEM_M_LEN = 32;
const Q = 3329;

export interface KemPair {
  ek: Uint8Array;
  dk: Uint8Array;
}

/** ML-KEM.KeyGen_internal(d = seed[0..32], z = seed[32..64]). */
export function kemKeygen(seed: Uint8Array): KemPair {
  if (seed.length !== MLKEM_SEED_LEN) throw new V3Error("malformed", "ML-KEM seed length");
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  return { ek: publicKey, dk: secretKey };
}

/**
 * FIPS 203 §7.2 encapsulation-key check: the length, and the modulus check (every 12-bit
 * coefficient of the 3 encoded polynomials below q, i.e. ByteEncode12(ByteDecode12(ek)) = ek).
 */
export function checkEk(ek: Uint8Array): boolean {
  if (ek.length !== MLKEM_EK_LEN) return false;
  for (let i = 0; i < 1152; i += 3) {
    const b0 = ek[i]!,
      b1 = ek[i + 1]!,
      b2 = ek[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= Q || ((b1 >> 4) | (b2 << 4)) >= Q) return false;
  }
  return true;
}

/** Encaps(ek) with the injected 32-byte message m; the ek must already have passed checkEk. */
export function kemEncaps(ek: Uint8Array, m: Uint8Array): { ct: Uint8Array; ss: Uint8Array } {
  if (!checkEk(ek)) throw new V3Error("malformed", "ML-KEM encapsulation key check");
  if (m.length !== MLKEM_M_LEN) throw new V3Error("malformed", "ML-KEM message length");
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(ek, m);
  return { ct: cipherText, ss: sharedSecret };
}

/** Decaps(dk, ct): implicit rejection (a wrong ct gives a pseudo-random ss, never a throw). */
export function kemDecaps(dk: Uint8Array, ct: Uint8Array): Uint8Array {
  if (dk.length !== MLKEM_DK_LEN || ct.length !== MLKEM_CT_LEN) throw new V3Error("malformed", "ML-KEM lengths");
  return ml_kem768.decapsulate(ct, dk);
}
