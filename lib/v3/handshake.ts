// PROTOCOL-v3 §V4: the PQXDH-style handshake, initiator and responder, each check in the
// order §V4 gives. Pure: randomness comes from `draw`, key stores are looked up, never changed.
import { type DhPair, dh, dhPair } from "./dh.ts";
import { V3Error } from "./errors.ts";
import { pqxdhSecret, sessionAd, sessionId } from "./kdf.ts";
import { kemDecaps, kemEncaps, kemKeygen } from "./mlkem.ts";
import { NO_OPK_ID, PREKEY_KIND } from "./prekey.ts";
import type { Draw } from "./ratchet.ts";
import type { PrekeyField } from "./wire.ts";

/** The parts of a checked §V3.3 bundle the handshake uses (see bundle.ts checkBundle). */
export interface BundleKeys {
  ik: Uint8Array;
  spk: { id: number; pub: Uint8Array };
  pqspk: { id: number; pub: Uint8Array };
  opk: { id: number; pub: Uint8Array } | null;
  opqk: { id: number; pub: Uint8Array } | null;
}

export interface HandshakeResult {
  sk: Uint8Array;
  sid: Uint8Array;
  sad: Uint8Array;
  /** The DH outputs DH1…DH3[, DH4] and the KEM secret, for tests; callers drop them. */
  dhs: Uint8Array[];
  ss: Uint8Array;
}

/** Alice: EK drawn, DH1…DH4, Encaps to OPQK (else PQSPK). Throws low-order on a zero DH. */
export function initiatorHandshake(
  bundle: BundleKeys,
  ourIk: DhPair,
  draw: Draw,
): HandshakeResult & { prekey: PrekeyField; ek: DhPair } {
  const ek = dhPair(draw(32, "handshake-ek"));
  const dhs = [dh(ourIk.priv, bundle.spk.pub), dh(ek.priv, bundle.ik), dh(ek.priv, bundle.spk.pub)];
  if (bundle.opk) dhs.push(dh(ek.priv, bundle.opk.pub));
  const pq = bundle.opqk ? { kind: PREKEY_KIND.OPQK, ...bundle.opqk } : { kind: PREKEY_KIND.PQSPK, ...bundle.pqspk };
  const { ct, ss } = kemEncaps(pq.pub, draw(32, "handshake-pq-m"));
  const sk = pqxdhSecret(dhs, ss);
  const prekey: PrekeyField = {
    ek: ek.pub,
    spkId: bundle.spk.id,
    opkId: bundle.opk ? bundle.opk.id : NO_OPK_ID,
    pqKind: pq.kind,
    pqId: pq.id,
    pqCt: ct,
  };
  return { sk, sid: sessionId(sk), sad: sessionAd(ourIk.pub, bundle.ik), dhs, ss, prekey, ek };
}

/**
 * The receiver's private prekeys, looked up by id: X25519 private keys (32 bytes) for SPK/OPK,
 * 64-byte ML-KEM seeds (d ‖ z) for PQSPK/OPQK; null when not held.
 */
export interface PrekeyStore {
  spk(id: number): Uint8Array | null;
  opk(id: number): Uint8Array | null;
  pqspk(id: number): Uint8Array | null;
  opqk(id: number): Uint8Array | null;
  /** True for a SID of a session dropped in the last 21 days (§V5.6). */
  dropped(sid: Uint8Array): boolean;
}

/**
 * Bob on a type-2 message with an unknown SID, §V4 order: unknown-spk, unknown-opk, unknown-pqk,
 * dropped-session, low-order, then Decaps, SK and sid-mismatch. AEAD and padding follow in §V5.5.
 */
export function responderHandshake(
  prekey: PrekeyField,
  headerSid: Uint8Array,
  ourIk: DhPair,
  peerIk: Uint8Array,
  store: PrekeyStore,
): HandshakeResult & { spk: DhPair } {
  const spkPriv = store.spk(prekey.spkId);
  if (!spkPriv) throw new V3Error("unknown-spk", `signed prekey ${prekey.spkId} not held`);
  let opkPriv: Uint8Array | null = null;
  if (prekey.opkId !== NO_OPK_ID) {
    opkPriv = store.opk(prekey.opkId);
    if (!opkPriv) {
      throw new V3Error("unknown-opk", `one-time prekey ${prekey.opkId} not held (consumed or never issued)`);
    }
  }
  const pqSeed = prekey.pqKind === PREKEY_KIND.OPQK ? store.opqk(prekey.pqId) : store.pqspk(prekey.pqId);
  if (!pqSeed) throw new V3Error("unknown-pqk", `PQ prekey ${prekey.pqKind}/${prekey.pqId} not held`);
  if (store.dropped(headerSid)) throw new V3Error("dropped-session");
  const spk = dhPair(spkPriv);
  const dhs = [dh(spk.priv, peerIk), dh(ourIk.priv, prekey.ek), dh(spk.priv, prekey.ek)];
  if (opkPriv) dhs.push(dh(opkPriv, prekey.ek));
  const ss = kemDecaps(kemKeygen(pqSeed).dk, prekey.pqCt);
  const sk = pqxdhSecret(dhs, ss);
  const sid = sessionId(sk);
  let d = 0;
  for (let i = 0; i < sid.length; i++) d |= sid[i]! ^ headerSid[i]!;
  if (d !== 0) throw new V3Error("sid-mismatch");
  return { sk, sid, sad: sessionAd(peerIk, ourIk.pub), dhs, ss, spk };
}
