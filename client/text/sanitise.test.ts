import { describe, expect, test } from "bun:test";
import { cleanFileName } from "../../lib/wire.ts";
import { cleanText, escapeText, hasUnsafe, jsonText, oneLine, quoteInput, shortLine } from "./sanitise.ts";

const ESC = "\x1b";
const FAMILY = "👨\u200d👩\u200d👧"; // zero-width joiners inside one emoji
const KEPT = ["plain", "é中", FAMILY, "👍🏽", "❤\ufe0f", "🇫🇷", "a\u200cb", "a\u200bb", "שלום", "مرحبا"];

// [what, input, cleanText multi-line, cleanText one-line, escapeText, oneLine]
const TABLE: [string, string, string, string, string, string][] = [
  ["NUL and BEL", "a\x00b\x07c", "a?b?c", "a?b?c", "a\\u0000b\\u0007c", "a b c"],
  ["backspace, form feed, vertical tab", "a\bb\fc\vd", "a?b?c?d", "a?b?c?d", "a\\u0008b\\u000cc\\u000bd", "a b c d"],
  ["DEL", "a\x7fb", "a?b", "a?b", "a\\u007fb", "a b"],
  ["CSI", `${ESC}[2J${ESC}[31mred`, "?[2J?[31mred", "?[2J?[31mred", "\\u001b[2J\\u001b[31mred", "[2J [31mred"],
  ["OSC ended by BEL", `${ESC}]0;pwned\x07x`, "?]0;pwned?x", "?]0;pwned?x", "\\u001b]0;pwned\\u0007x", "]0;pwned x"],
  [
    "OSC ended by ST",
    `${ESC}]8;;http://e${ESC}\\x`,
    "?]8;;http://e?\\x",
    "?]8;;http://e?\\x",
    "\\u001b]8;;http://e\\u001b\\x",
    "]8;;http://e \\x",
  ],
  ["DCS", `${ESC}P1$r${ESC}\\`, "?P1$r?\\", "?P1$r?\\", "\\u001bP1$r\\u001b\\", "P1$r \\"],
  ["8-bit CSI, OSC, ST", "\x9b2J\x9d0;t\x9c", "?2J?0;t?", "?2J?0;t?", "\\u009b2J\\u009d0;t\\u009c", "2J 0;t"],
  ["C1 NEL", "a\x85b", "a?b", "a?b", "a\\u0085b", "a b"],
  [
    "RLO/PDF override",
    "abc\u202etxt.exe\u202c",
    "abc?txt.exe?",
    "abc?txt.exe?",
    "abc\\u202etxt.exe\\u202c",
    "abc txt.exe",
  ],
  ["LRE, RLE, LRO", "\u202aa\u202bb\u202dc", "?a?b?c", "?a?b?c", "\\u202aa\\u202bb\\u202dc", "a b c"],
  ["isolates", "\u2066a\u2067b\u2068c\u2069", "?a?b?c?", "?a?b?c?", "\\u2066a\\u2067b\\u2068c\\u2069", "a b c"],
  ["LRM, RLM, ALM", "a\u200eb\u200fc\u061cd", "a?b?c?d", "a?b?c?d", "a\\u200eb\\u200fc\\u061cd", "a b c d"],
  ["newline", "one\ntwo", "one\ntwo", "one⏎two", "one\ntwo", "one two"],
  ["CR LF and CR", "a\r\nb\rc", "a\nb\nc", "a⏎b⏎c", "a\\u000d\nb\\u000dc", "a b c"],
  ["tab", "a\tb", "a  b", "a  b", "a    b", "a b"],
  ["line separators", "a\u2028b\u2029c", "a\u2028b\u2029c", "a\u2028b\u2029c", "a\\u2028b\\u2029c", "a b c"],
];

describe("the one sanitiser", () => {
  test.each(TABLE)("%s", (_what, input, multi, single, escaped, line) => {
    expect(cleanText(input)).toBe(multi);
    expect(cleanText(input, { oneLine: true })).toBe(single);
    expect(escapeText(input)).toBe(escaped);
    expect(oneLine(input)).toBe(line);
    expect(hasUnsafe(input)).toBe(_what !== "line separators");
  });

  test.each(KEPT)("%j is text and is kept by every function", (s) => {
    expect(cleanText(s)).toBe(s);
    expect(cleanText(s, { oneLine: true })).toBe(s);
    expect(escapeText(s)).toBe(s);
    expect(oneLine(s)).toBe(s);
    expect(quoteInput(s)).toBe(s);
    expect(hasUnsafe(s)).toBe(false);
    expect(cleanFileName(s)).toBe(s);
  });

  test("no unsafe character survives any function", () => {
    const codes = [...Array(0x20).keys(), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)];
    codes.push(0x61c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069);
    const all = String.fromCharCode(...codes);
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const unsafeButNewline = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    expect(cleanText(all)).not.toMatch(unsafeButNewline);
    expect(cleanText(all, { oneLine: true })).not.toMatch(unsafe);
    expect(escapeText(all)).not.toMatch(unsafeButNewline);
    expect(oneLine(all)).toBe("");
    expect(quoteInput(all)).toBe("?".repeat(codes.length));
    expect(cleanFileName(`a${all}b`)).toBe("ab");
    expect(hasUnsafe(all)).toBe(true);
  });

  test("quoteInput shows each unsafe character as ?", () => {
    expect(quoteInput("a\nb\x1b[31m\u202ec\x85")).toBe("a?b?[31m?c?");
  });

  test("shortLine cuts after cleaning", () => {
    expect(shortLine("a\n".repeat(10), 200)).toBe("a a a a a a a a a a");
    expect(shortLine("x".repeat(300), 200)).toBe(`${"x".repeat(197)}...`);
  });

  test("jsonText escapes what a terminal could act on and stays valid JSON", () => {
    const value = { body: `${ESC}[2J\u202e\u061c\x85\x7f\u2028ok${FAMILY}` };
    const text = jsonText(value);
    expect(text).toBe(`{"body":"\\u001b[2J\\u202e\\u061c\\u0085\\u007f\\u2028ok${FAMILY}"}`);
    expect(JSON.parse(text)).toEqual(value);
  });

  // Moved from client/tui/looks.test.ts (safeText of term.ts is now cleanText); same inputs, same outputs.
  test("untrusted text cannot carry escape sequences or bidi overrides", () => {
    expect(cleanText("hi\x1b[2J\x07there\u202eevil")).toBe("hi?[2J?there?evil");
    expect(cleanText("a\r\nb\tc", { oneLine: true })).toBe("a⏎b  c");
  });
});
