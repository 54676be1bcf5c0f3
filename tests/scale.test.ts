// Issue 13 end to end: three compiled relays on one PostgreSQL, one Redis and one S3-compatible
// store, with a real haproxy in front, each backend a real server started here. Clients cannot
// tell: our clients (v3) and the Python 2.2.x-compatible client (v2) chat through different
// instances, a file uploaded through one downloads through another, a burn on one empties the
// room everywhere and reaches live sockets on the others, a signed request replayed to a second
// instance is refused, kill -9 of an instance loses no acknowledged message and delivers each
// exactly once, and the database restarting gives 503s, never a lost acknowledged message.
import { S3Client } from "bun";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { b64encode } from "../lib/encoding.ts";
import { nextJson, nextMessage, ok, PASSWORD, phantom, startListen, type User, userEnv } from "./helpers/cli.ts";
import { NO_HAPROXY, type Haproxy, startHaproxy } from "./helpers/haproxy.ts";
import { openNonReader } from "./helpers/live-sockets.ts";
import { NO_POSTGRES, type Postgres, freePort, startPostgres } from "./helpers/pg-server.ts";
import { NO_PYTHON, PYTHON, py } from "./helpers/python.ts";
import { readFrames } from "./helpers/raw-ws.ts";
import { relayRowCount } from "./helpers/relay-rows.ts";
import { NO_REDIS, type RedisServer, startRedis } from "./helpers/redis-server.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { NO_S3RVER, type S3Server, startS3Server } from "./helpers/s3-server.ts";
import { pair, signHeaders, signed } from "./helpers/signer.ts";

setDefaultTimeout(90_000);

const MISSING = NO_POSTGRES ?? NO_REDIS ?? NO_HAPROXY ?? NO_S3RVER;

let pg: Postgres;
let redis: RedisServer;
let s3: S3Server;
let ha: Haproxy;
let relays: RunningRelay[] = [];
let haPort = 0;
const root = tempDir("phantom-scale-");
const fileIdKey = b64encode(randomBytes(32)); // one key for all instances (docs/deploy.md)

function relayArgs(): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      ...["--store", pg.url, "--live", redis.url, "--blobs", `s3://${s3.bucket}/relay`],
      ...["--trusted-proxy", "127.0.0.1", "--public-url", `http://127.0.0.1:${haPort}`],
      ...["--log-level", "info"],
    ],
    env: { ...s3.env, PHANTOM_FILE_ID_KEY_B64: fileIdKey },
  };
}

const startInstance = () => startRelay(relayArgs());

/** Objects in the bucket under the relays' prefix. */
async function objectCount(): Promise<number> {
  const a = s3.access;
  const client = new S3Client({ ...a, bucket: s3.bucket, virtualHostedStyle: false });
  return ((await client.list({ prefix: "relay/" })).contents ?? []).length;
}

