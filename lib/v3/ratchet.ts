// PROTOCOL-v3 §V5: the double ratchet with a KEM step, as a PURE state machine: every function
// takes a state and returns a new one (the input is never modified), and all randomness comes
// from the injected `draw`. On any failure a V3Error is thrown and nothing is kept (§V5.5 step 4).
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concatBytes } from "../encoding.ts";
import { type DhPair, dh, dhPair } from "./dh.ts";
import { V3Error } from "./errors.ts";
import { kdfCk, kdfRk, messageKeys } from "./kdf.ts";
import { kemDecaps, kemEncaps, kemKeygen } from "./mlkem.ts";
import { pad, unpad } from "./padding.ts";
import { type Header, type ParsedWire, type PrekeyField, wirePrefix } from "./wire.ts";

/** PROTOCOL-v3 §V5.5 limits. */
export const MAX_SKIP_PER_CHAIN = 1000;
export const MAX_SKIP_PER_SESSION = 2000;
/** A skipped key is deleted after 7 days (the relay's retention). */
export const SKIPPED_KEY_TTL_MS = 7 * 24 * 3600 * 1000;

/** What a draw is for; production passes `(n) => randomBytes(n)`. */
export type DrawWhat = "dhs" | "kems-seed" | "encaps-m" | "handshake-ek" | "handshake-pq-m";
export type Draw = (n: number, what: DrawWhat) => Uint8Array;

export interface SkippedKey {
  dh: Uint8Array;
  n: number;
  mk: Uint8Array;
  /** ms since the epoch when stored (for the 7-day expiry, see pruneSkipped). */
  at: number;
}

/** PROTOCOL-v3 §V5.2. KEMs keeps its 64-byte seed, ek and dk (dk kept to save a KeyGen per step). */
export interface RatchetState {
  rk: Uint8Array;
  dhs: DhPair;
  dhr: Uint8Array | null;
  cks: Uint8Array | null;
  ckr: Uint8Array | null;
  ns: number;
  nr: number;
  pn: number;
  kems: { seed: Uint8Array; ek: Uint8Array; dk: Uint8Array } | null;
  kemr: Uint8Array | null;
  sendCt: Uint8Array | null;
  skipped: SkippedKey[];
}

const EMPTY = new Uint8Array(0);

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

function draw32(draw: Draw, n: number, what: DrawWhat): Uint8Array {
  const out = draw(n, what);
  if (!(out instanceof Uint8Array) || out.length !== n) throw new Error(`draw ${what}: expected ${n} bytes`);
  return out;
}

function newKems(seed: Uint8Array): { seed: Uint8Array; ek: Uint8Array; dk: Uint8Array } {
  const { ek, dk } = kemKeygen(seed);
  return { seed: Uint8Array.from(seed), ek, dk };
}

/** A copy sharing no mutable parts with the input (Uint8Arrays are never mutated in place). */
function copy(s: RatchetState): RatchetState {
  return { ...s, skipped: s.skipped.slice() };
}

/** PROTOCOL-v3 §V5.3 Alice: RK, CKs = KDF_RK(SK, X25519(DHs, SPK_B), ""); new DHs and KEMs drawn. */
export function initInitiator(sk: Uint8Array, spkB: Uint8Array, draw: Draw): RatchetState {
  const dhs = dhPair(draw32(draw, 32, "dhs"));
  const kems = newKems(draw32(draw, 64, "kems-seed"));
  const [rk, cks] = kdfRk(sk, dh(dhs.priv, spkB), EMPTY);
  return { rk, dhs, dhr: spkB, cks, ckr: null, ns: 0, nr: 0, pn: 0, kems, kemr: null, sendCt: null, skipped: [] };
}

/** PROTOCOL-v3 §V5.3 Bob: RK = SK, DHs = his SPK pair, nothing else. */
export function initResponder(sk: Uint8Array, spk: DhPair): RatchetState {
  return {
    rk: sk,
    dhs: spk,
    dhr: null,
    cks: null,
    ckr: null,
    ns: 0,
    nr: 0,
    pn: 0,
    kems: null,
    kemr: null,
    sendCt: null,
    skipped: [],
  };
}

/** True when the state can send (§V4: a party never sends while its KEMs is none). */
export function canSend(s: RatchetState): boolean {
  return s.cks !== null && s.kems !== null;
}

/**
 * PROTOCOL-v3 §V5.4 sending, §V7 wire. `prekey` is the initiator's §V7 prekey field for a type-2
 * message, else null. Returns the new state and the wire bytes (the caller commits both before /send).
 */
