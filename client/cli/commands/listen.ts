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
import type { Contact, Message } from "../../daemon/api.ts";
import type { DaemonClient } from "../../daemon/client.ts";
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
  const out = printer(ctx);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const d = await ctx.daemon();
    if (d !== null) await listenThrough(d, out, o.from === "now", stop.signal);
    else await listenHere(ctx, out, o.from === "now", stop.signal);
  } catch (e) {
    if (!(e instanceof StdoutClosed)) throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

type Peer = { uid: string; nickname: string | null };

/** What listen prints, whoever feeds it: this process's session or the daemon. */
interface Printer {
  message(c: Peer, m: ChatMessage): void;
  contact(c: Peer): void;
  burned(c: Peer): void;
  request(r: { uid: string; fingerprint: string; firstSeen: number }): void;
  ready(n: number): void;
  liveStatus(c: Peer, st: { state: string; error: string; inMs: number }): void;
}

function printer(ctx: Ctx): Printer {
  const line = (human: string, json: unknown) => writeOut(ctx.json ? `${jsonText(json)}\n` : `${human}\n`);
  const outage = new Set<string>();
  return {
    message: (c, m) => line(humanMessage(m, c), listenJson(m, c.nickname)),
    contact: (c) => line(`new contact: ${who(c)}`, { event: "contact", uid: c.uid, nick: c.nickname }),
    // The relay does not say who burned (PROTOCOL §7.9): the peer, or this identity elsewhere.
    burned: (c) =>
      line(`the conversation with ${who(c)} was deleted on the relay`, {
        event: "burned",
        uid: c.uid,
        nick: c.nickname,
      }),
    // Someone not in the book added us: a request, held until accepted (never listened to).
    request: (r) =>
      line(`contact request from ${r.uid} (fingerprint ${r.fingerprint}): phantom accept ${r.uid}`, {
        event: "request",
        uid: r.uid,
        fingerprint: r.fingerprint,
        first_seen: r.firstSeen,
      }),
    ready: (n) => process.stderr.write(`phantom: listening to ${n} conversation(s); Ctrl-C to stop\n`),
    // Said once per conversation and outage: the live connection retries by itself.
    liveStatus: (c, st) => {
      if (st.state === "connected") return void outage.delete(c.uid);
      if (outage.has(c.uid)) return;
      outage.add(c.uid);
      const inS = Math.ceil(st.inMs / 100) / 10;
      printWarning(`${who(c)}: ${oneLine(escapeText(st.error))}; retrying in ${inS} s`);
    },
  };
}

/** Without a daemon: this process unlocks, reads the inbox and listens from the delivery cursor. */
async function listenHere(ctx: Ctx, out: Printer, fromNow: boolean, signal: AbortSignal): Promise<void> {
  const s = await ctx.open({ onRequest: (r: RequestView) => out.request(r) });
  try {
    // Notices that came while no listen ran become requests now (request lines). A contact that is
    // already in the book when listen starts is not news: its messages come from the cursor.
    await s.processInbox();
    await s.listen(
      {
        message: (peer, m) => {
          if (m.mine) return;
          out.message(s.contact(peer), m);
        },
        contact: (c) => out.contact(c),
        burned: (peer) => out.burned(s.contact(peer)),
      },
      {
        signal,
        cursor: true,
        fromNow,
        onReady: (n) => out.ready(n),
        onLiveStatus: (peer, st) =>
          out.liveStatus(s.contact(peer), {
            state: st.state,
            error: st.state === "retrying" ? st.error : "",
            inMs: st.state === "retrying" ? st.inMs : 0,
          }),
      },
    );
  } finally {
    s.close();
  }
}

/**
 * Through the daemon: the same cursor, read and moved by the daemon; each message line is
 * acknowledged once written, so the cursor passes only what was printed.
 */
async function listenThrough(d: DaemonClient, out: Printer, fromNow: boolean, signal: AbortSignal): Promise<void> {
  let failed: unknown = null;
  d.on("listen", (p) => {
    const { id, line } = p as { id: number; line: Record<string, unknown> & { kind: string } };
    try {
      const c = line.contact as Contact;
      if (line.kind === "message") out.message(c, line.message as Message);
      else if (line.kind === "contact") out.contact(c);
      else if (line.kind === "burned") out.burned(c);
      else if (line.kind === "request") out.request(line as never);
      else if (line.kind === "ready") out.ready(line.conversations as number);
      else if (line.kind === "live-status") out.liveStatus(c, line as never);
    } catch (e) {
      // Not printed (stdout closed): no ack, the connection ends, the cursor stays before it.
      failed = e;
      d.close();
      return;
    }
    if (id > 0) d.tell("listen.ack", { id });
  });
  const onAbort = () => d.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await d.call("listen", fromNow ? { fromNow: true } : {});
  } catch (e) {
    if (failed !== null) throw failed;
    if (signal.aborted) return;
    throw e;
  } finally {
    signal.removeEventListener("abort", onAbort);
    d.close();
  }
}
