// PROTOCOL §7.6.1 cursor paging against the real compiled relay: seq on every row, after_seq
// pages forward without skipping rows that share a second, and every answer carries at most
// 4 MiB of message JSON. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { FETCH_LIMIT_MAX, FETCH_MAX_ANSWER_BYTES, MAX_CIPHERTEXT_BYTES } from "../lib/wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed, type TestUser } from "./helpers/signer.ts";

let relay: RunningRelay;
let base: string;

beforeAll(async () => {
  relay = await startRelay();
  base = relay.url;
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

type Row = { ts: number; ciphertext: string; seq: number };
type Answer = { messages: Row[]; more?: boolean };

async function fetchBody(u: TestUser, body: object): Promise<{ status: number; json: Answer & { error?: string } }> {
  const r = await signed(base, u, "POST", "/fetch", body);
  return { status: r.status, json: (await r.json()) as Answer & { error?: string } };
}

async function sendAll(u: TestUser, roomId: string, cts: string[]): Promise<void> {
  // Concurrent sends land in few write batches, so many rows share one second (16 at a
  // time: under the relay's per-UID in-flight limit).
  for (let i = 0; i < cts.length; i += 16) {
    const rs = await Promise.all(
      cts.slice(i, i + 16).map((ciphertext) => signed(base, u, "POST", "/send", { room_id: roomId, ciphertext })),
    );
    for (const r of rs) expect(r.status).toBe(200);
  }
}

/** Page forward from after_seq 0 until `more` is false. */
async function pageAll(u: TestUser, roomId: string, limit = FETCH_LIMIT_MAX): Promise<{ rows: Row[]; pages: number }> {
  const rows: Row[] = [];
  let after = 0;
  for (let pages = 1; ; pages++) {
    const { status, json } = await fetchBody(u, { room_id: roomId, after_seq: after, limit });
    expect(status).toBe(200);
    expect(typeof json.more).toBe("boolean");
    rows.push(...json.messages);
    if (!json.more) return { rows, pages };
    after = json.messages.at(-1)!.seq;
  }
}

const small = () => b64encode(c.randomBytes(24));
const big = () => b64encode(c.randomBytes(MAX_CIPHERTEXT_BYTES));
const jsonBytes = (rows: Row[]) => JSON.stringify(rows).length;

describe("§7.6.1 after_seq", () => {
  test("330 rows sent at once are all paged forward, each once, in seq order", async () => {
    const { a, b, roomId } = await pair(base);
    const sent = Array.from({ length: 330 }, small);
    await sendAll(a, roomId, sent);
    const { rows, pages } = await pageAll(b, roomId);
    expect(pages).toBe(2);
    expect(rows.map((r) => r.ciphertext).sort()).toEqual([...sent].sort());
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.seq).toBeGreaterThan(rows[i - 1]!.seq);
  });

  test("the oldest `limit` rows after the cursor; more is true past the limit and false at it", async () => {
    const { a, roomId } = await pair(base);
    await sendAll(a, roomId, Array.from({ length: 5 }, small));
    const all = (await fetchBody(a, { room_id: roomId, after_seq: 0 })).json;
    expect(all.more).toBe(false);
    const seqs = all.messages.map((m) => m.seq);
    expect(seqs).toHaveLength(5);
    expect((await fetchBody(a, { room_id: roomId, after_seq: 0, limit: 5 })).json.more).toBe(false);
    const first = (await fetchBody(a, { room_id: roomId, after_seq: 0, limit: 4 })).json;
    expect(first.messages.map((m) => m.seq)).toEqual(seqs.slice(0, 4));
    expect(first.more).toBe(true);
    const rest = (await fetchBody(a, { room_id: roomId, after_seq: seqs[3]!, limit: 4 })).json;
    expect(rest).toEqual({ messages: [all.messages[4]!], more: false });
    expect((await fetchBody(a, { room_id: roomId, after_seq: seqs[4]! })).json).toEqual({ messages: [], more: false });
  });

  test("seq increases across rooms and is not reused after a burn", async () => {
    const p = await pair(base);
    const q = await pair(base);
    await sendAll(p.a, p.roomId, [small()]);
    await sendAll(q.a, q.roomId, [small()]);
    const s1 = (await fetchBody(p.a, { room_id: p.roomId })).json.messages[0]!.seq;
    const s2 = (await fetchBody(q.a, { room_id: q.roomId })).json.messages[0]!.seq;
    expect(s2).toBeGreaterThan(s1);
    expect((await signed(base, q.a, "POST", "/burn", { room_id: q.roomId })).status).toBe(200);
    await sendAll(q.a, q.roomId, [small()]);
    expect((await fetchBody(q.a, { room_id: q.roomId })).json.messages[0]!.seq).toBeGreaterThan(s2);
  });

  test("after_seq must be an integer ≥ 0, and is not combined with since_ts (400)", async () => {
    const { a, roomId } = await pair(base);
    for (const bad of [-1, 1.5, "1", true]) {
      const r = await fetchBody(a, { room_id: roomId, after_seq: bad });
      expect(r.status).toBe(400);
    }
    const both = await fetchBody(a, { room_id: roomId, after_seq: 0, since_ts: 0 });
    expect(both.status).toBe(400);
    expect(both.json.error).toBe("bad_request");
    expect((await fetchBody(a, { room_id: roomId, after_seq: null, since_ts: 0 })).status).toBe(200);
  });
});

describe("§7.6.1 4 MiB per answer", () => {
  test("maximum-size rows: at most 4 MiB of message JSON, one more row would not fit; nothing is lost", async () => {
    const { a, b, roomId } = await pair(base);
    const sent = Array.from({ length: 60 }, big); // ~5.2 MB of message JSON
    await sendAll(a, roomId, sent);

    // Without after_seq (v2 answer): the newest rows that fit, oldest first, and no `more`.
    const v2 = (await fetchBody(b, { room_id: roomId, limit: FETCH_LIMIT_MAX })).json;
    expect(Object.keys(v2)).toEqual(["messages"]);
    const n = v2.messages.length;
    expect(n).toBeLessThan(60);
    expect(jsonBytes(v2.messages)).toBeLessThanOrEqual(FETCH_MAX_ANSWER_BYTES);
    const seqAll = (await pageAll(b, roomId)).rows;
    expect(v2.messages).toEqual(seqAll.slice(-n)); // the newest n
    expect(jsonBytes(seqAll.slice(-n - 1))).toBeGreaterThan(FETCH_MAX_ANSWER_BYTES); // n + 1 would not fit

    // With after_seq: the oldest rows that fit, more: true, and paging gets every row.
    const first = (await fetchBody(b, { room_id: roomId, after_seq: 0, limit: FETCH_LIMIT_MAX })).json;
    expect(first.more).toBe(true);
    expect(jsonBytes(first.messages)).toBeLessThanOrEqual(FETCH_MAX_ANSWER_BYTES);
    expect(jsonBytes(seqAll.slice(0, first.messages.length + 1))).toBeGreaterThan(FETCH_MAX_ANSWER_BYTES);
    expect(seqAll.map((r) => r.ciphertext).sort()).toEqual([...sent].sort());
  });
});
