// PROTOCOL-v3 §V4/§V5: X25519 for the handshake and the ratchet. An all-zero output (a low-order
// peer key; OpenSSL refuses to compute it) is the §V12 refusal `low-order`.
import * as nc from "node:crypto";
import { V3Error } from "./errors.ts";

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

export interface DhPair {
  priv: Uint8Array;
  pub: Uint8Array;
}

function privKey(priv: Uint8Array): nc.KeyObject {
  if (priv.length !== 32) throw new V3Error("malformed", "X25519 private key length");
  return nc.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, priv]), format: "der", type: "pkcs8" });
}

/** The X25519 key pair of a 32-byte private key (drawn by the caller). */
export function dhPair(priv: Uint8Array): DhPair {
  const der = nc.createPublicKey(privKey(priv)).export({ format: "der", type: "spki" });
  return { priv: Uint8Array.from(priv), pub: new Uint8Array(der.subarray(der.length - 32)) };
}

/** X25519(priv, pub); throws V3Error low-order when the output is all zero. */
export function dh(priv: Uint8Array, pub: Uint8Array): Uint8Array {
  if (pub.length !== 32) throw new V3Error("malformed", "X25519 public key length");
  let out: Uint8Array;
  try {
    const publicKey = nc.createPublicKey({ key: Buffer.concat([SPKI_X25519, pub]), format: "der", type: "spki" });
    out = new Uint8Array(nc.diffieHellman({ privateKey: privKey(priv), publicKey }));
  } catch (cause) {
    throw new V3Error("low-order", "X25519 output is all zero (OpenSSL refuses it)", { cause });
  }
  if (out.every((b) => b === 0)) throw new V3Error("low-order", "X25519 output is all zero");
  return out;
}
