// Two of our clients introduced to each other for the v3 end-to-end tests (tests/v3-e2e.test.ts,
// tests/v3-processes.test.ts), and the /proc readings those tests take of a running client.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ok, type User, userEnv } from "./cli.ts";

/** Alice and bob (fresh homes in `dir`) on `relayUrl`, each the other's contact ("bob", "alice"); nothing sent yet. */
export async function introducedPair(dir: string, relayUrl: string): Promise<{ dir: string; alice: User; bob: User }> {
  mkdirSync(dir);
  const user = (name: string) => ({ home: join(dir, name), env: userEnv(join(dir, name), relayUrl) }) as User;
  const alice = user("alice");
  const bob = user("bob");
  const [a, b] = await Promise.all([ok(alice, ["init", "--json"]), ok(bob, ["init", "--json"])]);
  alice.uid = a.json()[0]!.uid as string;
  bob.uid = b.json()[0]!.uid as string;
  await ok(alice, ["add", bob.uid, "--nick", "bob"]);
  await ok(bob, ["contacts"]);
  await ok(bob, ["accept", alice.uid]);
  await ok(bob, ["nick", alice.uid, "alice"]);
  return { dir, alice, bob };
}

/** VmHWM and VmRSS of a running process in bytes, or null once it is gone. */
export function memOf(pid: number): { hwm: number; rss: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
    return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
  } catch {
    return null;
  }
}

/** Less than the 128 MiB scrypt takes (PROTOCOL §3) and gives back at once after the unlock. */
export const SCRYPT_DROP = 64 * 1024 * 1024;
