// PROTOCOL-v3 §V8 with the compiled binaries and a real relay: kill -9 of a receiving client between
// fetch and commit shows every message once after a restart, and `listen` and `send` of one identity
// running at once never fork a ratchet. (Split from tests/v3-e2e.test.ts so the suite's workers
// share the load.)
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { listHistory } from "../client/state/ratchet-store.ts";
import { stateOf } from "../client/state/state-db.ts";
import { nextMessage, ok, PASSWORD, startListen, type User } from "./helpers/cli.ts";
import { CLIENT_BIN, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { withHomeState } from "./helpers/state.ts";
import { introducedPair, memOf, SCRYPT_DROP } from "./helpers/v3-pair.ts";

setDefaultTimeout(90_000); // scrypt is ~0.5 s per command

let relay: RunningRelay;
const root = tempDir("phantom-v3proc-");

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let worlds = 0;
const introduced = () => introducedPair(join(root, `w${++worlds}`), relay.url);

// ---- 5. kill -9 of a receiving client between fetch and commit ----------------------------------------

/**
 * `phantom <args>` as `u`, SIGKILLed `delayMs` after its unlock: the moment scrypt's memory is given
 * back (seen in /proc), so the kill lands in the fetch/decrypt/commit work and not in scrypt (~0.5 s,
 * longer than a delay counted from the start). `ran`: it was still running when killed.
 */
async function killedAfterUnlock(u: User, args: string[], delayMs: number): Promise<{ stdout: string; ran: boolean }> {
  const proc = Bun.spawn([CLIENT_BIN, ...args], { env: u.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(proc.stdout).text();
  void new Response(proc.stderr).text();
  let exited = false;
  void proc.exited.then(() => (exited = true));
  for (let i = 0; i < 2000 && !exited; i++) {
    const m = memOf(proc.pid);
    if (m !== null && m.rss < m.hwm - SCRYPT_DROP) break;
    await Bun.sleep(2);
  }
  await Bun.sleep(delayMs);
  const ran = !exited;
  proc.kill("SIGKILL");
  await proc.exited;
  return { stdout: await stdout, ran };
}

/** A random delay in [lo, hi] ms. */
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** `bodies` sent by `u` to `peer` in two processes at a time; the order the relay stored them in (u's read). */
async function sendAll(u: User, peer: string, bodies: string[]): Promise<string[]> {
  const lanes = [bodies.filter((_, i) => i % 2 === 0), bodies.filter((_, i) => i % 2 === 1)];
  await Promise.all(
    lanes.map(async (lane) => {
      for (const body of lane) await ok(u, ["send", peer, body]);
    }),
  );
  const mine = new Set(bodies);
  return (await ok(u, ["read", peer, "--json"]))
    .json()
    .map((m) => m.body as string)
    .filter((b) => mine.has(b));
}

/** How many history rows `u` holds for `peer` (its state.db, unlocked with the password). */
async function historyRows(u: User, peer: User): Promise<number> {
  return await withHomeState(u.home, PASSWORD, () => listHistory(stateOf(u.home), peer.uid).length);
}

test("kill -9 of read and of listen between fetch and commit: after restart every message shows once", async () => {
  const { alice, bob } = await introduced();
  const N = 12; // the suite's time budget is 10 minutes on 2 cores
  await ok(alice, ["send", "bob", "first"]); // the prekey message (§V4), so both lanes below share a session
  const first = await sendAll(
    alice,
    "bob",
    Array.from({ length: N }, (_, i) => `read ${i + 1}`),
  );
  expect(first).toHaveLength(N);

  // The kill comes 30–400 ms after the unlock: it starts at 30 ms plus a random 0–20 ms and moves
  // 40 ms later after each kill that found nothing committed, so the kills walk into the span where
  // rows are fetched, decrypted and committed one by one (that span is some tens of ms here).
  const rows: number[] = [];
  const delays: number[] = [];
  let running = 0;
  let delay = 30;
  for (let i = 0; i < 4; i++) {
    const d = Math.min(400, delay + between(0, 20));
    delays.push(d);
    if ((await killedAfterUnlock(bob, ["read", "alice"], d)).ran) running++;
    rows.push(await historyRows(bob, alice));
    if (rows.at(-1) === (rows.at(-2) ?? 0)) delay += 40;
  }
  console.log(
    `read killed ${rows.length} times (${running} while running) at ${delays.join(", ")} ms after the unlock; ` +
      `bob's history rows after each kill: ${rows.join(", ")}`,
  );
  const read = await ok(bob, ["read", "alice", "--json"]);
  expect(read.stderr).toBe("");
  expect(read.json().map((m) => [m.body, m.protocol])).toEqual(["first", ...first].map((b) => [b, 3]));

  // listen (cursor mode): a first run delivers all of the above, so its cursor is at the end.
  const caughtUp = await startListen(bob.env);
  for (let i = 0; i < N + 1; i++) await nextMessage(caughtUp.out, `backlog line ${i + 1}`);
  caughtUp.proc.kill("SIGINT");
  expect(await caughtUp.proc.exited).toBe(0);
  // Then killed during the delivery of N/2 new messages, restarted; then a run that is left to finish.
  const second = await sendAll(
    alice,
    "bob",
    Array.from({ length: N / 2 }, (_, i) => `listen ${i + 1}`),
  );
  const delivered = new Map<string, number>();
  const count = (stdout: string) => {
    for (const l of stdout.split("\n").filter(Boolean)) {
      const m = JSON.parse(l) as Record<string, unknown>;
      if (typeof m.body === "string") delivered.set(m.body, (delivered.get(m.body) ?? 0) + 1);
    }
  };
  const perRun: number[] = [];
  const listenRows: number[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await killedAfterUnlock(bob, ["listen", "--json"], between(30, 120));
    const before = [...delivered.values()].reduce((a, b) => a + b, 0);
    count(r.stdout);
    perRun.push([...delivered.values()].reduce((a, b) => a + b, 0) - before);
    listenRows.push((await historyRows(bob, alice)) - N - 1);
  }
  const last = await startListen(bob.env);
  const lastRun: string[] = [];
  const pump = (async () => {
    for await (const l of last.out) lastRun.push(l);
  })();
  for (let t = 0; t < 300 && second.some((b) => !delivered.has(b) && !lastRun.some((l) => l.includes(`"${b}"`))); t++)
    await Bun.sleep(50);
  await Bun.sleep(1500); // anything printed twice would come now
  last.proc.kill("SIGINT");
  expect(await last.proc.exited).toBe(0);
  await pump;
  const lastBodies = lastRun.map((l) => (JSON.parse(l) as { body?: string }).body).filter((b) => b !== undefined);
  console.log(
    `listen killed ${perRun.length} times: lines per killed run ${perRun.join(", ")}, new history rows after each ` +
      `${listenRows.join(", ")}; the last run printed ${lastBodies.length}`,
  );
  count(lastRun.join("\n"));
  expect(second.filter((b) => !delivered.has(b))).toEqual([]); // each delivered at least once
  expect(new Set(lastBodies).size).toBe(lastBodies.length); // the last run: each once
  const all = await ok(bob, ["read", "alice", "--json"]);
  expect(all.stderr).toBe("");
  expect(all.json().map((m) => [m.body, m.protocol])).toEqual(["first", ...first, ...second].map((b) => [b, 3]));
});

// ---- 6. two processes on one identity ----------------------------------------------------------------

test("listen and send of one identity at the same time never fork a ratchet: 14 messages, all decrypted", async () => {
  const { alice, bob } = await introduced();
  await ok(alice, ["send", "bob", "start"]);
  await ok(bob, ["send", "alice", "started"]);
  await ok(alice, ["read", "bob"]); // the handshake is answered (§V4), so no "not answered" warning
  const listen = await startListen(bob.env, 20_000, ["--from", "now"]);
  const heard: string[] = [];
  const pump = (async () => {
    for await (const l of listen.out) heard.push(l);
  })();
  const N = 7;
  const fromBob = Array.from({ length: N }, (_, i) => `bob ${i + 1}`);
  const fromAlice = Array.from({ length: N }, (_, i) => `alice ${i + 1}`);
  const warnings: string[] = [];
  const loop = async (u: User, peer: string, bodies: string[]) => {
    for (const body of bodies) warnings.push((await ok(u, ["send", peer, body])).stderr);
  };
  await Promise.all([loop(bob, "alice", fromBob), loop(alice, "bob", fromAlice)]);
  for (let t = 0; t < 200 && fromAlice.some((b) => !heard.some((l) => l.includes(`"${b}"`))); t++) await Bun.sleep(50);
  listen.proc.kill("SIGINT");
  expect(await listen.proc.exited).toBe(0);
  await pump;
  expect(warnings.filter((w) => w !== "")).toEqual([]);
  const live = heard.map((l) => JSON.parse(l) as Record<string, unknown>).filter((m) => m.from === alice.uid);
  expect(live.map((m) => [m.body, m.protocol])).toEqual(fromAlice.map((b) => [b, 3]));
  for (const [u, peer] of [
    [alice, "bob"],
    [bob, "alice"],
  ] as const) {
    const r = await ok(u, ["read", peer, "--json"]);
    expect(r.stderr).toBe(""); // no "could not be decrypted" warning
    const msgs = r.json();
    expect(msgs.every((m) => m.protocol === 3)).toBe(true);
    const bodies = msgs.map((m) => m.body as string);
    expect(bodies.slice(0, 2)).toEqual(["start", "started"]);
    expect(bodies.slice(2).sort()).toEqual([...fromAlice, ...fromBob].sort());
    // Each side's own messages keep their order.
    expect(bodies.filter((b) => b.startsWith("bob "))).toEqual(fromBob);
    expect(bodies.filter((b) => b.startsWith("alice "))).toEqual(fromAlice);
  }
});
