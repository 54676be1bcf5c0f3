// PROTOCOL-v3 §V8: a session as bytes, for one sealed SQLite row per session (the sealing is the
// caller's). Format: u8 version 1, then the fields in a fixed order; optional byte strings carry
// a u8 presence flag, every byte string a u32 length. parseSession refuses anything else.
import type { Session } from "./session.ts";
import type { RatchetState } from "./ratchet.ts";
import type { PrekeyField } from "./wire.ts";

const FORMAT = 1;

class Writer {
  parts: Uint8Array[] = [];
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, false);
    this.parts.push(b);
  }
  f64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    this.parts.push(b);
  }
  u8(v: number) {
    this.parts.push(Uint8Array.of(v));
  }
  bytes(b: Uint8Array) {
    this.u32(b.length);
    this.parts.push(b);
  }
  opt(b: Uint8Array | null) {
    this.u8(b ? 1 : 0);
    if (b) this.bytes(b);
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) (out.set(p, o), (o += p.length));
    return out;
  }
}

class Reader {
  private o = 0;
  private v: DataView;
  constructor(private b: Uint8Array) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number) {
    if (this.o + n > this.b.length) throw new Error("v3 session: truncated");
  }
  u8() {
    this.need(1);
    return this.b[this.o++]!;
  }
  u32() {
    this.need(4);
    const x = this.v.getUint32(this.o, false);
    this.o += 4;
    return x;
  }
  f64() {
    this.need(8);
    const x = this.v.getFloat64(this.o, false);
    this.o += 8;
    return x;
  }
  bytes() {
    const n = this.u32();
    this.need(n);
    const out = this.b.slice(this.o, this.o + n);
    this.o += n;
    return out;
  }
  opt() {
    const f = this.u8();
    if (f > 1) throw new Error("v3 session: bad flag");
    return f ? this.bytes() : null;
  }
  end() {
    if (this.o !== this.b.length) throw new Error("v3 session: trailing bytes");
  }
}

export function serializeSession(s: Session): Uint8Array {
  const w = new Writer();
  w.u8(FORMAT);
  w.bytes(s.sid);
  w.u8(s.role === "initiator" ? 1 : 2);
  w.bytes(s.sad);
  w.u8(s.prekey ? 1 : 0);
  if (s.prekey) {
    const p = s.prekey;
    w.bytes(p.ek);
    w.u32(p.spkId);
    w.u32(p.opkId);
    w.u8(p.pqKind);
    w.u32(p.pqId);
    w.bytes(p.pqCt);
  }
  const r = s.ratchet;
  w.bytes(r.rk);
  w.bytes(r.dhs.priv);
  w.bytes(r.dhs.pub);
  w.opt(r.dhr);
  w.opt(r.cks);
  w.opt(r.ckr);
  w.u32(r.ns);
  w.u32(r.nr);
  w.u32(r.pn);
  w.opt(r.kems?.seed ?? null);
  w.opt(r.kems?.ek ?? null);
  w.opt(r.kems?.dk ?? null);
  w.opt(r.kemr);
  w.opt(r.sendCt);
  w.u32(r.skipped.length);
  for (const k of r.skipped) {
    w.bytes(k.dh);
    w.u32(k.n);
    w.bytes(k.mk);
    w.f64(k.at);
  }
  return w.done();
}

export function parseSession(bytes: Uint8Array): Session {
  const r = new Reader(bytes);
  if (r.u8() !== FORMAT) throw new Error("v3 session: unknown format");
  const sid = r.bytes();
  const roleByte = r.u8();
  if (roleByte !== 1 && roleByte !== 2) throw new Error("v3 session: bad role");
  const sad = r.bytes();
  let prekey: PrekeyField | null = null;
  if (r.u8()) {
    prekey = { ek: r.bytes(), spkId: r.u32(), opkId: r.u32(), pqKind: r.u8(), pqId: r.u32(), pqCt: r.bytes() };
  }
  const rk = r.bytes();
  const dhs = { priv: r.bytes(), pub: r.bytes() };
  const dhr = r.opt();
  const cks = r.opt();
  const ckr = r.opt();
  const ns = r.u32();
  const nr = r.u32();
  const pn = r.u32();
  const seed = r.opt();
  const ek = r.opt();
  const dk = r.opt();
  const kemr = r.opt();
  const sendCt = r.opt();
  const count = r.u32();
  const skipped: RatchetState["skipped"] = [];
  for (let i = 0; i < count; i++) skipped.push({ dh: r.bytes(), n: r.u32(), mk: r.bytes(), at: r.f64() });
  r.end();
  if ((seed === null) !== (ek === null) || (seed === null) !== (dk === null))
    throw new Error("v3 session: half a KEM pair");
  const kems = seed && ek && dk ? { seed, ek, dk } : null;
  const ratchet: RatchetState = { rk, dhs, dhr, cks, ckr, ns, nr, pn, kems, kemr, sendCt, skipped };
  return { sid, role: roleByte === 1 ? "initiator" : "responder", sad, prekey, ratchet };
}
