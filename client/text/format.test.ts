import { describe, expect, test } from "bun:test";
import { describeErrno, formatBytes, formatCount } from "./format.ts";

describe("numbers and system errors in words", () => {
  test("sizes and counts", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(65_536)).toBe("64 KB");
    expect(formatBytes(104_857_600)).toBe("100 MB");
    expect(formatCount(70_000)).toBe("70,000");
    expect(formatCount(1_234_567)).toBe("1,234,567");
    expect(formatCount(999)).toBe("999");
  });

  test("a system error code becomes words", () => {
    expect(describeErrno("ENOENT")).toBe("no such file or folder");
    expect(describeErrno("EACCES")).toBe("permission denied");
    expect(describeErrno("EWHATEVER")).toBe("system error EWHATEVER");
    expect(describeErrno(undefined)).toBe("input/output error");
  });
});
