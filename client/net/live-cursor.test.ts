// Live delivery started from a delivery cursor (client/net/live.ts afterSeq, sinceTs): with a
// seq it pages forward from it (PROTOCOL §7.6.1) and delivers what follows; on a relay without
// seq it asks for ts ≥ the cursor's ts (§7.6).
import { expect, test } from "bun:test";
import { Transport } from "../../lib/transport.ts";
import type { StoredMessage, WsFrame } from "../../lib/wire.ts";
import { within } from "../../tests/helpers/deadline.ts";
import { type LiveRelay, runLive } from "./live.ts";

function stub(rows: StoredMessage[]) {
  const calls: string[] = [];
  const relay: LiveRelay = {
    transport: new Transport({ via: "direct" }),
    fetch: async (_room, o) => {
      calls.push(`fetch since ${o.sinceTs}`);
      return rows.filter((r) => o.sinceTs === undefined || r.ts >= o.sinceTs);
    },
    fetchAfter: async (_room, after) => {
      calls.push(`after ${after}`);
      return { messages: rows.filter((r) => (r.seq ?? 0) > after), more: false };
    },
    signedHeaders: async () => ({}),
    urlOf: (path) => `http://127.0.0.1:9${path}`,
  };
  return { relay, calls };
}

async function firstFrames(relay: LiveRelay, opts: { afterSeq?: number; sinceTs?: number }, n: number) {
  const frames: WsFrame[] = [];
  const stop = new AbortController();
  let got!: () => void;
  const enough = new Promise<void>((r) => (got = r));
  const done = runLive(
    relay,
    ["room"],
    (_r, f) => {
      frames.push(f);
      if (frames.length >= n) got();
    },
    { signal: stop.signal, mode: "poll", pollMs: 20, afterSeq: () => opts.afterSeq, sinceTs: opts.sinceTs },
  );
  await within(enough, 10_000, () => `only ${frames.length} frames`);
  stop.abort();
  await done;
  return frames;
}

test("a seq cursor: the rows after it, paged with after_seq from the cursor", async () => {
  const rows = [1, 2, 3, 4].map((seq) => ({ ts: 100, ciphertext: `AAA${seq}`, seq }));
  const { relay, calls } = stub(rows);
  const frames = await firstFrames(relay, { afterSeq: 2 }, 2);
  expect(frames).toEqual(rows.slice(2));
  expect(calls[0]).toBe("after 2");
});

test("a ts cursor on a relay without seq: rows with ts ≥ the cursor's ts", async () => {
  const rows = [99, 100, 101].map((ts, i) => ({ ts, ciphertext: `BBB${i}` }));
  const { relay, calls } = stub(rows);
  const frames = await firstFrames(relay, { sinceTs: 100 }, 2);
  expect(frames).toEqual(rows.slice(1));
  expect(calls[0]).toBe("fetch since 100");
});
