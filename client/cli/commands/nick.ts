// phantom nick <uid> <name>: a local nickname, usable instead of the UID in every command.
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, name: string): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const c = await api.call("contacts.nick", { contact: uid, nick: name });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, nickname: c.nickname });
  else ctx.line(`nickname set: ${who(c)}`);
  api.close();
}
