// withStateLock: nested calls in one process share the lock, the lock file is 0600, and a
// holder killed with SIGKILL leaves nothing locked (the operating system drops its lock).
import { afterAll, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../../tests/helpers/relay.ts";
import { STATE_LOCK_FILE } from "./home.ts";
import { withStateLock } from "./lock.ts";

const root = tempDir("phantom-lock-unit-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("nested calls share the lock; the lock file is 0600 in a 0700 home", () => {
  const home = join(root, "nested");
  const order: string[] = [];
  const r = withStateLock(home, () => {
    order.push("outer");
    return withStateLock(home, () => (order.push("inner"), 42));
  });
  expect(r).toBe(42);
  expect(order).toEqual(["outer", "inner"]);
  expect(statSync(join(home, STATE_LOCK_FILE)).mode & 0o777).toBe(0o600);
  expect(statSync(home).mode & 0o777).toBe(0o700);
});

test("an error in the change releases the lock", () => {
  const home = join(root, "throws");
  expect(() =>
    withStateLock(home, () => {
      throw new Error("boom");
    }),
  ).toThrow("boom");
  expect(withStateLock(home, () => "again")).toBe("again");
});

test("a holder killed with SIGKILL does not leave the home locked", async () => {
  const home = join(root, "killed");
  const lock = resolve(import.meta.dir, "lock.ts");
  const child = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { withStateLock } = await import(${JSON.stringify(lock)});
       withStateLock(${JSON.stringify(home)}, () => { console.log("held"); process.kill(process.pid, "SIGKILL"); });`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(child.stdout).text();
  await child.exited;
  expect({ out, signal: child.signalCode }).toEqual({ out: "held\n", signal: "SIGKILL" });
  expect(withStateLock(home, () => "free")).toBe("free");
});
