// Client conversation benchmark (not a test), part 2 of `./build.sh bench client`: two real Sessions
// and a relay in this process. Alice sends N v3 messages (each one ratchet step, one state.db
// transaction and a WAL checkpoint, then /send); Bob's first read decrypts them all (one transaction
// each, writing history), his second read shows them from history (PROTOCOL-v3 §V5.5 step 0, §V8).
// N from PHANTOM_BENCH_MESSAGES (default 10,000).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "../client/core/session.ts";
import { torConfigFromEnv } from "../lib/tor.ts";
import { startRelay } from "../tests/helpers/inproc-relay.ts";

const N = Number(process.env.PHANTOM_BENCH_MESSAGES ?? 10_000);
const root = mkdtempSync(join(tmpdir(), "phantom-bench-session-"));
const relay = await startRelay();
const tor = torConfigFromEnv({ PHANTOM_TOR: "never" });
const make = (name: string) =>
  Session.create({
    home: join(root, name),
    password: "correct horse battery",
    relayUrl: relay.url,
    tor,
    direct: false,
  });
const alice = await make("alice");
const bob = await make("bob");
await alice.addContact(bob.uid);
await bob.processInbox();
bob.accept(alice.uid);
const ms = (t0: number) => performance.now() - t0;
const text = (i: number) => `message ${i} `.padEnd(100, "x");

let t0 = performance.now();
for (let i = 0; i < N; i++) await alice.send(bob.uid, text(i));
const sendMs = ms(t0);
console.log(`alice sent ${N} v3 messages: ${(sendMs / N).toFixed(2)} ms each (ratchet step + state.db commit + /send)`);

t0 = performance.now();
const first = await bob.history(alice.uid);
console.log(`bob's first read of ${first.length} messages (decrypt + history rows): ${ms(t0).toFixed(0)} ms`);
for (let round = 1; round <= 2; round++) {
  t0 = performance.now();
  const again = await bob.history(alice.uid);
  console.log(
    `bob's read ${round + 1} of ${again.length} messages (from history, relay rows fetched): ${ms(t0).toFixed(0)} ms`,
  );
}
await alice.burn(bob.uid);
t0 = performance.now();
const kept = await bob.history(alice.uid);
console.log(`bob's read after the relay was burned: ${kept.length} messages from history in ${ms(t0).toFixed(0)} ms`);
const db = join(root, "bob", "state.db");
const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};
console.log(`bob's state.db: ${size(db)} bytes, -wal ${size(`${db}-wal`)} bytes (${N} messages)`);
alice.close();
bob.close();
await relay.stop();
relay.cleanup();
rmSync(root, { recursive: true, force: true });
