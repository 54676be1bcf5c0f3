// PROTOCOL-v3 §V5.5 limits at and past each edge, old-index, purity, and the session row round trip.
import { expect, test } from "bun:test";
import { randomBytes } from "../crypto.ts";
import { utf8 } from "../encoding.ts";
import { makeBundleBody } from "../../tests/helpers/v3fixture.ts";
import { checkBundle } from "./bundle.ts";
import { dhPair } from "./dh.ts";
import { V3Error } from "./errors.ts";
import { MAX_SKIP_PER_CHAIN, pruneSkipped } from "./ratchet.ts";
import { parseSession, serializeSession } from "./serialize.ts";
import { type Session, decrypt, encrypt, initiate } from "./session.ts";

const draw = (n: number) => randomBytes(n);
const f = makeBundleBody();
const bundle = checkBundle(f.body, { uid: f.bob.uid });
const alice = dhPair(f.alice.encPriv);
const bob = dhPair(f.bob.encPriv);
const store = {
  spk: (id: number) => (id === f.spk.id ? f.spk.priv : null),
  opk: (id: number) => (id === f.opk.id ? f.opk.priv : null),
  pqspk: (id: number) => (id === f.pqspk.id ? f.pqspk.seed : null),
  opqk: (id: number) => (id === f.opqk.id ? f.opqk.seed : null),
  dropped: () => false,
};
const ctx = (sessions: Session[], now = 0) => ({ sessions, ourIk: bob, peerIk: alice.pub, prekeys: store, now });
const reason = (fn: () => unknown) => {
  try {
    fn();
    return "accepted";
  } catch (e) {
    if (e instanceof V3Error) return e.reason;
    throw e;
  }
};

/** Alice's session after sending `count` messages, and their wires. */
function chain(count: number) {
  let s = initiate(bundle, alice, draw);
  const wires: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = encrypt(s, utf8.encode(`m${i}`));
    s = r.session;
    wires.push(r.wire);
  }
  return wires;
}

test("§V5.5: skipping exactly 1,000 keys in a chain is allowed, 1,001 is too-many-skipped", () => {
  const wires = chain(MAX_SKIP_PER_CHAIN + 2);
  expect(reason(() => decrypt(ctx([]), wires[MAX_SKIP_PER_CHAIN + 1]!, draw))).toBe("too-many-skipped");
  const ok = decrypt(ctx([]), wires[MAX_SKIP_PER_CHAIN]!, draw);
  expect(ok.session.ratchet.skipped.length).toBe(MAX_SKIP_PER_CHAIN);
  // A skipped key works once, then the index is old.
  const r = decrypt(ctx([ok.session]), wires[3]!, draw);
  expect(utf8.decode(r.inner)).toBe("m3");
  expect(reason(() => decrypt(ctx([r.session]), wires[3]!, draw))).toBe("old-index");
  expect(r.session.ratchet.skipped.length).toBe(MAX_SKIP_PER_CHAIN - 1);
});

test("a refused message changes nothing; the session row round-trips; skipped keys expire", () => {
  const wires = chain(3);
  const first = decrypt(ctx([], 1000), wires[2]!, draw).session;
  const row = serializeSession(first);
  expect(serializeSession(parseSession(row))).toEqual(row);
  const bad = Uint8Array.from(wires[0]!);
  bad[bad.length - 1]! ^= 1;
  expect(reason(() => decrypt(ctx([first]), bad, draw))).toBe("aead");
  expect(serializeSession(first)).toEqual(row);
  expect(pruneSkipped(first.ratchet, 1001).skipped.length).toBe(0);
  expect(pruneSkipped(first.ratchet, 1000).skipped.length).toBe(2);
  expect(() => parseSession(row.subarray(0, row.length - 1))).toThrow();
  expect(() => parseSession(new Uint8Array([...row, 0]))).toThrow();
});

test("a type-1 message of an unknown session, and a prekey message naming keys not held", () => {
  const wires = chain(1);
  const bobS = decrypt(ctx([]), wires[0]!, draw).session;
  const reply = encrypt(bobS, utf8.encode("hi")).wire;
  expect(reason(() => decrypt({ ...ctx([]), ourIk: alice, peerIk: bob.pub }, reply, draw))).toBe("unknown-session");
  const none = { ...store, opk: () => null };
  expect(reason(() => decrypt({ ...ctx([]), prekeys: none }, wires[0]!, draw))).toBe("unknown-opk");
  expect(reason(() => decrypt({ ...ctx([]), prekeys: { ...store, spk: () => null } }, wires[0]!, draw))).toBe(
    "unknown-spk",
  );
  expect(reason(() => decrypt({ ...ctx([]), prekeys: { ...store, opqk: () => null } }, wires[0]!, draw))).toBe(
    "unknown-pqk",
  );
  expect(reason(() => decrypt({ ...ctx([]), prekeys: { ...store, dropped: () => true } }, wires[0]!, draw))).toBe(
    "dropped-session",
  );
  expect(reason(() => encrypt(bobS, new Uint8Array(61437)))).toBe("too-long");
});
