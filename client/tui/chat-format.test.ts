import { describe, expect, test } from "bun:test";
import { dayDivider, dayOf } from "./chat-format.ts";
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
