// PROTOCOL-v3 §V5.5 properties (fast-check): over random delivery orders, drops, duplicates and
// tampering of a long conversation, every message delivered is decrypted exactly once to what was
// sent; a duplicate is refused (old-index, or aead/malformed for a chain already left); a refused message
// leaves the receiver's serialised state exactly as it was.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { randomBytes } from "../lib/crypto.ts";
import { hexencode, utf8 } from "../lib/encoding.ts";
import { checkBundle } from "../lib/v3/bundle.ts";
import { dhPair } from "../lib/v3/dh.ts";
import { V3Error } from "../lib/v3/errors.ts";
import type { PrekeyStore } from "../lib/v3/handshake.ts";
import { type Session, decrypt, encrypt, initiate } from "../lib/v3/session.ts";
import { parseSession, serializeSession } from "../lib/v3/serialize.ts";
import { makeBundleBody } from "./helpers/v3fixture.ts";

const draw = (n: number) => randomBytes(n);

type Action =
  | { t: "send"; by: 0 | 1 }
  | { t: "deliver"; pick: number }
  | { t: "dup"; pick: number }
  | { t: "drop"; pick: number }
  | { t: "tamper"; pick: number; at: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("send" as const), by: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("deliver" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("dup" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("drop" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("tamper" as const), pick: fc.nat(), at: fc.nat() }) },
);

test("random orders, drops, duplicates and tampering: each delivered message decrypts exactly once", () => {
  fc.assert(
    fc.property(fc.array(action, { minLength: 20, maxLength: 70 }), (actions) => {
      const f = makeBundleBody();
      const bundle = checkBundle(f.body, { uid: f.bob.uid });
      const store: PrekeyStore = {
        spk: (id) => (id === f.spk.id ? f.spk.priv : null),
        opk: (id) => (id === f.opk.id && !f.used.opk ? f.opk.priv : null),
        pqspk: (id) => (id === f.pqspk.id ? f.pqspk.seed : null),
        opqk: (id) => (id === f.opqk.id && !f.used.opqk ? f.opqk.seed : null),
        dropped: () => false,
      };
      const alice = dhPair(f.alice.encPriv);
      const bob = dhPair(f.bob.encPriv);
      const sessions: (Session | null)[] = [initiate(bundle, alice, draw), null];
      const pending: { to: 0 | 1; wire: Uint8Array; text: string }[] = [];
      const delivered: { to: 0 | 1; wire: Uint8Array }[] = [];
      let seq = 0;
      const receive = (to: 0 | 1, wire: Uint8Array) => {
        const me = sessions[to];
        const before = me ? hexencode(serializeSession(me)) : null;
        try {
          const r = decrypt(
            { sessions: me ? [me] : [], ourIk: to ? bob : alice, peerIk: to ? alice.pub : bob.pub, prekeys: store },
            wire,
            draw,
          );
          if (r.deletePrekeys.opk !== null) f.used.opk = true;
          if (r.deletePrekeys.opqk !== null) f.used.opqk = true;
          // Round trip through the stored form, as the client's SQLite row does.
          sessions[to] = parseSession(serializeSession(r.session));
          return { ok: true as const, inner: utf8.decode(r.inner) };
        } catch (e) {
          if (!(e instanceof V3Error)) throw e;
          expect(me ? hexencode(serializeSession(me)) : null).toBe(before); // nothing kept
          return { ok: false as const, reason: e.reason };
        }
      };
      for (const a of actions) {
        if (a.t === "send") {
          const s = sessions[a.by];
          if (!s || !s.ratchet.cks || !s.ratchet.kems) continue; // bob before alice's first message
          const text = `m${seq++}`;
          const { session, wire } = encrypt(s, utf8.encode(text));
          sessions[a.by] = session;
          pending.push({ to: (1 - a.by) as 0 | 1, wire, text });
        } else if (a.t === "deliver" || a.t === "drop" || a.t === "tamper") {
          if (!pending.length) continue;
          const i = a.pick % pending.length;
          const m = pending[i]!;
          if (a.t === "tamper") {
            const bad = Uint8Array.from(m.wire);
            bad[2 + (a.at % (bad.length - 2))]! ^= 0x01;
            const r = receive(m.to, bad);
            expect(r.ok).toBe(false);
            continue;
          }
          pending.splice(i, 1);
          if (a.t === "drop") continue;
          const r = receive(m.to, m.wire);
          expect(r).toEqual({ ok: true, inner: m.text });
          delivered.push(m);
        } else {
          if (!delivered.length) continue;
          const m = delivered[a.pick % delivered.length]!;
          const r = receive(m.to, m.wire);
          expect(r.ok).toBe(false);
          // A chain already left looks like a new chain: its ct (or its lack of one, for a prekey message) fails.
          if (!r.ok) expect(["old-index", "aead", "malformed"]).toContain(r.reason);
        }
      }
      // Whatever is still pending arrives, in order, and decrypts.
      for (const m of pending) expect(receive(m.to, m.wire)).toEqual({ ok: true, inner: m.text });
    }),
    { numRuns: 40 },
  );
});
