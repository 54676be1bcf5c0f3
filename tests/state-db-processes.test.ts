// Two real processes on one identity's state.db (PROTOCOL-v3 §V8: `listen` and `send` must never
// fork a ratchet): each does 1,000 read-modify-write increments of one sealed counter row, each in
// its own db.tx (BEGIN IMMEDIATE). Every increment survives: the final count is exact.
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateDb } from "../client/state/state-db.ts";
import { testVaultKey } from "./helpers/state.ts";

setDefaultTimeout(120_000);
const BUN = process.execPath;
const HAMMER = join(import.meta.dir, "helpers", "state-hammer.ts");
const N = 1000;

test(`two processes × ${N} sealed increments of one row: the count is exactly ${2 * N}`, async () => {
  const home = join(mkdtempSync(join(tmpdir(), "phantom-state-procs-")), "home");
  const key = testVaultKey();
  StateDb.open(home, key).close(); // created once, so neither child races the schema
  const hex = Buffer.from(key).toString("hex");
  const t0 = performance.now();
  const kids = [0, 1].map(() => Bun.spawn([BUN, HAMMER, home, hex, String(N)], { stdout: "pipe", stderr: "pipe" }));
  const results = await Promise.all(
    kids.map(async (k) => ({
      code: await k.exited,
      out: await new Response(k.stdout).text(),
      err: await new Response(k.stderr).text(),
    })),
  );
  for (const r of results) expect(r).toEqual({ code: 0, out: "done\n", err: "" });
  const db = StateDb.open(home, key);
  expect(db.getDoc("read_state", "C".repeat(28))).toBe(2 * N);
  db.close();
  console.log(`state.db: ${2 * N} contended sealed increments in ${Math.round(performance.now() - t0)} ms`);
});
