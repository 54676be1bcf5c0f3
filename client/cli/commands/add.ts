// phantom add <uid>: fetch and check the key (PROTOCOL §7.3), pin it, push the key-exchange notice (§7.4).
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { trust?: boolean; nick?: string }): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const c = await api.call("contacts.add", { uid, trust: o.trust, ...(o.nick === undefined ? {} : { nick: o.nick }) });
  if (ctx.json) {
    ctx.jsonLine({ uid: c.uid, nickname: c.nickname, fingerprint: c.fingerprint, verified: c.verified });
  } else {
    ctx.line(`added ${who(c)}`);
    ctx.line(`fingerprint: ${c.fingerprint}`);
    if (!c.verified) ctx.line(`compare it with theirs over another channel, then run: phantom verify ${c.uid}`);
  }
  api.close();
}
