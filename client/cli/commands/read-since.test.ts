import { describe, expect, test } from "bun:test";
import { errorOf } from "../../../tests/helpers/errors.ts";
import { parseSince } from "./read.ts";

const now = new Date(2026, 11, 2, 15, 30, 0);
const nowTs = Math.floor(now.getTime() / 1000);

describe("read --since", () => {
  test("a Unix time in seconds, as before", () => {
    expect(parseSince("1764000000", now)).toBe(1764000000);
    expect(parseSince(undefined, now)).toBeUndefined();
  });

  test("a date is local midnight", () => {
    expect(parseSince("2026-12-01", now)).toBe(Math.floor(new Date(2026, 11, 1).getTime() / 1000));
  });

  test("a duration is that long before now", () => {
    expect(parseSince("2h", now)).toBe(nowTs - 7200);
    expect(parseSince("30m", now)).toBe(nowTs - 1800);
    expect(parseSince("3d", now)).toBe(nowTs - 3 * 86_400);
    expect(parseSince("90s", now)).toBe(nowTs - 90);
  });

  test("anything else is refused in words", () => {
    for (const bad of ["yesterday", "2026-13-01", "2026-02-30", "-5", "2w", ""]) {
      const e = errorOf(() => parseSince(bad, now));
      expect(e.code).toBe("bad-option");
      expect(e.message).toContain("--since must be a date (2026-12-01), a time ago (30m, 2h, 3d)");
    }
  });
});