export function ratchetEncrypt(
  s: RatchetState,
  sid: Uint8Array,
  sad: Uint8Array,
  prekey: PrekeyField | null,
  inner: Uint8Array,
): { state: RatchetState; wire: Uint8Array } {
  if (!s.cks || !s.kems) throw new Error("v3 ratchet: no sending chain yet");
  const padded = pad(inner); // too-long before any key moves
  const [cks, mk] = kdfCk(s.cks);
  const header: Header = { sid, dh: s.dhs.pub, ek: s.kems.ek, ct: s.sendCt, pn: s.pn, n: s.ns };
  const prefix = wirePrefix(prekey, header);
  const { key, nonce } = messageKeys(mk);
  const sealed = chacha20poly1305(key, nonce, concatBytes(sad, prefix)).encrypt(padded);
  return { state: { ...copy(s), cks, ns: s.ns + 1 }, wire: concatBytes(prefix, sealed) };
}

/** Skipped keys of chain `ck` for indices from … until−1 (until exclusive). */
function skipKeys(s: RatchetState, until: number, now: number): void {
  if (!s.ckr || !s.dhr) return;
  let ck = s.ckr;
  for (let i = s.nr; i < until; i++) {
    const [next, mk] = kdfCk(ck);
    s.skipped.push({ dh: s.dhr, n: i, mk, at: now });
    ck = next;
  }
  s.ckr = ck;
  s.nr = Math.max(s.nr, until);
}

function tooMany(detail: string): never {
  throw new V3Error("too-many-skipped", detail);
}

/**
 * PROTOCOL-v3 §V5.5 steps 1–4 for a parsed wire message of this session. Returns the new state and
 * the inner message; throws V3Error (old-index, too-many-skipped, malformed, low-order, aead,
 * bad-length, nonzero-padding) and then the input state is still the one to keep.
 */
export function ratchetDecrypt(
  input: RatchetState,
  sad: Uint8Array,
  msg: ParsedWire,
  draw: Draw,
  now = 0,
): { state: RatchetState; inner: Uint8Array } {
  const h = msg.header;
  const s = copy(input);
  let mk: Uint8Array | null = null;
  // Step 1: a stored skipped key.
  const idx = s.skipped.findIndex((k) => k.n === h.n && eq(k.dh, h.dh));
  if (idx >= 0) {
    mk = s.skipped[idx]!.mk;
    s.skipped.splice(idx, 1);
  } else {
    const newChain = s.dhr === null || !eq(s.dhr, h.dh);
    // Limits and the old-index check come before any key is derived.
    const prevSkip = newChain && s.ckr ? h.pn - s.nr : 0;
    const nrAfter = newChain ? 0 : s.nr;
    if (!newChain && h.n < s.nr) throw new V3Error("old-index", `n=${h.n} < Nr=${s.nr} and no stored key`);
    if (prevSkip > MAX_SKIP_PER_CHAIN) tooMany(`${prevSkip} in one chain`);
    if (h.n - nrAfter > MAX_SKIP_PER_CHAIN) tooMany(`${h.n - nrAfter} in one chain`);
    const total = s.skipped.length + Math.max(0, prevSkip) + (h.n - nrAfter);
    if (total > MAX_SKIP_PER_SESSION) tooMany(`${total} in the session`);
    if (newChain) {
      // Step 2: a new peer chain.
      if (h.ct && !s.kems) throw new V3Error("malformed", "KEM ciphertext with no KEMs of ours");
      if (!h.ct && s.kems && s.ckr) throw new V3Error("malformed", "no KEM ciphertext in a new chain");
      if (s.ckr) skipKeys(s, h.pn, now);
      const kemIn = h.ct && s.kems ? kemDecaps(s.kems.dk, h.ct) : EMPTY;
      s.dhr = h.dh;
      s.kemr = h.ek;
      [s.rk, s.ckr] = kdfRk(s.rk, dh(s.dhs.priv, s.dhr), kemIn);
      s.pn = s.ns;
      s.ns = 0;
      s.nr = 0;
      s.dhs = dhPair(draw32(draw, 32, "dhs"));
      s.kems = newKems(draw32(draw, 64, "kems-seed"));
      const { ct, ss } = kemEncaps(s.kemr, draw32(draw, 32, "encaps-m"));
      s.sendCt = ct;
      [s.rk, s.cks] = kdfRk(s.rk, dh(s.dhs.priv, s.dhr), ss);
    }
    // Step 3.
    skipKeys(s, h.n, now);
    const [ckr, k] = kdfCk(s.ckr!);
    s.ckr = ckr;
    mk = k;
    s.nr = h.n + 1;
  }
  // Step 4.
  const { key, nonce } = messageKeys(mk);
  let padded: Uint8Array;
  try {
    padded = chacha20poly1305(key, nonce, concatBytes(sad, msg.prefix)).decrypt(msg.aead);
  } catch (cause) {
    throw new V3Error("aead", "tag mismatch", { cause });
  }
  return { state: s, inner: unpad(padded) };
}

/** The 7-day expiry of §V5.5: a state without the skipped keys stored before `before` (ms). */
export function pruneSkipped(s: RatchetState, before: number): RatchetState {
  return { ...s, skipped: s.skipped.filter((k) => k.at >= before) };
}
