// phantom block <uid> / phantom unblock <uid>: a blocked UID's key-exchange notices and messages
// are dropped (never shown, never a request again); unblocking gives back what it was.
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals, uid: string): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const r = await api.call("contacts.block", { contact: uid });
  if (ctx.json) ctx.jsonLine({ uid: r.uid, blocked: true, was: r.was });
  else {
    const what = r.was === "contact" ? "contact " : r.was === "request" ? "contact request " : "";
    ctx.line(`blocked ${what}${r.uid}: their messages and notices are dropped (undo: phantom unblock ${r.uid})`);
  }
  api.close();
}
