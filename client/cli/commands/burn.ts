// phantom burn <uid> [--yes]: delete every message and file of the conversation on the relay (PROTOCOL §7.7).
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { yes?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const c = await api.call("contacts.get", { contact: uid });
  await ctx.confirmDestructive(o.yes, `Delete the whole conversation with ${who(c)} from the relay?`, "burn");
  const { deleted } = await api.call("burn", { contact: c.uid });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, deleted });
  else ctx.line(`burned the conversation with ${who(c)}: ${deleted} item${deleted === 1 ? "" : "s"} deleted`);
  api.close();
}
