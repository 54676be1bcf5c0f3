// Which rows the chat screen shows, and when: the stored history first, then live
// messages (held until the history is on screen). Each stored row is shown once, told
// apart by its id (messageId: the hash of its ciphertext, whose §5.1 nonce is random),
// never by its text and second: two identical "ok" in the same second are two lines.
// Own messages are shown once whether the send call or the relay's echo finishes
// first (echoes.ts).
import type { ChatMessage } from "../core/conversation.ts";
import { EchoTracker, echoKey } from "./echoes.ts";

/** What the chat needs from a Session (a Session is one). */
export interface ConversationSource {
  history(uid: string, o?: { limit?: number; sinceTs?: number }): Promise<ChatMessage[]>;
  listen(
    onMessage: (peerUid: string, m: ChatMessage) => void,
    o: {
      signal: AbortSignal;
      onReady?: (conversations: number) => void;
      onStatus?: (status: { state: "connected" | "retrying" }) => void;
      onBurned?: (peerUid: string) => void;
    },
  ): Promise<void>;
}

/** A message to print: a stored row, or one of ours printed when its send returned (no row id yet). */
export type ShownMessage = Omit<ChatMessage, "id">;

export interface FeedSink {
  /** A message of this conversation to print. */
  message(m: ShownMessage): void;
  /** Another contact wrote. */
  other(peerUid: string, m: ChatMessage): void;
  /** PROTOCOL §7.9: the relay says this conversation was deleted (burned). */
  burned?(): void;
}

export class ChatFeed {
  private readonly seen = new Set<string>();
  private readonly echoes = new EchoTracker();
  private held: Array<[string, ChatMessage | "burned"]> | null = [];

  constructor(
    private readonly peerUid: string,
    private readonly sink: FeedSink,
  ) {}

  /** A stored row of this conversation (history or live): shown unless it was already. */
  row(m: ChatMessage): void {
    if (this.seen.has(m.id)) return;
    this.seen.add(m.id);
    if (m.mine && !this.echoes.onEcho(echoKey(m), m.ts)) return;
    this.sink.message(m);
  }

  /** A live message of any conversation, or a burn; held until release(). */
  live(peerUid: string, m: ChatMessage | "burned"): void {
    if (this.held) return void this.held.push([peerUid, m]);
    if (m === "burned") {
      if (peerUid === this.peerUid) this.sink.burned?.();
    } else if (peerUid === this.peerUid) this.row(m);
    else if (!m.mine) this.sink.other(peerUid, m);
  }

  /** The history is on screen: show what arrived meanwhile, and from now on at once. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [peer, m] of held) this.live(peer, m);
  }

  /** Send one of our messages; it is printed when `send` returns unless the relay's echo was shown first. */
  async sendOwn(key: string, send: () => Promise<ShownMessage>): Promise<void> {
    this.echoes.expect(key);
    let m: ShownMessage;
    try {
      m = await send();
    } catch (e) {
      this.echoes.onFailed(key);
      throw e;
    }
    if (this.echoes.onSent(key, m.ts)) this.sink.message(m);
  }
}

/**
 * Start live delivery, then fetch the history (newest `limit` rows). Live delivery only
 * brings rows stored after its own first fetch, which may come after the history's: a row
 * stored in between would be in neither. So once live delivery is connected, the history
 * is fetched once more from its newest row; rows seen twice are shown once (by id).
 * `caughtUp` settles when that second fetch has been handed to the feed (or failed: `onError`).
 */
export function openConversation(
  src: ConversationSource,
  peerUid: string,
  feed: ChatFeed,
  o: {
    signal: AbortSignal;
    limit: number;
    onError?: (e: unknown) => void;
    /** A history that had failed was loaded after live delivery (re)connected; its rows went to the feed. */
    onHistoryLoaded?: (rows: number) => void;
  },
): { listening: Promise<void>; history: Promise<ChatMessage[]>; caughtUp: Promise<void> } {
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  // A history that failed (the relay was down) is fetched again each time live delivery
  // connects, until it loads: the relay answers again, so the history can come too.
  let retry: "no" | "waiting" | "loading" = "no";
  const retryHistory = (): void => {
    if (retry !== "waiting" || o.signal.aborted) return;
    retry = "loading";
    src.history(peerUid, { limit: o.limit }).then(
      (rows) => {
        retry = "no";
        if (o.signal.aborted) return;
        for (const m of rows) feed.live(peerUid, m);
        o.onHistoryLoaded?.(rows.length);
      },
      () => void (retry = "waiting"),
    );
  };
  const listening = src.listen((peer, m) => feed.live(peer, m), {
    signal: o.signal,
    onReady: () => connected(),
    onStatus: (st) => {
      if (st.state === "connected") retryHistory();
    },
    onBurned: (peer) => feed.live(peer, "burned"),
  });
  listening.then(connected, connected); // stopped or failed: nothing to wait for
  const history = src.history(peerUid, { limit: o.limit });
  history.catch(() => (retry = "waiting"));
  const caughtUp = (async () => {
    const first = await history.catch(() => null);
    if (first === null) return; // the screen reports that one
    await ready;
    if (o.signal.aborted) return;
    const newest = first.at(-1)?.ts;
    try {
      const again = await src.history(peerUid, newest === undefined ? { limit: o.limit } : { sinceTs: newest });
      if (o.signal.aborted) return; // the chat was left meanwhile
      for (const m of again) feed.live(peerUid, m);
    } catch (e) {
      if (!o.signal.aborted) o.onError?.(e);
    }
  })();
  return { listening, history, caughtUp };
}
