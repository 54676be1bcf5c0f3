// The chat screen's header: the protocol after the contact's name, the reason below it for v2 (PROTOCOL-v3 §V1).
import { describe, expect, test } from "bun:test";
import type { ContactView } from "../state/contacts.ts";
import { protocolLabel } from "../text/protocol.ts";
import { chatHeader, upgradeNotice } from "./chat-header.ts";
import { makeTheme } from "./themes.ts";

const plain = makeTheme("cyan", undefined, false);
const UID = "y8-FO-vQ7YCTW7KCaMwg_GyOuPRP";
const contact = (o: Partial<ContactView> = {}): ContactView => ({
  uid: UID,
  nickname: "bob",
  fingerprint: "F",
  verified: false,
  keyChanged: false,
  isNew: false,
  protocol: 2,
  ...o,
});
const RULE = "─".repeat(72);

describe("chat header", () => {
  test("v3: the label after the name, no reason line", () => {
    const h = chatHeader(plain, {
      contact: contact({ protocol: 3 }),
      protocol: protocolLabel({ protocol: 3 }),
      viaTor: false,
      columns: 90,
    });
    expect(h.split("\n")).toEqual([
      RULE,
      ` bob  v3 · forward-secret  ${UID}`,
      " not verified (/verify) · direct · /help for commands, Esc to leave",
      RULE,
    ]);
  });

  test("v2: the label, then its reason on the line below", () => {
    const h = chatHeader(plain, {
      contact: contact({ verified: true }),
      protocol: protocolLabel({ protocol: 2, relayV3: true, v3Checked: 1_800_000_000 }),
      viaTor: true,
      columns: 90,
    });
    expect(h.split("\n")).toEqual([
      RULE,
      ` bob  v2 · not forward-secret  ${UID}`,
      " peer uses Phantom 2.2 or has not published a v3 key bundle",
      " verified · via Tor · /help for commands, Esc to leave",
      RULE,
    ]);
  });

  test("colours: v3 in the ok colour, v2 in the warning colour, its reason dim", () => {
    const t = makeTheme("amber", undefined, true);
    const v3 = chatHeader(t, {
      contact: contact(),
      protocol: protocolLabel({ protocol: 3 }),
      viaTor: false,
      columns: 80,
    });
    expect(v3).toContain(t.ok("v3 · forward-secret"));
    const v2 = chatHeader(t, {
      contact: contact(),
      protocol: protocolLabel({ protocol: 2 }),
      viaTor: false,
      columns: 80,
    });
    expect(v2).toContain(t.warn("v2 · not forward-secret"));
    expect(v2).toContain(t.dim("v3 is tried at the first message"));
  });

  test("a narrow terminal gets a shorter rule", () => {
    const h = chatHeader(plain, {
      contact: contact(),
      protocol: protocolLabel({ protocol: 2 }),
      viaTor: false,
      columns: 30,
    });
    expect(h.split("\n")[0]).toBe("─".repeat(29));
  });
});

describe("the conversation becomes v3 while the chat is open", () => {
  test("one line when a v2 contact is pinned to v3, none otherwise", () => {
    expect(upgradeNotice(plain, 2, 3, "bob")).toBe("  · the conversation with bob is now v3 · forward-secret");
    expect(upgradeNotice(plain, 2, 2, "bob")).toBeNull();
    expect(upgradeNotice(plain, 3, 3, "bob")).toBeNull();
    expect(upgradeNotice(plain, 3, 2, "bob")).toBeNull();
  });
});
