// PROTOCOL-v3 §V2.1: the safety code over both people's IK and signing key.
import { createHash } from "node:crypto";
import { base32encode, concatBytes, utf8 } from "../encoding.ts";

export const LABEL_SAFETY = "phantom-v3-safety";

export interface SafetyParty {
  uid: string;
  ik: Uint8Array;
  signPub: Uint8Array;
}

/** The bytes hashed: "phantom-v3-safety" ‖ IK_lo ‖ sign_lo ‖ IK_hi ‖ sign_hi, lo/hi by UID in code point order. */
export function safetyInput(a: SafetyParty, b: SafetyParty): Uint8Array {
  const [lo, hi] = a.uid < b.uid ? [a, b] : [b, a];
  return concatBytes(utf8.encode(LABEL_SAFETY), lo.ik, lo.signPub, hi.ik, hi.signPub);
}

/** base32 (upper case, no padding) of the SHA-256, first 40 characters in 8 groups of 5. */
export function safetyCode(a: SafetyParty, b: SafetyParty): string {
  const digest = new Uint8Array(createHash("sha256").update(safetyInput(a, b)).digest());
  return base32encode(digest).slice(0, 40).match(/.{5}/g)!.join(" ");
}
