// phantom accept <uid>: make a contact request a contact; the messages it sent are then shown.
import { printWarning } from "../errors.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const c = await api.call("contacts.accept", { uid }); // reads the inbox first: a request that arrived since
  if (ctx.json) {
    ctx.jsonLine({ uid: c.uid, nickname: c.nickname, fingerprint: c.fingerprint, verified: c.verified });
  } else {
    ctx.line(`accepted ${who(c)}: a contact now (phantom read ${c.uid})`);
    ctx.line(`fingerprint: ${c.fingerprint}`);
    ctx.line(`compare it with theirs over another channel, then run: phantom verify ${c.uid}`);
  }
  api.close();
}
