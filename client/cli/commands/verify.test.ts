// What `phantom verify` shows (PROTOCOL-v3 §V2.1 safety code for v3, v2 fingerprints otherwise) and
// Session.safetyCode on two real (offline) identities: both sides compute the same code.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { b64encode, b64uencode } from "../../../lib/encoding.ts";
import { torConfigFromEnv } from "../../../lib/tor.ts";
import { safetyCode } from "../../../lib/v3/safety.ts";
import { tempDir } from "../../../tests/helpers/inproc-relay.ts";
import { Session } from "../../core/session.ts";
import { observeKey } from "../../state/contacts.ts";
import { verifyLines } from "./verify.ts";

setDefaultTimeout(30_000); // scrypt is ~0.5 s per vault

const root = tempDir("phantom-verify-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CODE = "ORSYJ UV3XC HYTUE SK3PV RJNIL D3SZW 4RMOE O3N7R";

describe("verifyLines", () => {
  test("a v3 contact: the safety code, 8 groups of 5, and who to compare it with", () => {
    expect(verifyLines("bob (BBBB)", "T", "M", CODE)).toEqual([
      "Safety code (compare with bob (BBBB); they see the same):",
      `  ${CODE}`,
    ]);
  });

  test("a v2 contact: both fingerprints, as before", () => {
    expect(verifyLines("bob (BBBB)", "TTTT", "MMMM", null)).toEqual([
      "their fingerprint (bob (BBBB)):",
      "  TTTT",
      "your fingerprint:",
      "  MMMM",
    ]);
  });
});

describe("Session.safetyCode", () => {
  const config = (name: string) => ({
    home: join(root, name),
    password: "correct horse battery",
    relayUrl: "http://127.0.0.1:9",
    tor: torConfigFromEnv({ PHANTOM_TOR: "never" }),
    direct: false,
  });
  const open = (name: string) => Session.create(config(name), {}, { offline: true });

  test("two identities pinned to each other in v3 see the same code; a v2 contact has none", async () => {
    const alice = await open("alice");
    const bob = await open("bob");
    const pin = (s: Session, peer: Session, nick: string, v3: boolean) =>
      s.mutate((b) => {
        observeKey(b, peer.uid, b64encode(peer.id.encPub));
        b[peer.uid]!.nickname = nick;
        if (v3) Object.assign(b[peer.uid]!, { protocol: 3, v3_sign_pub: b64uencode(peer.id.signPub) });
      });
    pin(alice, bob, "bob", false);
    pin(bob, alice, "alice", true);
    expect(alice.safetyCode("bob")).toBeNull(); // v2: the fingerprints

    pin(alice, bob, "bob", true);
    const code = alice.safetyCode("bob");
    expect(code).toMatch(/^[A-Z2-7]{5}( [A-Z2-7]{5}){7}$/);
    expect(bob.safetyCode(alice.uid)).toBe(code);
    expect(bob.safetyCode("alice")).toBe(code);
    const direct = safetyCode(
      { uid: alice.uid, ik: alice.id.encPub, signPub: alice.id.signPub },
      { uid: bob.uid, ik: bob.id.encPub, signPub: bob.id.signPub },
    );
    expect(code).toBe(direct);
    expect(() => alice.safetyCode("nobody")).toThrow();
    alice.close();
    bob.close();
    // The pins are kept in state.db: a new process sees the same code.
    const again = await Session.open({ ...config("alice") });
    expect(again.safetyCode("bob")).toBe(code);
    again.close();
  });
});
