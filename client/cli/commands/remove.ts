// phantom remove <uid> [--yes]: burn the room (PROTOCOL §7.7), then forget the contact.
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { yes?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const c = await api.call("contacts.get", { contact: uid });
  await ctx.confirmDestructive(o.yes, `Burn the conversation with ${who(c)} and remove the contact?`, "remove");
  await api.call("contacts.remove", { contact: c.uid });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, removed: true });
  else ctx.line(`removed ${who(c)}; the conversation was burned on the relay`);
  api.close();
}
