// Protocol facts of a contact and the safety code (PROTOCOL-v3 §V1, §V2.1), with the users of
// tests/vectors/v3.json, and the relay's /health asked for real (in-process relay).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { b64decode, b64udecode } from "../../lib/encoding.ts";
import { client } from "../../tests/helpers/clients.ts";
import { startRelay, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import type { ContactRecord } from "../state/contacts.ts";
import { contactSafetyCode, protocolFacts, relayOffersV3 } from "./protocol-info.ts";

const V = JSON.parse(readFileSync(join(import.meta.dir, "../../tests/vectors/v3.json"), "utf8"));
type VUser = { uid: string; enc_pub_b64: string; sign_pub_b64u: string };
const alice: VUser = V.users.alice;
const bob: VUser = V.users.bob;

const me = (u: VUser) => ({
  uid: u.uid,
  id: { encPub: b64decode(u.enc_pub_b64), signPub: b64udecode(u.sign_pub_b64u) },
});
const record = (u: VUser, o: Partial<ContactRecord> = {}): ContactRecord => ({
  pub_key: u.enc_pub_b64,
  nickname: null,
  verified_fp: null,
  last_seen_fp: null,
  protocol: 3,
  v3_sign_pub: u.sign_pub_b64u,
  ...o,
});

describe("contactSafetyCode (§V2.1)", () => {
  test("both people see the vector's code", () => {
    expect(contactSafetyCode(me(alice), bob.uid, record(bob))).toBe(V.safety_code.code);
    expect(contactSafetyCode(me(bob), alice.uid, record(alice))).toBe(V.safety_code.code);
    expect(V.safety_code.code).toMatch(/^[A-Z2-7]{5}( [A-Z2-7]{5}){7}$/);
  });

  test("another signing key pinned for the peer gives another code", () => {
    const other = record(bob, { v3_sign_pub: alice.sign_pub_b64u });
    expect(contactSafetyCode(me(alice), bob.uid, other)).not.toBe(V.safety_code.code);
  });

  test("null for a v2 contact, a v3 contact without a pinned signing key, or no record", () => {
    expect(contactSafetyCode(me(alice), bob.uid, record(bob, { protocol: undefined }))).toBeNull();
    expect(contactSafetyCode(me(alice), bob.uid, record(bob, { v3_sign_pub: undefined }))).toBeNull();
    expect(contactSafetyCode(me(alice), bob.uid, undefined)).toBeNull();
  });

  test("a damaged pinned key is an error, never a code", () => {
    expect(() => contactSafetyCode(me(alice), bob.uid, record(bob, { v3_sign_pub: "AAAA" }))).toThrow(
      "the stored v3 keys of",
    );
  });
});

describe("protocolFacts (§V1)", () => {
  test("from the record: protocol 3 only when pinned, the last empty bundle request, the relay as given", () => {
    expect(protocolFacts(record(bob), true)).toEqual({ protocol: 3, v3Checked: null, relayV3: true });
    expect(protocolFacts(record(bob, { protocol: undefined, v3_checked: 1234 }))).toEqual({
      protocol: 2,
      v3Checked: 1234,
      relayV3: null,
    });
    expect(protocolFacts(undefined, false)).toEqual({ protocol: 2, v3Checked: null, relayV3: false });
  });
});

describe("relayOffersV3", () => {
  let relay: RunningRelay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay?.stop();
    relay?.cleanup();
  });

  test("true for our relay (its /health lists 3)", async () => {
    const c = client(relay.url);
    expect(await relayOffersV3({ relay: async () => c })).toBe(true);
  });

  test("false for a relay that offers v2 only (no origin for v3 signatures, §V11)", async () => {
    const v2 = await startRelay({ args: ["--host", "0.0.0.0"] });
    try {
      const c = client(v2.url);
      expect(await relayOffersV3({ relay: async () => c })).toBe(false);
    } finally {
      await v2.stop();
      v2.cleanup();
    }
  });

  test("null when the relay cannot be reached or the connection is refused", async () => {
    const down = client("http://127.0.0.1:9", undefined, { retries: 0 });
    expect(await relayOffersV3({ relay: async () => down })).toBeNull();
    expect(await relayOffersV3({ relay: () => Promise.reject(new Error("direct connection refused")) })).toBeNull();
  });
});
