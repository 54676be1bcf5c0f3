// phantom unblock <uid>: a blocked contact is a contact again, a blocked request a request again.
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals, uid: string): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const r = await api.call("contacts.unblock", { uid });
  if (ctx.json) ctx.jsonLine({ uid: r.uid, blocked: false, now: r.now });
  else if (r.now === "contact") ctx.line(`unblocked ${r.uid}: a contact again`);
  else if (r.now === "request") ctx.line(`unblocked ${r.uid}: a contact request again (phantom accept ${r.uid})`);
  else ctx.line(`unblocked ${r.uid}: their next key-exchange notice will be a contact request`);
  api.close();
}
