// Own messages come back from the relay through the live feed, sometimes before
// the send call has returned. Each one must be shown exactly once: whichever of
// "send finished" and "echo arrived" comes first prints it, the other is skipped.
// A message of ours that we did not send from here (another device) is shown too.
//
// Texts are counted, not just remembered (the same text can be in flight twice).
// Once a send has returned, its echo is expected at the relay ts it returned, so a
// lost echo never hides a later message with the same text.

export class EchoTracker {
  /** Sent from here, no answer yet. */
  private readonly pending = new Map<string, number>();
  /** Echo shown while its send was pending. */
  private readonly echoedFirst = new Map<string, number>();
  /** Shown when its send returned; "ts key" → count. */
  private readonly shownFirst = new Map<string, number>();

  private static bump(m: Map<string, number>, k: string, d: number): void {
    const v = (m.get(k) ?? 0) + d;
    if (v <= 0) m.delete(k);
    else m.set(k, v);
  }

  /** Before sending. */
  expect(key: string): void {
    EchoTracker.bump(this.pending, key, 1);
  }

  /** The relay delivered one of our messages (stored at `ts`): true when it should be shown. */
  onEcho(key: string, ts: number): boolean {
    const sent = `${ts} ${key}`;
    if (this.shownFirst.has(sent)) {
      EchoTracker.bump(this.shownFirst, sent, -1);
      return false;
    }
    if (this.pending.has(key)) {
      EchoTracker.bump(this.pending, key, -1);
      EchoTracker.bump(this.echoedFirst, key, 1);
    }
    return true;
  }

  /** The send call returned the relay's `ts`: true when it should be shown (the echo has not been). */
  onSent(key: string, ts: number): boolean {
    if (this.echoedFirst.has(key)) {
      EchoTracker.bump(this.echoedFirst, key, -1);
      return false;
    }
    EchoTracker.bump(this.pending, key, -1);
    EchoTracker.bump(this.shownFirst, `${ts} ${key}`, 1);
    return true;
  }

  /** The send failed: nothing will come back. */
  onFailed(key: string): void {
    EchoTracker.bump(this.pending, key, -1);
  }
}

export function echoKey(m: { body: string; file?: { name: string } }): string {
  return m.file ? `file:${m.file.name}` : `text:${m.body}`;
}
