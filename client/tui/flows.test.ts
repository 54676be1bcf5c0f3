import { describe, expect, test } from "bun:test";
import type { ContactView } from "../state/contacts.ts";
import { burnFlow, confirmTwice, type Dialog, verifyFlow } from "./flows.ts";
import { makeTheme } from "./themes.ts";

const FP_THEIRS = Array.from({ length: 13 }, (_, i) => `T${String(i).padStart(3, "0")}`).join(" ");
const FP_MINE = Array.from({ length: 13 }, (_, i) => `M${String(i).padStart(3, "0")}`).join(" ");

/** A Dialog that answers from a script and records what it was shown. */
function scripted(answers: Array<boolean | string | null>): Dialog & { log: string[] } {
  const log: string[] = [];
  const next = () => {
    if (answers.length === 0) throw new Error("asked more than the script answers");
    return answers.shift()!;
  };
  return {
    log,
    theme: makeTheme("cyan", undefined, false),
    note: (lines, title) => log.push(`note ${title}`, ...lines),
    info: (t) => log.push(`info ${t}`),
    success: (t) => log.push(`ok ${t}`),
    warn: (t) => log.push(`warn ${t}`),
    confirm: async (q) => (log.push(`? ${q}`), next() as boolean),
    text: async (q) => (log.push(`? ${q}`), next() as string | null),
  };
}

function contact(o: Partial<ContactView> = {}): ContactView {
  return {
    uid: "B".repeat(28),
    nickname: "bob",
    fingerprint: FP_THEIRS,
    verified: false,
    keyChanged: false,
    isNew: false,
    protocol: 2,
    ...o,
  };
}

function fakeSession(c: ContactView, code: string | null = null) {
  const calls: string[] = [];
  return {
    calls,
    fingerprint: FP_MINE,
    contact: () => c,
    safetyCode: () => code,
    learnSigningKey: async () => {},
    verify: (uid: string, o: { force?: boolean } = {}) => (calls.push(`verify ${uid} ${o.force}`), c),
    burn: async (uid: string) => (calls.push(`burn ${uid}`), 1),
  };
}

describe("burn: two confirmations", () => {
  test("no, a wrong word, or a cancel burn nothing; yes and the word (any case) burn", async () => {
    const s = fakeSession(contact());
    for (const script of [[false], [true, "nope"], [true, null]]) {
      const d = scripted(script);
      await burnFlow(d, s, "bob");
      expect(d.log.at(-1)).toBe("info Nothing deleted.");
    }
    expect(s.calls).toEqual([]);
    const d = scripted([true, " BURN "]);
    await burnFlow(d, s, "bob");
    expect(d.log).toEqual([
      "? Delete every message and file with bob from the relay?",
      "? This cannot be undone. Type burn to confirm:",
      "ok Burned: 1 stored item deleted from the relay.",
    ]);
    expect(s.calls).toEqual(["burn bob"]);
  });

  test("the panic word is asked the same way", async () => {
    expect(await confirmTwice(scripted([true, "WIPE"]), "Wipe everything?", "WIPE")).toBe(true);
    expect(await confirmTwice(scripted([true, "burn"]), "Wipe everything?", "WIPE")).toBe(false);
    expect(await confirmTwice(scripted([false]), "Wipe everything?", "WIPE")).toBe(false);
  });
});

describe("verify: fingerprints side by side, then trust", () => {
  test("their key on the left, ours on the right; yes marks them verified", async () => {
    const s = fakeSession(contact());
    const d = scripted([true]);
    await verifyFlow(d, s, "bob");
    expect(d.log[0]).toStartWith("note Compare fingerprints");
    expect(d.log[1]).toMatch(/^bob \(their key\)\s+you \(your key\)$/);
    expect(d.log[2]).toMatch(/^T000 T001 T002 T003 T004\s+M000 M001 M002 M003 M004$/);
    expect(d.log.at(-1)).toBe("ok bob is now verified.");
    expect(s.calls).toEqual([`verify ${"B".repeat(28)} false`]);
  });

  test("no leaves them unverified; already verified asks nothing; a changed key warns and forces", async () => {
    const no = scripted([false]);
    const s1 = fakeSession(contact());
    await verifyFlow(no, s1, "bob");
    expect(no.log.at(-1)).toBe("info Not verified.");
    expect(s1.calls).toEqual([]);

    const done = scripted([]);
    await verifyFlow(done, fakeSession(contact({ verified: true })), "bob");
    expect(done.log.at(-1)).toBe("ok bob is already verified.");

    const changed = scripted([true]);
    const s2 = fakeSession(contact({ verified: true, keyChanged: true }));
    await verifyFlow(changed, s2, "bob");
    expect(changed.log.some((l) => l.startsWith("warn The key of bob CHANGED"))).toBe(true);
    expect(s2.calls).toEqual([`verify ${"B".repeat(28)} true`]);
  });
});

describe("verify a v3 contact: the safety code (PROTOCOL-v3 §V2.1)", () => {
  const CODE = "ORSYJ UV3XC HYTUE SK3PV RJNIL D3SZW 4RMOE O3N7R";

  test("the code instead of the fingerprints, then the question about the code", async () => {
    const s = fakeSession(contact({ protocol: 3 }), CODE);
    const d = scripted([true]);
    await verifyFlow(d, s, "bob");
    expect(d.log).toEqual([
      "note Compare the safety code with bob over a channel you trust (in person, a call); they see the same",
      CODE,
      "? Does the safety code match what bob reads to you from their screen?",
      "ok bob is now verified.",
    ]);
    expect(s.calls).toEqual([`verify ${"B".repeat(28)} false`]);
  });
});
