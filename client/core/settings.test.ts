import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings } from "../state/settings.ts";
import { applySetting } from "./settings.ts";

const root = mkdtempSync(join(tmpdir(), "phantom-core-settings-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("motd-add switches the message of the day to the custom list", () => {
  const home = join(root, "home");
  applySetting(home, "motd", ["hacker"]);
  applySetting(home, "motd-add", ["my", "own", "line"]);
  expect(loadSettings(home)).toMatchObject({ motd: "custom", motdCustom: ["my own line"] });
  applySetting(home, "motd-add", ["another"]);
  expect(loadSettings(home)).toMatchObject({ motd: "custom", motdCustom: ["my own line", "another"] });
});
