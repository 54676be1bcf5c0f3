import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorOf } from "../../../tests/helpers/errors.ts";
import { relayUrlOf } from "../config.ts";
import { loadSettings } from "../../state/settings.ts";
import { applySetting } from "../../core/settings.ts";
import { settingsCommand } from "./settings.ts";

const home = join(mkdtempSync(join(tmpdir(), "phantom-settings-")), "home");
afterAll(() => rmSync(join(home, ".."), { recursive: true, force: true }));

function saved(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(home, "settings.json"), "utf8"));
}

describe("phantom settings", () => {
  test("shows defaults without writing anything", () => {
    const lines: string[] = [];
    expect(settingsCommand(undefined, [], { env: { PHANTOM_HOME: home }, out: { write: (s) => lines.push(s) } })).toBe(
      0,
    );
    expect(lines.join("")).toContain("theme        cyan");
    expect(() => statSync(join(home, "settings.json"))).toThrow();
  });

  test("each setting is validated and saved (0600)", () => {
    applySetting(home, "theme", ["Amber"]);
    applySetting(home, "mascot", ["penguin"]);
    applySetting(home, "motd-add", ["hello", "there"]);
    applySetting(home, "motd-add", ["second"]);
    applySetting(home, "motd", ["hacker"]);
    applySetting(home, "tor-warning", ["off"]);
    applySetting(home, "color", ["accent", "Bright-Green"]);
    applySetting(home, "color", ["peer", "#A0B0C0"]);
    applySetting(home, "relay", ["https://relay.example:8443/"]);
    expect(saved()).toMatchObject({
      theme: "amber",
      mascot: "penguin",
      motd: "hacker",
      motdCustom: ["hello there", "second"],
      torWarning: false,
      customTheme: { accent: "brightgreen", dim: "gray", mine: "brightcyan", peer: "#a0b0c0" },
      relay: "https://relay.example:8443",
    });
    expect(statSync(join(home, "settings.json")).mode & 0o777).toBe(0o600);
    applySetting(home, "motd-clear", []);
    applySetting(home, "relay", ["default"]);
    expect(saved().motdCustom).toEqual([]);
    expect(saved().relay).toBeUndefined();
  });

  test("bad values are refused with a clear message and change nothing", () => {
    const before = saved();
    expect(() => applySetting(home, "theme", ["pink"])).toThrow(
      "theme must be one of: cyan, matrix, amber, ocean, custom",
    );
    expect(() => applySetting(home, "mascot", [])).toThrow("mascot must be one of");
    expect(() => applySetting(home, "color", ["accent", "chartreuse"])).toThrow("unknown colour 'chartreuse'");
    expect(() => applySetting(home, "color", ["border", "red"])).toThrow("one of: accent, dim, mine, peer");
    expect(() => applySetting(home, "tor-warning", ["maybe"])).toThrow("one of: on, off");
    expect(() => applySetting(home, "relay", ["ftp://x"])).toThrow("http:// or https://");
    expect(() => applySetting(home, "volume", ["11"])).toThrow("unknown setting 'volume'");
    expect(saved()).toEqual(before);
  });

  test("relay: refused exactly when every command would refuse it, with the same check; credentials never echoed", () => {
    const before = saved();
    const env = (relay: string) => ({ PHANTOM_HOME: home, PHANTOM_RELAY: relay });
    for (const bad of [
      "https://relay.example/?token=1",
      "https://relay.example/#x",
      "https://relay.example/?",
      "https://alice:hunter2@relay.example",
      "ws://relay.example",
      "ftp://alice:hunter2@relay.example",
      "file:///etc/passwd",
      "relay.example",
    ]) {
      const refused = errorOf(() => applySetting(home, "relay", [bad]));
      expect(refused.message).not.toContain("hunter2");
      // what a command says about the same address
      expect(errorOf(() => relayUrlOf(undefined, env(bad), loadSettings(home))).message).toBe(refused.message);
    }
    expect(saved()).toEqual(before);
    // Saved as every command will use it.
    applySetting(home, "relay", ["HTTPS://Relay.Example:443/base/"]);
    expect(saved().relay).toBe("https://relay.example/base");
    expect(relayUrlOf(undefined, {}, loadSettings(home))).toBe("https://relay.example/base");
    applySetting(home, "relay", ["default"]);
  });

  test("history keep | days N | off and require-v3 on | off: saved, shown, bad values refused", () => {
    const show = () => {
      const lines: string[] = [];
      settingsCommand(undefined, [], { env: { PHANTOM_HOME: home }, out: { write: (s) => lines.push(s) } });
      return lines.join("");
    };
    expect(show()).toContain("history      keep (default)\n");
    expect(show()).toContain("require-v3   off\n");
    expect(applySetting(home, "history", ["days", "30"]).history).toEqual({ mode: "days", days: 30 });
    expect(saved().history).toEqual({ mode: "days", days: 30 });
    expect(show()).toContain("history      days 30\n");
    applySetting(home, "require-v3", ["ON"]);
    expect(saved().requireV3).toBe(true);
    expect(show()).toContain("require-v3   on\n");
    applySetting(home, "history", ["Off"]);
    expect(show()).toContain("history      off\n");
    expect(applySetting(home, "history", ["days", "36500"]).history).toEqual({ mode: "days", days: 36_500 });
    const before = saved();
    for (const bad of [
      [],
      ["days"],
      ["days", "0"],
      ["days", "36501"],
      ["days", "1.5"],
      ["days", "-3"],
      ["days", "x"],
      ["forever"],
      ["keep", "3"],
      ["days", "3", "4"],
    ]) {
      expect(errorOf(() => applySetting(home, "history", bad)).message).toBe(
        "history must be one of: keep, days N (N from 1 to 36500), off",
      );
    }
    expect(() => applySetting(home, "require-v3", ["maybe"])).toThrow("require-v3 must be one of: on, off");
    expect(saved()).toEqual(before);
    applySetting(home, "history", ["keep"]);
    applySetting(home, "require-v3", ["off"]);
    expect(saved()).toMatchObject({ history: { mode: "keep" }, requireV3: false });
  });

  test("a corrupt settings.json is reported with its path, not reset", () => {
    const path = join(home, "settings.json");
    writeFileSync(path, "{not json");
    expect(() => applySetting(home, "theme", ["ocean"])).toThrow(path);
    expect(readFileSync(path, "utf8")).toBe("{not json");
  });
});
