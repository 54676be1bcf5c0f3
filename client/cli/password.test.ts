// Where the password comes from, and the rules for a new one.
import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { passwordSourceOf } from "./config.ts";
import { readPassword } from "./password.ts";

test("PHANTOM_PASSWORD first, then PHANTOM_PASSWORD_FILE (one final newline stripped)", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "phantom-pw-")), "pw");
  writeFileSync(file, "from the file\n", { mode: 0o600 });
  expect(
    await readPassword({
      source: passwordSourceOf({ PHANTOM_PASSWORD: "from env", PHANTOM_PASSWORD_FILE: file }),
      isTTY: false,
    }),
  ).toBe("from env");
  expect(await readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD_FILE: file }), isTTY: false })).toBe(
    "from the file",
  );
  await expect(
    readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD_FILE: `${file}.missing` }), isTTY: false }),
  ).rejects.toThrow(/cannot read PHANTOM_PASSWORD_FILE/);
});

test("PHANTOM_PASSWORD_FILE that other users can read is refused, with the fix; 0600 and pipes are read", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "phantom-pw-")), "pw");
  writeFileSync(file, "secret words\n", { mode: 0o644 });
  chmodSync(file, 0o644); // whatever the umask
  const env = { PHANTOM_PASSWORD_FILE: file };
  const e = await readPassword({ source: passwordSourceOf(env), isTTY: false }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PhantomError);
  expect((e as PhantomError).message).toBe(
    `PHANTOM_PASSWORD_FILE ${file} can be read by other users (mode 0644): chmod 600 it`,
  );
  expect((e as PhantomError).message).not.toContain("secret");
  chmodSync(file, 0o640);
  await expect(readPassword({ source: passwordSourceOf(env), isTTY: false })).rejects.toThrow("(mode 0640)");
  chmodSync(file, 0o600);
  expect(await readPassword({ source: passwordSourceOf(env), isTTY: false })).toBe("secret words");
  // A pipe (what `<(pass show phantom)` gives) has no such mode to check; nor has stdin
  // made of bytes here (a memfd with mode 0666 but no name anyone else could open).
  const script = `import { readPasswordFile } from "${import.meta.dir}/password.ts"; console.log(readPasswordFile("/dev/stdin"))`;
  const memfd = Bun.spawnSync([process.execPath, "-e", script], { stdin: new TextEncoder().encode("from bytes\n") });
  expect(memfd.stdout.toString()).toBe("from bytes\n\n");
  const pipe = Bun.spawnSync(["sh", "-c", 'printf "from a pipe\\n" | "$0" -e "$1"', process.execPath, script]);
  expect(pipe.stdout.toString()).toBe("from a pipe\n\n");
});

test("PHANTOM_PASSWORD_FILE is read up to 4096 bytes: a longer or endless one is refused", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "phantom-pw-")), "pw");
  writeFileSync(file, "x".repeat(4096), { mode: 0o600 });
  expect(await readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD_FILE: file }), isTTY: false })).toHaveLength(
    4096,
  );
  writeFileSync(file, "x".repeat(4097), { mode: 0o600 });
  await expect(
    readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD_FILE: file }), isTTY: false }),
  ).rejects.toThrow("is longer than 4.0 KB");
  await expect(
    readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD_FILE: "/dev/zero" }), isTTY: false }),
  ).rejects.toThrow("is longer than 4.0 KB");
});

test("no terminal and no variable: a clear error", async () => {
  await expect(readPassword({ source: passwordSourceOf({}), isTTY: false })).rejects.toThrow(/PHANTOM_PASSWORD/);
});

test("a new password has at least 8 characters", async () => {
  await expect(
    readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD: "short" }), create: true }),
  ).rejects.toBeInstanceOf(PhantomError);
  expect(await readPassword({ source: passwordSourceOf({ PHANTOM_PASSWORD: "12345678" }), create: true })).toBe(
    "12345678",
  );
});

test("terminal: asked twice when creating, again after a mismatch or a short one", async () => {
  const answers = ["short", "longenough1", "different!", "longenough1", "longenough1"];
  const asked: string[] = [];
  const pw = await readPassword({
    source: passwordSourceOf({}),
    create: true,
    testOnlyAsk: async (q) => {
      asked.push(q);
      return answers.shift()!;
    },
  });
  expect(pw).toBe("longenough1");
  expect(asked.length).toBe(5);
  expect(await readPassword({ source: passwordSourceOf({}), testOnlyAsk: async () => "any" })).toBe("any");
});
