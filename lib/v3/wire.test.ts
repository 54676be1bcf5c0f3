// PROTOCOL-v3 §V7 strict parsing: every length and field refusal.
import { expect, test } from "bun:test";
import { V3Error } from "./errors.ts";
import { parseWire, serializeHeader, serializePrekey, wirePrefix } from "./wire.ts";
import { kemKeygen } from "./mlkem.ts";

const ek = kemKeygen(new Uint8Array(64).fill(1)).ek;
const header = { sid: new Uint8Array(8), dh: new Uint8Array(32).fill(9), ek, ct: null, pn: 0, n: 0 };
const prekey = {
  ek: new Uint8Array(32).fill(5),
  spkId: 1,
  opkId: 0xffffffff,
  pqKind: 2,
  pqId: 3,
  pqCt: new Uint8Array(1088),
};
const body = new Uint8Array(272);
const reason = (w: Uint8Array) => {
  try {
    parseWire(w);
    return "accepted";
  } catch (e) {
    return (e as V3Error).reason;
  }
};

test("type 1 and type 2 parse back to their fields", () => {
  const w1 = new Uint8Array([...wirePrefix(null, header), ...body]);
  const p1 = parseWire(w1);
  expect(p1.type).toBe(1);
  expect(serializeHeader(p1.header)).toEqual(serializeHeader(header));
  expect(p1.aead.length).toBe(272);
  const w2 = new Uint8Array([...wirePrefix(prekey, header), ...body]);
  const p2 = parseWire(w2);
  expect(serializePrekey(p2.prekey!)).toEqual(serializePrekey(prekey));
  expect(w2.length - w1.length).toBe(1133);
});

test("refusals: unknown-type, lengths, ct length, pq_kind, sendCt in a prekey message, ek check", () => {
  const w1 = new Uint8Array([...wirePrefix(null, header), ...body]);
  expect(reason(Uint8Array.from([3, 7, ...w1.subarray(2)]))).toBe("unknown-type");
  expect(reason(w1.subarray(0, w1.length - 1))).toBe("malformed"); // AEAD output under 272
  expect(reason(new Uint8Array([...w1, ...new Uint8Array(63825 - w1.length + 1)]))).toBe("malformed");
  const badCt = Uint8Array.from(w1);
  badCt[2 + 8 + 32 + 1184 + 1] = 1; // u16 length 1
  expect(reason(badCt)).toBe("malformed");
  const badKind = new Uint8Array([...wirePrefix({ ...prekey, pqKind: 3 }, header), ...body]);
  expect(reason(badKind)).toBe("malformed");
  const withCt = new Uint8Array([...wirePrefix(prekey, { ...header, ct: new Uint8Array(1088) }), ...body]);
  expect(reason(withCt)).toBe("malformed");
  const badEk = Uint8Array.from(ek);
  badEk[0] = 0xff;
  badEk[1] = 0x0f;
  expect(reason(new Uint8Array([...wirePrefix(null, { ...header, ek: badEk }), ...body]))).toBe("malformed");
  expect(reason(new Uint8Array([1, 1]))).toBe("malformed");
});