beforeAll(async () => {
  if (MISSING) return;
  [pg, redis, s3, haPort] = await Promise.all([startPostgres(), startRedis(), startS3Server(), freePort()]);
  relays = await Promise.all([startInstance(), startInstance(), startInstance()]);
  ha = await startHaproxy(
    relays.map((r) => r.port),
    haPort,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop().catch(() => 0)));
  for (const r of relays) r.cleanup();
  await ha?.stop();
  await Promise.all([pg?.stop(), redis?.stop(), s3?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

/** A user of our client whose commands go to `url` (an instance, or haproxy). */
function user(name: string, url: string): User {
  return { home: join(root, name), env: userEnv(join(root, name), url) } as User;
}

async function introduce(a: User, b: User, nickA: string, nickB: string): Promise<void> {
  const [ja, jb] = await Promise.all([ok(a, ["init", "--json"]), ok(b, ["init", "--json"])]);
  a.uid = ja.json()[0]!.uid as string;
  b.uid = jb.json()[0]!.uid as string;
  await ok(a, ["add", b.uid, "--nick", nickB]);
  await ok(b, ["accept", a.uid]);
  await ok(b, ["nick", a.uid, nickA]);
}

const bodies = (rows: Record<string, unknown>[]) => rows.map((m) => m.body);

describe.skipIf(MISSING !== null)(
  `three relays on PostgreSQL + Redis + S3 behind haproxy${MISSING ? ` (skipped: ${MISSING})` : ""}`,
  () => {
    test("a /send accepted by one instance reaches live sockets on the other two; a replay to another is 401", async () => {
      const [r1, r2, r3] = relays as [RunningRelay, RunningRelay, RunningRelay];
      const { a, b, roomId } = await pair(r1.url);
      const on2 = await openNonReader(r2.url, b, roomId);
      const on3 = await openNonReader(r3.url, a, roomId);
      expect([on2.status, on3.status]).toEqual([101, 101]);
      const frames2 = readFrames(on2.socket, 3000);
      const frames3 = readFrames(on3.socket, 3000);
      await Bun.sleep(200); // both subscribed
      const sent = await signed(r1.url, a, "POST", "/send", { room_id: roomId, ciphertext: "QUFBQQ==" });
      expect(sent.status).toBe(200);
      const { ts } = (await sent.json()) as { ts: number };
      for (const f of [await frames2, await frames3]) {
        expect(f.texts.map((t) => JSON.parse(t))).toEqual([{ ts, ciphertext: "QUFBQQ==", seq: expect.any(Number) }]);
      }
      // PROTOCOL §6: the same signed request (same nonce) sent to a second instance.
      const body = new TextEncoder().encode(JSON.stringify({ room_id: roomId }));
      const headers = { ...signHeaders(a, "POST", "/fetch", body), "content-type": "application/json" };
      const first = await fetch(`${r2.url}/fetch`, { method: "POST", headers, body });
      expect(first.status).toBe(200);
      const replayed = await fetch(`${r3.url}/fetch`, { method: "POST", headers, body });
      expect(replayed.status).toBe(401);
      expect(await replayed.json()).toEqual({ error: "unauthorized", message: "replayed nonce" });

      // PROTOCOL §7.7: a burn through instance 2 empties the room for instance 3, and its
      // {"event":"burned"} reaches a live socket on instance 1.
      const on1 = await openNonReader(r1.url, b, roomId);
      const frames1 = readFrames(on1.socket, 3000);
      await Bun.sleep(200);
      expect((await signed(r2.url, b, "POST", "/burn", { room_id: roomId })).status).toBe(200);
      expect((await frames1).texts).toEqual(['{"event":"burned"}']);
      const left = await signed(r3.url, a, "POST", "/fetch", { room_id: roomId, after_seq: 0 });
      expect(((await left.json()) as { messages: unknown[] }).messages).toEqual([]);
    });

    test("frames of one room sent through two instances at once reach a third in seq order", async () => {
      const [r1, r2, r3] = relays as [RunningRelay, RunningRelay, RunningRelay];
      const { a, b, roomId } = await pair(r1.url);
      const watcher = await openNonReader(r3.url, a, roomId);
      const frames = readFrames(watcher.socket, 4000);
      await Bun.sleep(200);
      const sends = Array.from({ length: 40 }, (_, i) =>
        signed(i % 2 ? r1.url : r2.url, i % 2 ? a : b, "POST", "/send", {
          room_id: roomId,
          ciphertext: b64encode(new TextEncoder().encode(`m${i}`)),
        }).then((r) => r.status),
      );
      expect(new Set(await Promise.all(sends))).toEqual(new Set([200]));
      const seqs = (await frames).texts.map((t) => (JSON.parse(t) as { seq: number }).seq);
      expect(seqs.length).toBe(40);
      // A client that saw seq N live skips any lower seq after it (client/state/cursors.ts).
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    });

    test("v3: alice on instance 1 and bob on instance 2 chat live, share a file, and a burn empties the room everywhere", async () => {
      const [r1, r2, r3] = relays as [RunningRelay, RunningRelay, RunningRelay];
      const alice = user("alice", r1.url);
      const bob = user("bob", r2.url);
      await introduce(alice, bob, "alice", "bob");
      const { proc, out } = await startListen(bob.env, 20_000, ["--from", "now"]);
      try {
        await ok(alice, ["send", "bob", "hello across instances"]);
        const got = await nextMessage(out, "alice's message", [], 20_000);
        expect(got).toMatchObject({ from: alice.uid, body: "hello across instances", protocol: 3, nick: "alice" });
      } finally {
        proc.kill("SIGINT");
      }
      await proc.exited;
      await ok(bob, ["send", "alice", "and back"]);
      expect(bodies((await ok(alice, ["read", "bob", "--json"])).json())).toEqual([
        "hello across instances",
        "and back",
      ]);

      const src = join(root, "report.bin");
      const content = randomBytes(300_000);
      writeFileSync(src, content);
      await ok(alice, ["send", "bob", "--file", src]);
      const dest = join(root, "got.bin");
      await ok(bob, ["get", "alice", "1", dest]);
      expect(Buffer.compare(readFileSync(dest), content)).toBe(0);
      expect(await objectCount()).toBeGreaterThan(0);

      // The burn through instance 1: bob's listen on instance 2 is told, instance 3 has no row left.
      const watch = await startListen(bob.env, 20_000, ["--from", "now"]);
      try {
        await ok(alice, ["burn", "bob", "--yes"]);
        expect(await nextJson(watch.out, "the burn event", 20_000)).toEqual({
          event: "burned",
          uid: alice.uid,
          nick: "alice",
        });
      } finally {
        watch.proc.kill("SIGINT");
      }
      await watch.proc.exited;
      expect(await relayRowCount(bob.home, r3.url, alice.uid)).toBe(0);
      expect(await objectCount()).toBe(0); // the blob went with the burn
    });

    test.skipIf(PYTHON === null)(
      `v2: the Python 2.2.x-compatible client on instance 3 and ours on instance 1${PYTHON ? "" : ` (${NO_PYTHON})`}`,
      async () => {
        const [r1, , r3] = relays as [RunningRelay, RunningRelay, RunningRelay];
        const us = user("us-v2", r1.url);
        const pat = join(root, "pat");
        const made = await py(pat, r3.url, ["init"], PASSWORD);
        await py(pat, r3.url, ["register"], PASSWORD);
        us.uid = (await ok(us, ["init", "--json"])).json()[0]!.uid as string;
        await py(pat, r3.url, ["add", us.uid], PASSWORD);
        await ok(us, ["accept", made.uid as string]);
        await ok(us, ["nick", made.uid as string, "pat"]);
        await py(pat, r3.url, ["send", us.uid, "from python via 3"], PASSWORD);
        await ok(us, ["send", "pat", "from us via 1"]);
        const ours = (await ok(us, ["read", "pat", "--json"])).json();
        expect(ours.map((m) => [m.body, m.protocol])).toEqual([
          ["from python via 3", 2],
          ["from us via 1", 2],
        ]);
        const theirs = await py(pat, r3.url, ["read", us.uid], PASSWORD);
        expect((theirs.messages as { body: string }[]).map((m) => m.body)).toEqual([
          "from python via 3",
          "from us via 1",
        ]);
      },
    );

    test("kill -9 of the instance holding bob's live socket: every acknowledged message arrives exactly once", async () => {
      const alice = user("alice-ha", ha.url);
      const bob = user("bob-ha", ha.url);
      await introduce(alice, bob, "alice", "bob");
      const logged = relays.map((r) => r.logs.length); // the upgrades before bob's are other tests'
      const { proc, out } = await startListen(bob.env, 20_000, ["--from", "now"]);
      const received: string[] = [];
      const reading = (async () => {
        for (;;) {
          const m = await nextMessage(out, "messages", [], 60_000).catch(() => null);
          if (!m) return;
          received.push(m.body as string);
        }
      })();
      const acknowledged: string[] = [];
      let victim = -1;
      try {
        for (let i = 0; i < 8; i++) {
          if (i === 3) {
            // The instance whose log shows bob's live upgrade (a 101 on /ws).
            victim = relays.findIndex((r, i) =>
              r.logs.slice(logged[i]).some((l) => l.includes("/ws/") && l.includes(" 101 ")),
            );
            expect(victim).toBeGreaterThanOrEqual(0);
            await relays[victim]!.kill9();
          }
          const body = `m${i}`;
          const r = await phantom(alice.env, ["send", "bob", body]);
          if (r.code === 0) acknowledged.push(body);
        }
        expect(acknowledged.length).toBeGreaterThanOrEqual(6); // haproxy moves the next requests elsewhere
        for (const end = Date.now() + 30_000; Date.now() < end; await Bun.sleep(200)) {
          if (acknowledged.every((b) => received.includes(b))) break;
        }
      } finally {
        proc.kill("SIGINT");
        await proc.exited;
        await reading;
        if (victim >= 0) relays[victim] = await startInstance();
      }
      for (const b of acknowledged) expect(received.filter((x) => x === b)).toEqual([b]);
    });

    test("PostgreSQL restarting mid-run: 503 while it is down, never a lost acknowledged message", async () => {
      const r1 = relays[0]!;
      const { a, roomId } = await pair(r1.url);
      const statuses: number[] = [];
      const acked: string[] = [];
      const send = async (i: number) => {
        const ciphertext = b64encode(new TextEncoder().encode(`row${i}`));
        const r = await signed(r1.url, a, "POST", "/send", { room_id: roomId, ciphertext });
        statuses.push(r.status);
        if (r.status === 200) acked.push(ciphertext);
        else if (r.status === 503) expect(((await r.json()) as { error: string }).error).toBe("busy");
        else throw new Error(`unexpected ${r.status}: ${await r.text()}`);
      };
      for (let i = 0; i < 5; i++) await send(i);
      await pg.halt();
      for (let i = 5; i < 8; i++) await send(i);
      await pg.start();
      for (let i = 8; i < 40 && acked.length < 10; i++) {
        await send(i);
        if (statuses.at(-1) !== 200) await Bun.sleep(200);
      }
      expect(statuses.slice(5, 8)).toEqual([503, 503, 503]);
      expect(acked.length).toBe(10);
      const fetched = await signed(relays[1]!.url, a, "POST", "/fetch", { room_id: roomId, after_seq: 0, limit: 100 });
      const rows = ((await fetched.json()) as { messages: { ciphertext: string }[] }).messages;
      expect(rows.map((r) => r.ciphertext)).toEqual(acked);
    });
  },
);
