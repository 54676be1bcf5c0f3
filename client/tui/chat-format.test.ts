import { describe, expect, test } from "bun:test";
import { dayDivider, dayOf, formatMessage, lineStyle } from "./chat-format.ts";
import { makeTheme } from "./themes.ts";

const plain = makeTheme("cyan", undefined, false);
const at = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).getTime() / 1000;

describe("date dividers in the chat", () => {
  test("the day is named in words, in local time", () => {
    expect(dayOf(at(2026, 12, 1, 0))).toBe("Tuesday, 1 December 2026");
    expect(dayOf(at(2026, 12, 1, 23))).toBe("Tuesday, 1 December 2026");
  });

  test("a divider when the day changes between two messages, none within a day", () => {
    const now = at(2026, 12, 2);
    expect(dayDivider(at(2026, 12, 1, 9), at(2026, 12, 1, 23), plain, now)).toBeNull();
    expect(dayDivider(at(2026, 12, 1, 23), at(2026, 12, 2, 0), plain, now)).toContain("Wednesday, 2 December 2026");
  });

  test("before the first message: a divider unless it is from today", () => {
    const now = at(2026, 12, 2, 15);
    expect(dayDivider(null, at(2026, 12, 2, 8), plain, now)).toBeNull();
    expect(dayDivider(null, at(2026, 11, 30), plain, now)).toContain("Monday, 30 November 2026");
  });
});

// PROTOCOL-v3 §V1 (downgraded) and §V8 (history off) in chat rows.
describe("chat rows and the protocol", () => {
  const style = lineStyle(plain, "bob");
  const base = { ts: at(2026, 12, 2, 9), from: "B".repeat(28), mine: false, body: "hi" };

  test("a v2 message from a v3-pinned contact is marked; others are not", () => {
    const line = formatMessage({ ...base, protocol: 2 }, style);
    expect(line).toMatch(/^\[\d\d:\d\d\] bob  hi$/);
    expect(formatMessage({ ...base, protocol: 3 }, style)).toBe(line);
    expect(formatMessage({ ...base, protocol: 2, downgraded: true }, style)).toBe(
      `${line}  (sent without forward secrecy)`,
    );
    const file = { n: 1, name: "a.txt", size: 3, mime: "text/plain" };
    expect(formatMessage({ ...base, body: "a.txt", file, downgraded: true }, style)).toEndWith(
      "/get 1  (sent without forward secrecy)",
    );
  });

  test("with colour the mark is in the warning colour", () => {
    const amber = makeTheme("amber", undefined, true);
    const line = formatMessage({ ...base, downgraded: true }, lineStyle(amber, "bob"));
    expect(line).toEndWith(amber.warn("(sent without forward secrecy)"));
  });

  test("a message read before with history off: the words, dim, instead of the text", () => {
    expect(formatMessage({ ...base, body: "", alreadyRead: true }, style)).toMatch(
      /^\[\d\d:\d\d\] bob  \(already read — history is off\)$/,
    );
    const amber = makeTheme("amber", undefined, true);
    const line = formatMessage({ ...base, body: "", alreadyRead: true }, lineStyle(amber, "bob"));
    expect(line).toEndWith(amber.dim("(already read — history is off)"));
  });
});
