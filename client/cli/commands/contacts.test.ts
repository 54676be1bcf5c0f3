// `phantom contacts`: each contact's protocol (PROTOCOL-v3 §V1), in words and in --json.
import { describe, expect, test } from "bun:test";
import type { ContactView } from "../../state/contacts.ts";
import { protocolLine } from "../../text/protocol.ts";
import { contactLines, jsonOf } from "./contacts.ts";

const FP = "AAAA BBBB CCCC DDDD EEEE FFFF GGGG HHHH IIII JJJJ KKKK LLLL MMMM";
const view = (o: Partial<ContactView> = {}): ContactView => ({
  uid: "B".repeat(28),
  nickname: "bob",
  fingerprint: FP,
  verified: false,
  keyChanged: false,
  isNew: false,
  protocol: 2,
  ...o,
});

describe("the human list", () => {
  test("name and status, fingerprint as before, then the protocol with its reason", () => {
    expect(contactLines(view({ protocol: 3, verified: true }), protocolLine({ protocol: 3 })).split("\n")).toEqual([
      `bob (${"B".repeat(28)})  [verified]`,
      `    fingerprint: ${FP}`,
      "    protocol:    v3 · forward-secret",
    ]);
    expect(contactLines(view(), protocolLine({ protocol: 2, relayV3: false })).split("\n")[2]).toBe(
      "    protocol:    v2 · not forward-secret (the relay does not offer protocol v3)",
    );
    expect(contactLines(view(), protocolLine({ protocol: 2, relayV3: true, v3Checked: 1 })).split("\n")[2]).toBe(
      "    protocol:    v2 · not forward-secret (peer uses Phantom 2.2 or has not published a v3 key bundle)",
    );
    expect(contactLines(view(), protocolLine({ protocol: 2 })).split("\n")[2]).toBe(
      "    protocol:    v2 · not forward-secret (v3 is tried at the first message)",
    );
  });
});

describe("--json", () => {
  test('"protocol": 3 or 2 after the fields it had', () => {
    expect(jsonOf(view({ protocol: 3 }))).toEqual({
      uid: "B".repeat(28),
      nickname: "bob",
      fingerprint: FP,
      verified: false,
      key_changed: false,
      new: false,
      protocol: 3,
    });
    expect(jsonOf(view()).protocol).toBe(2);
    expect(Object.keys(jsonOf(view())).at(-1)).toBe("protocol");
  });
});
