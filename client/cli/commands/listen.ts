// phantom listen: stream incoming messages from every contact until interrupted (for bots).
// New contacts (key-exchange inbox) are picked up while listening.
import { Ctx, type Globals, who } from "./context.ts";
import { humanMessage, jsonMessage } from "./read.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  for (const c of await s.processInbox()) if (c.isNew && !ctx.json) ctx.line(`new contact: ${who(c)}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await s.listen(
      (peer, m) => {
        if (m.mine) return;
        if (ctx.json) ctx.jsonLine(jsonMessage(m));
        else ctx.line(humanMessage(s, m, s.contact(peer)));
      },
      {
        signal: stop.signal,
        onReady: (n) => process.stderr.write(`phantom: listening to ${n} conversation(s); Ctrl-C to stop\n`),
      },
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    s.close();
  }
}
