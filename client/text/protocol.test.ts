import { describe, expect, test } from "bun:test";
import {
  LABEL_V2,
  LABEL_V3,
  protocolLabel,
  protocolLine,
  REASON_NO_BUNDLE,
  REASON_NOT_TRIED,
  REASON_RELAY_V2,
} from "./protocol.ts";

describe("protocolLabel (PROTOCOL-v3 §V1)", () => {
  test("a contact pinned to v3 is forward-secret, with no reason, whatever else is known", () => {
    for (const relayV3 of [true, false, null, undefined])
      for (const v3Checked of [1_700_000_000, null, undefined])
        expect(protocolLabel({ protocol: 3, relayV3, v3Checked })).toEqual({
          short: "v3 · forward-secret",
          reason: null,
        });
  });

  test("v2 because the relay does not offer v3 comes first", () => {
    expect(protocolLabel({ protocol: 2, relayV3: false })).toEqual({
      short: "v2 · not forward-secret",
      reason: "the relay does not offer protocol v3",
    });
    expect(protocolLabel({ protocol: 2, relayV3: false, v3Checked: 1_700_000_000 }).reason).toBe(REASON_RELAY_V2);
  });

  test("v2 after a bundle request found none", () => {
    for (const relayV3 of [true, null, undefined])
      expect(protocolLabel({ protocol: 2, relayV3, v3Checked: 1_700_000_000 })).toEqual({
        short: LABEL_V2,
        reason: "peer uses Phantom 2.2 or has not published a v3 key bundle",
      });
    expect(protocolLabel({ protocol: 2, v3Checked: 0 }).reason).toBe(REASON_NO_BUNDLE); // 0 is a time, not "never"
  });

  test("v2 never tried: at the first message", () => {
    for (const relayV3 of [true, null, undefined])
      for (const v3Checked of [null, undefined])
        expect(protocolLabel({ protocol: 2, relayV3, v3Checked })).toEqual({
          short: LABEL_V2,
          reason: "v3 is tried at the first message",
        });
  });

  test("protocolLine: the label, and the reason in brackets for v2", () => {
    expect(protocolLine({ protocol: 3 })).toBe(LABEL_V3);
    expect(protocolLine({ protocol: 2 })).toBe(`v2 · not forward-secret (${REASON_NOT_TRIED})`);
  });
});
