// Unit tests for the pure display parts: themes, mascots, message of the day, QR, progress.
import { describe, expect, test } from "bun:test";
import { encode } from "uqr";
import { formatMessage, lineStyle } from "./chat-format.ts";
import { MASCOT_NAMES, mascot } from "./mascots.ts";
import { MOTD_LISTS, pickMotd } from "./motd.ts";
import { createProgress, progressLine } from "./progress.ts";
import { renderQr } from "./qr.ts";
import { sideBySide, stripAnsi, width } from "./term.ts";
import { colorSpec } from "../state/settings.ts";
import { THEME_NAMES, makeTheme, parseColor } from "./themes.ts";

describe("themes", () => {
  test("without colour every style returns the text unchanged", () => {
    for (const name of THEME_NAMES) {
      const t = makeTheme(name, undefined, false);
      for (const style of [t.accent, t.dim, t.mine, t.peer, t.ok, t.warn, t.danger, t.bold]) {
        expect(style("hello")).toBe("hello");
      }
    }
  });

  test("each preset colours text, and own and peer names differ", () => {
    for (const name of THEME_NAMES) {
      const t = makeTheme(name, undefined, true);
      expect(t.accent("x")).toContain("\x1b[");
      expect(stripAnsi(t.accent("x"))).toBe("x");
      expect(t.mine("x")).not.toBe(t.peer("x"));
    }
  });

  test("custom colours accept names and hex, and refuse anything else", () => {
    expect(parseColor("Bright-Green")).toBe("92");
    expect(parseColor("#ff8000")).toBe("38;2;255;128;0");
    expect(() => parseColor("#ff80")).toThrow("unknown colour");
    expect(() => parseColor("chartreuse")).toThrow("unknown colour");
    // What settings store: the same clean-up, one function.
    expect(colorSpec(" Bright_Green ")).toBe("brightgreen");
    expect(colorSpec("#A0B0C0")).toBe("#a0b0c0");
    expect(() => colorSpec("#A0B0C")).toThrow("unknown colour '#A0B0C'");
    const t = makeTheme("custom", { accent: "#ff0000", dim: "gray", mine: "green", peer: "blue" }, true);
    expect(t.accent("a")).toBe("\x1b[38;2;255;0;0ma\x1b[39m");
    expect(t.peer("a")).toBe("\x1b[34ma\x1b[39m");
  });
});

describe("mascots and motd", () => {
  test("every mascot is plain ASCII, at most 16 columns and 8 lines; none is empty", () => {
    expect(mascot("none")).toEqual([]);
    for (const name of MASCOT_NAMES.filter((n) => n !== "none")) {
      const art = mascot(name);
      expect(art.length).toBeGreaterThan(3);
      expect(art.length).toBeLessThanOrEqual(8);
      for (const line of art) {
        expect(line).toMatch(/^[\x20-\x7e]*$/);
        expect(line.length).toBeLessThanOrEqual(16);
      }
    }
  });

  test("motd: stable for a day, from the chosen list, custom lines, off", () => {
    const day = new Date("2025-01-02T10:00:00Z");
    const later = new Date("2025-01-02T20:00:00Z");
    expect(pickMotd("privacy", [], day)).toBe(pickMotd("privacy", [], later));
    expect(MOTD_LISTS.privacy).toContain(pickMotd("privacy", [], day)!);
    expect(pickMotd("off", ["x"], day)).toBeNull();
    expect(pickMotd("custom", ["  ", ""], day)).toBeNull();
    expect(pickMotd("custom", ["only line"], day)).toBe("only line");
  });
});

