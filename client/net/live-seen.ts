// What one room's live delivery has seen (client/net/live.ts): rows are deduplicated by
// messageId (the SHA-256 of the ciphertext, whatever ts the relay stamped), and by seq
// (PROTOCOL §7.6.1) once the relay's rows carry it.
import { messageId } from "../../lib/crypto.ts";
import type { StoredMessage } from "../../lib/wire.ts";

/** What a room has delivered: the newest ts and the messages at or after it; the seq cursor. */
export class Seen {
  maxTs = -1;
  /**
   * PROTOCOL §7.6.1: every row with seq ≤ cursor has been seen (set from /fetch answers only,
   * which are contiguous); null until the relay has shown that its rows carry seq.
   */
  cursor: number | null = null;
  /** messageId → ts of the rows at or after maxTs. */
  private keys = new Map<string, number>();
  /** Seqs seen above the cursor (live frames), forgotten once the cursor passes them. */
  private seqs = new Set<number>();

  /** True when the message is new (and records it). */
  add(m: StoredMessage): boolean {
    if (m.seq !== undefined) {
      if ((this.cursor !== null && m.seq <= this.cursor) || this.seqs.has(m.seq)) return false;
    }
    const key = messageId(m.ciphertext);
    if (this.keys.has(key)) return false;
    if (m.seq !== undefined) this.seqs.add(m.seq);
    this.keys.set(key, m.ts);
    if (m.ts > this.maxTs) {
      this.maxTs = m.ts;
      // A catch-up asks for ts ≥ maxTs: older keys can never come back.
      for (const [k, ts] of this.keys) if (ts < this.maxTs) this.keys.delete(k);
    }
    return true;
  }

  /** Seqs remembered above the cursor. */
  get pending(): number {
    return this.seqs.size;
  }

  /** Every row up to `seq` has been seen (a /fetch answer ended there). */
  advance(seq: number): void {
    if (this.cursor !== null && seq <= this.cursor) return;
    this.cursor = seq;
    for (const s of this.seqs) if (s <= seq) this.seqs.delete(s);
  }
}
