// A child process for tests/state-db-processes.test.ts: N read-modify-write increments of one
// sealed counter row of state.db, each its own db.tx (BEGIN IMMEDIATE), as a ratchet change is.
// Usage: bun tests/helpers/state-hammer.ts <home> <vault key hex> <n>
import { StateDb } from "../../client/state/state-db.ts";

const [home, keyHex, n] = process.argv.slice(2);
const db = StateDb.open(home!, new Uint8Array(Buffer.from(keyHex!, "hex")));
const COUNTER = "C".repeat(28);
for (let i = 0; i < Number(n); i++) {
  db.tx(() => {
    const v = (db.getDoc("read_state", COUNTER) as number | undefined) ?? 0;
    db.putDoc("read_state", COUNTER, v + 1);
  });
}
db.close();
process.stdout.write("done\n");