describe("qr", () => {
  /** Turn the half-block characters back into a module matrix (true = dark). */
  function modules(lines: string[], color: boolean): boolean[][] {
    const rows: boolean[][] = [];
    for (const line of lines) {
      const top: boolean[] = [];
      const bottom: boolean[] = [];
      for (const ch of line) {
        const on = [ch === "█" || ch === "▀", ch === "█" || ch === "▄"];
        top.push(color ? on[0]! : !on[0]!);
        bottom.push(color ? on[1]! : !on[1]!);
      }
      rows.push(top, bottom);
    }
    return rows;
  }

  test("the drawn modules are exactly the QR matrix of the UID, inside a quiet zone", () => {
    const uid = "Yx3kP9aQ2mLr7TzW5vBn8cDe4fGh";
    const { data, size } = encode(uid, { ecc: "M", border: 0 });
    for (const color of [true, false]) {
      const lines = renderQr(uid, color);
      expect(lines.some((l) => l.includes("\x1b["))).toBe(color);
      const m = modules(lines.map(stripAnsi), color);
      const n = size + 4;
      expect(m[0]!.length).toBe(n);
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const inside = x >= 2 && y >= 2 && x < size + 2 && y < size + 2;
          expect(m[y]![x]).toBe(inside ? data[y - 2]![x - 2]! : false);
        }
      }
    }
  });
});

describe("progress", () => {
  test("line shows percent, sizes, speed and ETA", () => {
    const line = progressLine("upload photo.jpg", 512 * 1024, 2 * 1024 * 1024, 2, 100);
    expect(line).toContain(" 25%");
    expect(line).toContain("512 KB/2.0 MB");
    expect(line).toContain("256 KB/s");
    expect(line).toContain("ETA 0:06");
    expect(progressLine("x", 10, 10, 1)).toContain("100%");
    expect(progressLine("x", 10, 10, 1)).toContain("done");
  });

  test("draws only on a terminal, throttled, and always the final 100 %", () => {
    let t = 0;
    const writes: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (s: string) => writes.push(s) };
    const bar = createProgress("get", { out: tty, now: () => t, intervalMs: 100 });
    bar.update(1, 10);
    t = 50;
    bar.update(2, 10); // within 100 ms: skipped
    t = 150;
    bar.update(5, 10);
    bar.finish();
    expect(writes.length).toBe(4); // two updates, final redraw, newline
    expect(writes[2]).toContain("100%");
    expect(writes[3]).toBe("\n");
    const pipe: string[] = [];
    const quiet = createProgress("get", { out: { isTTY: false, write: (s: string) => pipe.push(s) } });
    quiet.update(5, 10);
    quiet.finish();
    expect(pipe).toEqual([]);
  });
});

describe("term", () => {
  test("sideBySide aligns the right column", () => {
    const out = sideBySide(["ab", "a中"], ["X", "Y", "Z"], 2);
    expect(out.map(width)).toEqual([6, 6, 6]);
    expect(out[2]).toBe("     Z");
  });
});

describe("chat lines", () => {
  const plainTheme = makeTheme("cyan", undefined, false);
  const style = lineStyle(plainTheme, "bob");
  const at = new Date(2025, 0, 2, 9, 5).getTime() / 1000;

  test("[HH:MM] name  text, names aligned, continuation lines indented", () => {
    expect(formatMessage({ ts: at, from: "B", mine: false, body: "hi" }, style)).toBe("[09:05] bob  hi");
    expect(formatMessage({ ts: at, from: "A", mine: true, body: "one\ntwo" }, style)).toBe(
      "[09:05] you  one\n             two",
    );
    const long = lineStyle(plainTheme, "Bobby");
    expect(formatMessage({ ts: at, from: "A", mine: true, body: "x" }, long)).toBe("[09:05] you    x");
  });

  test("file messages show name, size and #n; a peer's text cannot carry escape codes", () => {
    const file = { n: 3, name: "a\x1b[2Jb.png", size: 1536, mime: "image/png" };
    expect(formatMessage({ ts: at, from: "B", mine: false, body: file.name, file }, style)).toBe(
      "[09:05] bob  file #3  a?[2Jb.png  (1.5 KB)  /get 3",
    );
    const colored = lineStyle(makeTheme("cyan", undefined, true), "bob");
    const line = formatMessage({ ts: at, from: "B", mine: false, body: "\x1b]0;pwned\x07\x1b[31mred\u202e" }, colored);
    expect(stripAnsi(line)).toBe("[09:05] bob  ?]0;pwned??[31mred?");
    // Only our own colour codes remain: every ESC starts one of our SGR sequences.
    expect(line.match(/\x1b/g)!.length).toBe(line.match(/\x1b\[[0-9;]*m/g)!.length);
  });
});
