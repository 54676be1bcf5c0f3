import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../core/conversation.ts";
import { ChatFeed, openConversation, type ConversationSource, type ShownMessage } from "./chat-feed.ts";
import { echoKey } from "./echoes.ts";

const ME = "me".padEnd(28, "m");
const PEER = "peer".padEnd(28, "p");
const OTHER = "other".padEnd(28, "o");
let rowNo = 0;

/** A stored row as the Session hands it out: every row has its own id, even with the same ts and text. */
function row(ts: number, body: string, from = PEER): ChatMessage {
  return { id: `${ts}:nonce${++rowNo}`, ts, from, mine: from === ME, body };
}

function collect(peer = PEER): { feed: ChatFeed; shown: ShownMessage[]; others: string[] } {
  const shown: ShownMessage[] = [];
  const others: string[] = [];
  const feed = new ChatFeed(peer, { message: (m) => shown.push(m), other: (p) => others.push(p) });
  return { feed, shown, others };
}

const bodies = (list: ShownMessage[]) => list.map((m) => `${m.mine ? "me" : "peer"}:${m.body}`);

describe("chat feed", () => {
  test("a peer who writes the same text twice in one second is shown twice; a row seen again is not", () => {
    const { feed, shown } = collect();
    feed.release();
    const first = row(1000, "ok");
    const second = row(1000, "ok");
    feed.live(PEER, first);
    feed.live(PEER, second);
    feed.live(PEER, first); // the same row again (a catch-up after a reconnect)
    expect(bodies(shown)).toEqual(["peer:ok", "peer:ok"]);
  });

  test("history rows with the same second and text are all shown", () => {
    const { feed, shown } = collect();
    for (const m of [row(5, "ok"), row(5, "ok"), row(5, "ok", ME), row(5, "ok", ME)]) feed.row(m);
    expect(bodies(shown)).toEqual(["peer:ok", "peer:ok", "me:ok", "me:ok"]);
  });

  test("an own message is shown once when the relay's echo arrives before send() returns", async () => {
    const { feed, shown } = collect();
    feed.release();
    const echo = row(2000, "hi", ME);
    await feed.sendOwn(echoKey({ body: "hi" }), async () => {
      feed.live(PEER, echo); // the echo comes first
      return { ts: 2000, from: ME, mine: true, body: "hi" };
    });
    expect(bodies(shown)).toEqual(["me:hi"]);
    feed.row(echo); // and again from a later history fetch
    expect(bodies(shown)).toEqual(["me:hi"]);
  });

  test("an own message is shown once when send() returns first; the same text sent again is shown again", async () => {
    const { feed, shown } = collect();
    feed.release();
    const key = echoKey({ body: "ok" });
    const sent = (ts: number) => async () => ({ ts, from: ME, mine: true, body: "ok" });
    await feed.sendOwn(key, sent(3000));
    await feed.sendOwn(key, sent(3000));
    expect(bodies(shown)).toEqual(["me:ok", "me:ok"]);
    feed.live(PEER, row(3000, "ok", ME)); // both echoes, late
    feed.live(PEER, row(3000, "ok", ME));
    expect(bodies(shown)).toEqual(["me:ok", "me:ok"]);
    // The same text from another of our devices later is shown: nothing stale is left behind.
    feed.live(PEER, row(3005, "ok", ME));
    expect(bodies(shown)).toEqual(["me:ok", "me:ok", "me:ok"]);
  });

  test("live messages wait for the history; other contacts give a notice, their text is not shown", () => {
    const { feed, shown, others } = collect();
    feed.live(PEER, row(10, "live"));
    feed.live(OTHER, row(10, "secret", OTHER));
    feed.row(row(9, "old"));
    expect(bodies(shown)).toEqual(["peer:old"]);
    feed.release();
    expect(bodies(shown)).toEqual(["peer:old", "peer:live"]);
    expect(others).toEqual([OTHER]);
  });
});

/**
 * A room on a relay, seen through a Session: history() returns the rows stored when it
 * is called; listen() delivers only rows stored after its baseline, like the real one.
 * `script` decides what is stored when, relative to the two.
 */
