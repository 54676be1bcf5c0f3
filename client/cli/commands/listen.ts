// phantom listen [--from now]: print what was not yet delivered to a listener (as far as the
// relay still has it), then stream incoming messages from every contact until interrupted
// (for bots). A delivery cursor per contact (state/cursors.ts) advances only once a line is
// written to stdout, so across SIGINT, SIGTERM, a closed stdout and runs back to back each
// message is printed once. New contacts are picked up while listening, whichever phantom
// process saw them first.
import { writeSync } from "node:fs";
import { PhantomError } from "../../../lib/errors.ts";
import type { ChatMessage } from "../../core/conversation.ts";
import type { RequestView } from "../../state/requests.ts";
import { escapeText, jsonText, oneLine } from "../../text/sanitise.ts";
import { printWarning } from "../errors.ts";
import { Ctx, type Globals, who } from "./context.ts";
import { humanMessage, jsonMessage } from "./read.ts";

/** A closed stdout (EPIPE): listening ends, quietly, with nothing lost. */
class StdoutClosed extends Error {}

/** Write all of `text` to stdout before returning: the line is out once this returns. */
function writeOut(text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done, bytes.length - done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Bun.sleepSync(5);
        continue;
      }
      if (code === "EPIPE" || code === "EBADF") throw new StdoutClosed("stdout was closed");
      throw e;
    }
  }
}

/** The --json line of a message: read's fields, the contact's nickname and the message id. */
export function listenJson(m: ChatMessage, nick: string | null) {
  return { ...jsonMessage(m), nick, id: m.id };
}

export async function run(g: Globals, o: { from?: string } = {}): Promise<void> {
  const ctx = new Ctx(g);
  if (o.from !== undefined && o.from !== "now") {
    throw new PhantomError("bad-option", `--from takes "now" (got ${oneLine(escapeText(o.from))})`);
  }
  const line = (human: string, json: unknown) => writeOut(ctx.json ? `${jsonText(json)}\n` : `${human}\n`);
  // Someone not in the book added us: a request, held until accepted (never listened to).
  const onRequest = (r: RequestView) =>
    line(`contact request from ${r.uid} (fingerprint ${r.fingerprint}): phantom accept ${r.uid}`, {
      event: "request",
      uid: r.uid,
      fingerprint: r.fingerprint,
      first_seen: r.firstSeen,
    });
  const s = await ctx.open({ onRequest });
  // Notices that came while no listen ran become requests now (request lines). A contact that is
  // already in the book when listen starts is not news: its messages come from the cursor.
  await s.processInbox();
  const stop = new AbortController();
  const outage = new Set<string>();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await s.listen(
      {
        message: (peer, m) => {
          if (m.mine) return;
          const c = s.contact(peer);
          line(humanMessage(s, m, c), listenJson(m, c.nickname));
        },
        contact: (c) => line(`new contact: ${who(c)}`, { event: "contact", uid: c.uid, nick: c.nickname }),
        burned: (peer) => {
          const c = s.contact(peer);
          // The relay does not say who burned (PROTOCOL §7.9): the peer, or this identity elsewhere.
          line(`the conversation with ${who(c)} was deleted on the relay`, {
            event: "burned",
            uid: peer,
            nick: c.nickname,
          });
        },
      },
      {
        signal: stop.signal,
        cursor: true,
        fromNow: o.from === "now",
        onReady: (n) => process.stderr.write(`phantom: listening to ${n} conversation(s); Ctrl-C to stop\n`),
        // Said once per conversation and outage: the live connection retries by itself.
        onLiveStatus: (peer, st) => {
          if (st.state === "connected") return void outage.delete(peer);
          if (outage.has(peer)) return;
          outage.add(peer);
          const inS = Math.ceil(st.inMs / 100) / 10;
          printWarning(`${who(s.contact(peer))}: ${oneLine(escapeText(st.error))}; retrying in ${inS} s`);
        },
      },
    );
  } catch (e) {
    if (!(e instanceof StdoutClosed)) throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    s.close();
  }
}
