import { describe, expect, test } from "bun:test";
import { utf8 } from "../encoding.ts";
import { encodeInner, newInnerId, parseInner } from "./inner.ts";

describe("PROTOCOL-v3 §V7.1 inner messages", () => {
  test("text round trip, keys in spec order", () => {
    const id = newInnerId();
    const b = encodeInner({ t: "text", id, body: "héllo" });
    expect(new TextDecoder().decode(b)).toBe(`{"t":"text","id":"${id}","body":"héllo"}`);
    expect(parseInner(b)).toEqual({ t: "text", id, body: "héllo" });
  });
  test("file round trip with chunk 65536", () => {
    const id = newInnerId();
    const key = new Uint8Array(32).fill(7);
    const m = { t: "file" as const, id, name: "a.txt", size: 3, mime: "text/plain", url: "http://r/file/x", key };
    const b = encodeInner(m);
    expect(new TextDecoder().decode(b)).toContain(`"chunk":65536}`);
    expect(parseInner(b)).toEqual(m);
  });
  test("unknown kinds are skipped, unknown keys ignored", () => {
    expect(parseInner(utf8.encode('{"t":"reaction","id":"AAAAAAAAAAAAAAAA"}'))).toBeNull();
    expect(parseInner(utf8.encode('{"t":"text","id":"AAAAAAAAAAAAAAAA","body":"x","extra":1}'))).toEqual({
      t: "text",
      id: "AAAAAAAAAAAAAAAA",
      body: "x",
    });
  });
  test("refusals", () => {
    for (const bad of [
      "not json",
      '{"id":"AAAAAAAAAAAAAAAA"}',
      '{"t":"text","id":"short","body":"x"}',
      '{"t":"text","id":"AAAAAAAAAAAAAAAA"}',
      '{"t":"file","id":"AAAAAAAAAAAAAAAA","name":"a","size":1,"mime":"x","url":"u","key":"AAAA","chunk":65536}',
      '{"t":"file","id":"AAAAAAAAAAAAAAAA","name":"a","size":1,"mime":"x","url":"u","key":"' +
        "A".repeat(43) +
        '=","chunk":1024}',
    ]) {
      expect(() => parseInner(utf8.encode(bad))).toThrow();
    }
    expect(() => parseInner(Uint8Array.of(0xff, 0xfe))).toThrow();
    expect(() => encodeInner({ t: "text", id: newInnerId(), body: "x".repeat(61_437) })).toThrow(/too-long/);
  });
});
