// Where the password comes from, and the rules for a new one.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PhantomError } from "../lib/errors.ts";
import { readPassword } from "./password.ts";

test("PHANTOM_PASSWORD first, then PHANTOM_PASSWORD_FILE (one final newline stripped)", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "phantom-pw-")), "pw");
  writeFileSync(file, "from the file\n");
  expect(await readPassword({ env: { PHANTOM_PASSWORD: "from env", PHANTOM_PASSWORD_FILE: file }, isTTY: false })).toBe(
    "from env",
  );
  expect(await readPassword({ env: { PHANTOM_PASSWORD_FILE: file }, isTTY: false })).toBe("from the file");
  await expect(readPassword({ env: { PHANTOM_PASSWORD_FILE: `${file}.missing` }, isTTY: false })).rejects.toThrow(
    /cannot read PHANTOM_PASSWORD_FILE/,
  );
});

test("no terminal and no variable: a clear error", async () => {
  await expect(readPassword({ env: {}, isTTY: false })).rejects.toThrow(/PHANTOM_PASSWORD/);
});

test("a new password has at least 8 characters", async () => {
  await expect(readPassword({ env: { PHANTOM_PASSWORD: "short" }, create: true })).rejects.toBeInstanceOf(PhantomError);
  expect(await readPassword({ env: { PHANTOM_PASSWORD: "12345678" }, create: true })).toBe("12345678");
});

test("terminal: asked twice when creating, again after a mismatch or a short one", async () => {
  const answers = ["short", "longenough1", "different!", "longenough1", "longenough1"];
  const asked: string[] = [];
  const pw = await readPassword({
    env: {},
    create: true,
    testOnlyAsk: async (q) => {
      asked.push(q);
      return answers.shift()!;
    },
  });
  expect(pw).toBe("longenough1");
  expect(asked.length).toBe(5);
  expect(await readPassword({ env: {}, testOnlyAsk: async () => "any" })).toBe("any");
});
