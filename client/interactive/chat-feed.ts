// Which rows the chat screen shows, and when: the stored history first, then live
// messages (held until the history is on screen), each row once; own messages once
// whether the send call or the relay's echo finishes first.
import type { ChatMessage } from "../conversation.ts";
import { EchoTracker, echoKey } from "./echoes.ts";

/** What the chat needs from a Session (a Session is one). */
export interface ConversationSource {
  history(uid: string, o?: { limit?: number; sinceTs?: number }): Promise<ChatMessage[]>;
  listen(
    onMessage: (peerUid: string, m: ChatMessage) => void,
    o: { signal: AbortSignal; onReady?: (conversations: number) => void },
  ): Promise<void>;
}

export interface FeedSink {
  /** A message of this conversation to print. */
  message(m: ChatMessage): void;
  /** Another contact wrote. */
  other(peerUid: string, m: ChatMessage): void;
}

function keyOf(m: ChatMessage): string {
  return `${m.ts}|${m.from}|${m.file ? `file:${m.file.name}:${m.file.size}` : m.body}`;
}

export class ChatFeed {
  private readonly seen = new Set<string>();
  private readonly echoes = new EchoTracker();
  private held: Array<[string, ChatMessage]> | null = [];

  constructor(
    private readonly peerUid: string,
    private readonly sink: FeedSink,
  ) {}

  /** A stored row of this conversation (history or live). */
  row(m: ChatMessage): void {
    const key = keyOf(m);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (m.mine && !this.echoes.onEcho(echoKey(m))) return;
    this.sink.message(m);
  }

  /** A live message of any conversation; held until release(). */
  live(peerUid: string, m: ChatMessage): void {
    if (this.held) return void this.held.push([peerUid, m]);
    if (peerUid === this.peerUid) this.row(m);
    else if (!m.mine) this.sink.other(peerUid, m);
  }

  /** The history is on screen: show what arrived meanwhile, and from now on at once. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [peer, m] of held) this.live(peer, m);
  }

  /** Send one of our messages; `show` prints it unless the relay's echo was shown first. */
  async sendOwn(key: string, send: () => Promise<ChatMessage>): Promise<void> {
    this.echoes.expect(key);
    let m: ChatMessage;
    try {
      m = await send();
    } catch (e) {
      this.echoes.onFailed(key);
      throw e;
    }
    if (this.echoes.onSent(key)) this.sink.message(m);
  }
}

/** Start live delivery, then fetch the history (newest `limit` rows). */
export function openConversation(
  src: ConversationSource,
  peerUid: string,
  feed: ChatFeed,
  o: { signal: AbortSignal; limit: number },
): { listening: Promise<void>; history: Promise<ChatMessage[]> } {
  const listening = src.listen((peer, m) => feed.live(peer, m), { signal: o.signal });
  const history = src.history(peerUid, { limit: o.limit });
  return { listening, history };
}
