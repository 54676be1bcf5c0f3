// state.db benchmark (not a test): `bun bench/state-db.ts`. Prints what the sealed state costs
// (PROTOCOL-v3 §V8): opening it, a book of 200 contacts read and changed, and one-row ratchet
// transactions (a session state of 4 KiB re-sealed per change, as a send or receive does).
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadContacts, updateContacts } from "../client/state/contacts.ts";
import { unlockState } from "../client/state/migrate.ts";
import { getSession, putSession } from "../client/state/ratchet-store.ts";
import { closeState, StateDb } from "../client/state/state-db.ts";

const root = mkdtempSync(join(tmpdir(), "phantom-bench-state-"));
const home = join(root, "home");
const key = new Uint8Array(randomBytes(32));
const ms = (t0: number) => (performance.now() - t0).toFixed(2);

let t0 = performance.now();
StateDb.open(home, key).close();
console.log(`create state.db: ${ms(t0)} ms`);
t0 = performance.now();
const db = unlockState(home, key);
console.log(`open + unlock (no 2.x files): ${ms(t0)} ms`);

const pub = Buffer.alloc(32, 2).toString("base64");
updateContacts(home, (b) => {
  for (let i = 0; i < 200; i++) {
    b[`U${String(i).padStart(27, "0")}`] = { pub_key: pub, nickname: `n${i}`, verified_fp: null, last_seen_fp: null };
  }
});
const N = 200;
t0 = performance.now();
for (let i = 0; i < N; i++) loadContacts(home);
console.log(`loadContacts, 200 contacts: ${(Number(ms(t0)) / N).toFixed(3)} ms`);
t0 = performance.now();
for (let i = 0; i < N; i++) updateContacts(home, (b) => void (b[`U${"0".repeat(27)}`]!.nickname = `x${i}`));
console.log(`updateContacts (one nickname) of 200: ${(Number(ms(t0)) / N).toFixed(3)} ms`);

const sid = new Uint8Array(8);
const state = new Uint8Array(randomBytes(4096));
const M = 2000;
t0 = performance.now();
for (let i = 0; i < M; i++) {
  db.tx(() => {
    getSession(db, "A".repeat(28), sid);
    putSession(db, "A".repeat(28), sid, state, i);
  });
}
const per = Number(ms(t0)) / M;
console.log(
  `ratchet tx (read + re-seal 4 KiB session, commit, synchronous=FULL): ${per.toFixed(3)} ms, ${Math.round(1000 / per)}/s`,
);
closeState(home);
rmSync(root, { recursive: true, force: true });
