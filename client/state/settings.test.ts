// settings.json: defaults, validation, unknown keys kept, corrupt file named and untouched.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { defaultSettings, loadSettings, saveSettings, settingsPath, updateSettings } from "./settings.ts";

const home = () => join(mkdtempSync(join(tmpdir(), "phantom-settings-")), "home");

test("no file: defaults (Tor warning on), and nothing is written", () => {
  const h = home();
  expect(loadSettings(h)).toEqual(defaultSettings());
  expect(defaultSettings()).toMatchObject({ torWarning: true, theme: "cyan", motd: "fun", motdCustom: [] });
  expect(defaultSettings().relay).toBeUndefined();
  expect(() => statSync(h)).toThrow();
});

test("update writes a 0600 file in a 0700 folder and reads back", () => {
  const h = home();
  updateSettings(h, { relay: "https://relay.example:8443", torWarning: false, theme: "custom" });
  updateSettings(h, { customTheme: { accent: "#00ff88", dim: "gray", mine: "cyan", peer: "magenta" } });
  expect(statSync(h).mode & 0o777).toBe(0o700);
  expect(statSync(settingsPath(h)).mode & 0o777).toBe(0o600);
  expect(loadSettings(h)).toMatchObject({
    relay: "https://relay.example:8443",
    torWarning: false,
    theme: "custom",
    customTheme: { accent: "#00ff88", dim: "gray", mine: "cyan", peer: "magenta" },
  });
});

test("keys from another client version are kept on save", () => {
  const h = home();
  updateSettings(h, {});
  const path = settingsPath(h);
  writeFileSync(path, JSON.stringify({ theme: "amber", futureOption: { a: 1 } }));
  updateSettings(h, { mascot: "cat" });
  expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({
    theme: "amber",
    mascot: "cat",
    futureOption: { a: 1 },
  });
});

test("invalid values are refused on save", () => {
  const h = home();
  expect(() => saveSettings(h, { ...defaultSettings(), theme: "pink" as "cyan" })).toThrow(PhantomError);
  expect(() => updateSettings(h, { relay: "ftp://x" })).toThrow(PhantomError);
  expect(() => updateSettings(h, { customTheme: { accent: "red; rm", dim: "x", mine: "y", peer: "z" } })).toThrow();
});

test("a corrupt or invalid file is an error naming it, never reset", () => {
  const h = home();
  updateSettings(h, {});
  const path = settingsPath(h);
  for (const bad of ["{", '{"theme":"pink"}', '{"torWarning":"no"}', "null"]) {
    writeFileSync(path, bad);
    const e = errorOf(() => loadSettings(h));
    expect(e.code).toBe("corrupt-file");
    expect(e.message).toContain(path);
    expect(errorOf(() => updateSettings(h, { mascot: "dog" })).code).toBe("corrupt-file");
    expect(readFileSync(path, "utf8")).toBe(bad);
  }
});

test("PROTOCOL-v3 §V8 history and §V1 require-v3: defaults keep and off; a bad stored value is refused", () => {
  expect(defaultSettings()).toMatchObject({ history: { mode: "keep" }, requireV3: false });
  const h = home();
  updateSettings(h, { history: { mode: "days", days: 30 }, requireV3: true });
  expect(loadSettings(h)).toMatchObject({ history: { mode: "days", days: 30 }, requireV3: true });
  updateSettings(h, { history: { mode: "off" } });
  expect(loadSettings(h).history).toEqual({ mode: "off" });
  const path = settingsPath(h);
  for (const bad of [
    { history: { mode: "days", days: 0 } },
    { history: { mode: "days", days: 36_501 } },
    { history: { mode: "days", days: 1.5 } },
    { history: { mode: "days" } },
    { history: { mode: "forever" } },
    { history: "keep" },
    { requireV3: "yes" },
  ]) {
    writeFileSync(path, JSON.stringify(bad));
    expect(errorOf(() => loadSettings(h)).code).toBe("corrupt-file");
  }
});
