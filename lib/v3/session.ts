// PROTOCOL-v3 §V4–§V5.6: the session-level API the client calls. Pure: the caller stores what is
// returned (one SQLite transaction per call, §V8) and deletes what `deletePrekeys` names.
import type { DhPair } from "./dh.ts";
import { V3Error } from "./errors.ts";
import { type BundleKeys, type PrekeyStore, initiatorHandshake, responderHandshake } from "./handshake.ts";
import {
  type Draw,
  type RatchetState,
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
} from "./ratchet.ts";
import { type PrekeyField, parseWire } from "./wire.ts";

export interface Session {
  sid: Uint8Array;
  role: "initiator" | "responder";
  /** SAD = "phantom-v3" ‖ IK_A ‖ IK_B. */
  sad: Uint8Array;
  /** The initiator's prekey field while no message of the session has been received (§V4), else null. */
  prekey: PrekeyField | null;
  ratchet: RatchetState;
}

/** PROTOCOL-v3 §V4/§V5.3: a new initiator session from a checked bundle (see checkBundle). */
export function initiate(bundle: BundleKeys, ourIk: DhPair, draw: Draw): Session {
  const hs = initiatorHandshake(bundle, ourIk, draw);
  const ratchet = initInitiator(hs.sk, bundle.spk.pub, draw);
  return { sid: hs.sid, role: "initiator", sad: hs.sad, prekey: hs.prekey, ratchet };
}

/** PROTOCOL-v3 §V5.4: type 2 while `prekey` is set, else type 1. Throws too-long (§V6). */
export function encrypt(session: Session, inner: Uint8Array): { session: Session; wire: Uint8Array } {
  const { state, wire } = ratchetEncrypt(session.ratchet, session.sid, session.sad, session.prekey, inner);
  return { session: { ...session, ratchet: state }, wire };
}

export interface DecryptContext {
  /** This contact's sessions (at most 3, §V5.6). */
  sessions: readonly Session[];
  ourIk: DhPair;
  /** The contact's IK (from the room, v2 §4.1): the prekey message does not carry it. */
  peerIk: Uint8Array;
  prekeys: PrekeyStore;
  /** ms since the epoch, stamped on stored skipped keys. */
  now?: number;
}

export interface DecryptResult {
  /** The new or updated session: store it (replacing the one with its SID) in the same transaction. */
  session: Session;
  created: boolean;
  inner: Uint8Array;
  /** One-time prekeys used by a new session: delete them in the same transaction. */
  deletePrekeys: { opk: number | null; opqk: number | null };
}

function sameSid(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * PROTOCOL-v3 §V5.5 steps 1–4 (step 0, history, is the caller's) and §V4 for a new prekey message.
 * Throws V3Error with the §V12 reason; nothing given is modified.
 */
export function decrypt(ctx: DecryptContext, wire: Uint8Array, draw: Draw): DecryptResult {
  const msg = parseWire(wire);
  const known = ctx.sessions.find((s) => sameSid(s.sid, msg.header.sid));
  if (known) {
    const { state, inner } = ratchetDecrypt(known.ratchet, known.sad, msg, draw, ctx.now ?? 0);
    return {
      session: { ...known, prekey: null, ratchet: state },
      created: false,
      inner,
      deletePrekeys: { opk: null, opqk: null },
    };
  }
  if (!msg.prekey) throw new V3Error("unknown-session");
  const hs = responderHandshake(msg.prekey, msg.header.sid, ctx.ourIk, ctx.peerIk, ctx.prekeys);
  const { state, inner } = ratchetDecrypt(initResponder(hs.sk, hs.spk), hs.sad, msg, draw, ctx.now ?? 0);
  return {
    session: { sid: hs.sid, role: "responder", sad: hs.sad, prekey: null, ratchet: state },
    created: true,
    inner,
    deletePrekeys: {
      opk: msg.prekey.opkId === 0xffffffff ? null : msg.prekey.opkId,
      opqk: msg.prekey.pqKind === 4 ? msg.prekey.pqId : null,
    },
  };
}