function fakeRoom(script: { beforeBaseline?: string[]; afterBaseline?: string[]; afterReady?: string[] }) {
  const rows: ChatMessage[] = [row(1, "old")];
  let historyCalled!: () => void;
  const firstHistory = new Promise<void>((r) => (historyCalled = r));
  const src: ConversationSource = {
    async history(_uid, o = {}) {
      historyCalled();
      let list = rows.filter((m) => o.sinceTs === undefined || m.ts >= o.sinceTs);
      if (o.limit !== undefined) list = list.slice(-o.limit);
      return list;
    },
    async listen(onMessage, o) {
      await firstHistory; // the history fetch went first: the gap case
      for (const b of script.beforeBaseline ?? []) rows.push(row(2, b));
      const baseline = rows.length;
      for (const b of script.afterBaseline ?? []) rows.push(row(2, b));
      for (const m of rows.slice(baseline)) onMessage(PEER, m);
      o.onReady?.(1);
      for (const b of script.afterReady ?? []) {
        const m = row(3, b);
        rows.push(m);
        onMessage(PEER, m);
      }
      await new Promise((r) => o.signal.addEventListener("abort", r, { once: true }));
    },
  };
  return { src };
}

describe("history and live merge at chat start", () => {
  test("a message stored between the history fetch and the live baseline is shown once, not lost", async () => {
    const { src } = fakeRoom({ beforeBaseline: ["in the gap"], afterBaseline: ["just after"], afterReady: ["live"] });
    const { feed, shown } = collect();
    const ac = new AbortController();
    const c = openConversation(src, PEER, feed, { signal: ac.signal, limit: 200 });
    for (const m of await c.history) feed.row(m);
    feed.release();
    await c.caughtUp;
    ac.abort();
    await c.listening;
    expect(bodies(shown).sort()).toEqual(["peer:in the gap", "peer:just after", "peer:live", "peer:old"]);
  });

  test("a message both in the history and delivered live is shown once", async () => {
    const ac = new AbortController();
    const rows = [row(1, "old")];
    const late = row(2, "both");
    let ready!: () => void;
    const src: ConversationSource = {
      async history() {
        return [...rows];
      },
      async listen(onMessage, o) {
        rows.push(late); // stored after the baseline, before the history fetch
        onMessage(PEER, late);
        ready = () => o.onReady?.(1);
        await new Promise((r) => o.signal.addEventListener("abort", r, { once: true }));
      },
    };
    const { feed, shown } = collect();
    const c = openConversation(src, PEER, feed, { signal: ac.signal, limit: 200 });
    for (const m of await c.history) feed.row(m);
    feed.release();
    ready();
    await c.caughtUp;
    ac.abort();
    await c.listening;
    expect(bodies(shown)).toEqual(["peer:old", "peer:both"]);
  });

  test("a history that failed is fetched again when live delivery connects, until it loads", async () => {
    const ac = new AbortController();
    const stored = [row(1, "before the outage"), row(2, "also before")];
    let relayUp = false;
    let fetches = 0;
    let status!: (st: { state: "connected" | "retrying" }) => void;
    const src: ConversationSource = {
      async history() {
        fetches++;
        if (!relayUp) throw new Error("relay unreachable");
        return [...stored];
      },
      async listen(_onMessage, o) {
        status = (st) => o.onStatus?.(st);
        await new Promise((r) => o.signal.addEventListener("abort", r, { once: true }));
      },
    };
    const { feed, shown } = collect();
    const loaded: number[] = [];
    const c = openConversation(src, PEER, feed, {
      signal: ac.signal,
      limit: 200,
      onHistoryLoaded: (n) => loaded.push(n),
    });
    expect(await c.history.catch(() => null)).toBeNull();
    feed.release();
    status({ state: "retrying" });
    status({ state: "connected" }); // still down: the retry fails, and waits for the next connection
    await Bun.sleep(0);
    expect(fetches).toBe(2);
    expect(shown).toEqual([]);
    relayUp = true;
    status({ state: "connected" });
    await Bun.sleep(0);
    expect(bodies(shown)).toEqual(["peer:before the outage", "peer:also before"]);
    expect(loaded).toEqual([2]);
    status({ state: "connected" }); // loaded once: later connections fetch nothing more
    await Bun.sleep(0);
    expect(fetches).toBe(3);
    ac.abort();
    await c.listening;
  });
});
