// PROTOCOL-v3 §V7 (wire message), §V5.4 (header): strict parse and serialize. Every length is
// checked before anything else reads the message; any failure is `malformed`, a second byte other
// than 1 or 2 is `unknown-type` (§V1).
import { concatBytes } from "../encoding.ts";
import { V3Error } from "./errors.ts";
import { checkEk } from "./mlkem.ts";
import { MLKEM_CT_LEN, MLKEM_EK_LEN, PREKEY_KIND } from "./prekey.ts";

export const V3_VERSION = 0x03;
export const TYPE_MESSAGE = 1;
export const TYPE_PREKEY = 2;
export const PREKEY_FIELD_LEN = 1133;
export const HEADER_LEN_NO_CT = 1234;
export const HEADER_LEN_CT = 2322;
export const MIN_AEAD_LEN = 272;
export const MAX_WIRE_LEN = 63825;

/** PROTOCOL-v3 §V5.4 header. `ct` is the current sending chain's KEM ciphertext, or null. */
export interface Header {
  sid: Uint8Array;
  dh: Uint8Array;
  ek: Uint8Array;
  ct: Uint8Array | null;
  pn: number;
  n: number;
}

/** PROTOCOL-v3 §V7 prekey field. `opkId` is 0xFFFFFFFF for "no OPK"; `pqKind` 2 PQSPK or 4 OPQK. */
export interface PrekeyField {
  ek: Uint8Array;
  spkId: number;
  opkId: number;
  pqKind: number;
  pqId: number;
  pqCt: Uint8Array;
}

export interface ParsedWire {
  type: 1 | 2;
  prekey: PrekeyField | null;
  header: Header;
  /** Every wire byte before the AEAD output (the AEAD's associated data follows SAD with these). */
  prefix: Uint8Array;
  aead: Uint8Array;
}

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
};

export function serializeHeader(h: Header): Uint8Array {
  const ct = h.ct ?? new Uint8Array(0);
  const len = new Uint8Array(2);
  new DataView(len.buffer).setUint16(0, ct.length, false);
  return concatBytes(h.sid, h.dh, h.ek, len, ct, u32(h.pn), u32(h.n));
}

export function serializePrekey(p: PrekeyField): Uint8Array {
  return concatBytes(p.ek, u32(p.spkId), u32(p.opkId), Uint8Array.of(p.pqKind), u32(p.pqId), p.pqCt);
}

/** The wire bytes before the AEAD output: 0x03 ‖ type ‖ [prekey] ‖ header. */
export function wirePrefix(prekey: PrekeyField | null, header: Header): Uint8Array {
  const type = prekey ? TYPE_PREKEY : TYPE_MESSAGE;
  return concatBytes(
    Uint8Array.of(V3_VERSION, type),
    prekey ? serializePrekey(prekey) : new Uint8Array(0),
    serializeHeader(header),
  );
}

function malformed(detail: string): never {
  throw new V3Error("malformed", detail);
}

function parseHeader(b: Uint8Array, at: number, v: DataView): { header: Header; end: number } {
  if (b.length < at + HEADER_LEN_NO_CT) malformed("header too short");
  const sid = b.slice(at, at + 8);
  const dh = b.slice(at + 8, at + 40);
  const ek = b.slice(at + 40, at + 40 + MLKEM_EK_LEN);
  let p = at + 40 + MLKEM_EK_LEN;
  const ctLen = v.getUint16(p, false);
  p += 2;
  if (ctLen !== 0 && ctLen !== MLKEM_CT_LEN) malformed(`ct length ${ctLen}`);
  if (b.length < p + ctLen + 8) malformed("header too short");
  const ct = ctLen ? b.slice(p, p + ctLen) : null;
  p += ctLen;
  const pn = v.getUint32(p, false);
  const n = v.getUint32(p + 4, false);
  // PROTOCOL-v3 §V5.4: the header's KEMs.ek must pass the FIPS 203 §7.2 check.
  if (!checkEk(ek)) malformed("header ek fails the FIPS 203 check");
  return { header: { sid, dh, ek, ct, pn, n }, end: p + 8 };
}

/** PROTOCOL-v3 §V7: parse decoded wire bytes (after the caller saw first byte 0x03). */
export function parseWire(wire: Uint8Array): ParsedWire {
  if (wire.length < 2) malformed("too short");
  if (wire[0] !== V3_VERSION) malformed(`version byte ${wire[0]}`);
  const type = wire[1]!;
  if (type !== TYPE_MESSAGE && type !== TYPE_PREKEY) throw new V3Error("unknown-type", String(type));
  if (wire.length > MAX_WIRE_LEN) malformed(`wire of ${wire.length} bytes`);
  const v = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  let at = 2;
  let prekey: PrekeyField | null = null;
  if (type === TYPE_PREKEY) {
    if (wire.length < at + PREKEY_FIELD_LEN) malformed("prekey field too short");
    const pqKind = wire[at + 40]!;
    if (pqKind !== PREKEY_KIND.PQSPK && pqKind !== PREKEY_KIND.OPQK) malformed(`pq_kind ${pqKind}`);
    prekey = {
      ek: wire.slice(at, at + 32),
      spkId: v.getUint32(at + 32, false),
      opkId: v.getUint32(at + 36, false),
      pqKind,
      pqId: v.getUint32(at + 41, false),
      pqCt: wire.slice(at + 45, at + 45 + MLKEM_CT_LEN),
    };
    at += PREKEY_FIELD_LEN;
  }
  const { header, end } = parseHeader(wire, at, v);
  if (prekey && header.ct) malformed("prekey message with a sendCt");
  if (wire.length - end < MIN_AEAD_LEN) malformed(`AEAD output of ${wire.length - end} bytes`);
  return { type: type as 1 | 2, prekey, header, prefix: wire.slice(0, end), aead: wire.slice(end) };
}
