// Client history benchmark (not a test): `bun bench/client.ts` (`./build.sh bench client`). PROTOCOL-v3 §V8:
// what 10,000 history rows of 100-byte texts cost — state.db's size (the -wal checkpointed), reading a
// conversation of 10,000 messages (historyOf: open each seal, parse each inner) and searching them
// (searchHistory, decrypting in memory).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeInner, newInnerId } from "../lib/v3/inner.ts";
import { historyOf, searchHistory } from "../client/core/history.ts";
import { unlockState } from "../client/state/migrate.ts";
import { putHistory } from "../client/state/ratchet-store.ts";
import { closeState } from "../client/state/state-db.ts";

const N = 10_000;
const ME = "M".repeat(28);
const PEER = "P".repeat(28);
const root = mkdtempSync(join(tmpdir(), "phantom-bench-client-"));
const home = join(root, "home");
const db = unlockState(home, new Uint8Array(randomBytes(32)));
const ms = (t0: number) => performance.now() - t0;
const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

// 100-byte texts of words; one in a hundred has "needle" in it.
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
function body(i: number): string {
  let s = i % 100 === 0 ? "needle " : "";
  while (s.length < 100) s += `${WORDS[(i * 7 + s.length) % WORDS.length]} `;
  return s.slice(0, 100);
}
const hashOf = (i: number) => new Uint8Array(createHash("sha256").update(`wire ${i}`).digest());
const t1 = 1_780_000_000;

const before = size(db.path);
let t0 = performance.now();
db.tx(() => {
  for (let i = 0; i < N; i++) {
    const inner = encodeInner({ t: "text", id: newInnerId(), body: body(i) });
    putHistory(db, PEER, { hash: hashOf(i), ts: t1 + i, direction: i % 2 === 0 ? "in" : "out", inner });
  }
});
console.log(`put ${N} history rows (one transaction): ${ms(t0).toFixed(0)} ms`);
db.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
const bytes = size(db.path) + size(`${db.path}-wal`);
console.log(
  `state.db after ${N} rows (100-byte texts, -wal checkpointed): ${bytes} bytes ` +
    `(${((bytes - before) / N).toFixed(0)} bytes/row; empty state.db ${before} bytes; -wal ${size(`${db.path}-wal`)} bytes)`,
);

for (let round = 0; round < 3; round++) {
  t0 = performance.now();
  const list = historyOf(db, PEER, ME);
  const a = ms(t0);
  t0 = performance.now();
  const found = searchHistory(db, [PEER], ME, "NEEDLE");
  const b = ms(t0);
  t0 = performance.now();
  const none = searchHistory(db, [PEER], ME, "zebra");
  const c = ms(t0);
  console.log(
    `round ${round + 1}: historyOf ${list.length} rows ${a.toFixed(1)} ms; ` +
      `searchHistory ${N} rows ${b.toFixed(1)} ms (${found.length} found), no match ${c.toFixed(1)} ms`,
  );
}
// As the ratchet transaction writes it: one row, one commit (synchronous=FULL); another conversation.
const M = 300;
t0 = performance.now();
for (let i = N; i < N + M; i++) {
  const inner = encodeInner({ t: "text", id: newInnerId(), body: body(i) });
  db.tx(() => putHistory(db, ME, { hash: hashOf(i), ts: t1 + i, direction: "in", inner }));
}
console.log(`one history row per transaction: ${(ms(t0) / M).toFixed(3)} ms (${M} rows)`);
closeState(home);
rmSync(root, { recursive: true, force: true });
