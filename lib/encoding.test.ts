// PROTOCOL §1 encodings: strict decoders refuse every non-canonical form with WireError("bad-encoding").
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  b64decode,
  b64encode,
  b64udecode,
  b64uencode,
  base32encode,
  concatBytes,
  hexdecode,
  hexencode,
  utf8,
} from "./encoding.ts";
import { WireError } from "./errors.ts";
import { expectWireError } from "../tests/helpers/errors.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("b64 (standard, padded)", () => {
  test("decodes canonical input", () => {
    expect(b64decode("")).toEqual(bytes());
    expect(b64decode("YQ==")).toEqual(bytes(0x61));
    expect(b64decode("YWI=")).toEqual(bytes(0x61, 0x62));
    expect(b64decode("+/+/")).toEqual(bytes(0xfb, 0xff, 0xbf));
  });

  test.each([
    ["url-safe alphabet", "-_-_"],
    ["missing padding", "YQ"],
    ["one pad short", "YQ="],
    ["too much padding", "YQ==="],
    ["padding in the middle", "YQ==YQ=="],
    ["whitespace", "YW Jj"],
    ["newline", "YWJj\n"],
    ["non-ASCII", "YWJé"],
    ["non-canonical trailing bits (1 byte)", "YR=="],
    ["non-canonical trailing bits (2 bytes)", "YWJ="],
    ["lone character", "Y"],
  ])("rejects %s", (_, text) => expectWireError(() => b64decode(text), "bad-encoding"));

  test("rejects a non-string", () => expectWireError(() => b64decode(42 as unknown as string), "bad-encoding"));

  test("the error names the field, not the value", () => {
    expect(() => b64decode("secret-value!", "vault salt")).toThrow("vault salt: not valid base64");
  });
});

describe("b64u (URL-safe, unpadded)", () => {
  test("decodes canonical input", () => {
    expect(b64udecode("")).toEqual(bytes());
    expect(b64udecode("YQ")).toEqual(bytes(0x61));
    expect(b64udecode("-_-_")).toEqual(bytes(0xfb, 0xff, 0xbf));
  });

  test.each([
    ["padding", "YQ=="],
    ["single pad", "YWI="],
    ["standard alphabet +", "+___"],
    ["standard alphabet /", "/___"],
    ["length 1 mod 4", "YWJjZ"],
    ["non-canonical trailing bits (1 byte)", "YR"],
    ["non-canonical trailing bits (2 bytes)", "YWJ"],
    ["whitespace", "YW Jj"],
  ])("rejects %s", (_, text) => expectWireError(() => b64udecode(text), "bad-encoding"));
});

describe("hex", () => {
  test("decodes lowercase", () => expect(hexdecode("00ff10")).toEqual(bytes(0, 255, 16)));
  test.each([
    ["upper case", "00FF"],
    ["odd length", "abc"],
    ["non-hex", "zz"],
    ["0x prefix", "0x00"],
  ])("rejects %s", (_, text) => expectWireError(() => hexdecode(text), "bad-encoding"));
});

describe("round trips and uniqueness (property)", () => {
  test("decode(encode(x)) = x for b64, b64u and hex", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (x) => {
        expect(b64decode(b64encode(x))).toEqual(x);
        expect(b64udecode(b64uencode(x))).toEqual(x);
        expect(hexdecode(hexencode(x))).toEqual(x);
      }),
    );
  });

  test("every accepted string is the one encoding of its bytes", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=";
    const text = fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((a) => a.join(""));
    fc.assert(
      fc.property(text, (s) => {
        for (const [decode, encode] of [
          [b64decode, b64encode],
          [b64udecode, b64uencode],
        ] as const) {
          let decoded: Uint8Array | undefined;
          try {
            decoded = decode(s);
          } catch (e) {
            expect(e).toBeInstanceOf(WireError);
          }
          if (decoded) expect(encode(decoded)).toBe(s);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("base32 (PROTOCOL §2 fingerprints)", () => {
  test("RFC 4648 §10 test vectors, upper case, no padding", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["f", "MY"],
      ["fo", "MZXQ"],
      ["foo", "MZXW6"],
      ["foob", "MZXW6YQ"],
      ["fooba", "MZXW6YTB"],
      ["foobar", "MZXW6YTBOI"],
    ];
    for (const [input, output] of cases) expect(base32encode(utf8.encode(input))).toBe(output);
  });

  test("a 32-byte digest is 52 characters", () => {
    expect(base32encode(new Uint8Array(32).fill(0xff))).toBe("7".repeat(51) + "Q");
  });
});

describe("utf8", () => {
  test("round-trips text, keeps a leading BOM", () => {
    expect(utf8.decode(utf8.encode("\ufeffü 👻"))).toBe("\ufeffü 👻");
  });

  test.each([
    ["invalid byte", [0xff]],
    ["overlong encoding", [0xc0, 0x80]],
    ["encoded surrogate", [0xed, 0xa0, 0x80]],
    ["truncated sequence", [0xe2, 0x9c]],
  ])("rejects %s as bad-utf8", (_, b) => expectWireError(() => utf8.decode(Uint8Array.from(b)), "bad-utf8"));
});

test("concatBytes", () => {
  expect(concatBytes()).toEqual(bytes());
  expect(concatBytes(bytes(1), bytes(), bytes(2, 3))).toEqual(bytes(1, 2, 3));
});
