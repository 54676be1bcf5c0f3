// phantom verify <uid> [--force]: mark the contact's fingerprint as checked; --force accepts a changed key.
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { force?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  const c = s.verify(uid, { force: o.force });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, fingerprint: c.fingerprint, verified: c.verified });
  else ctx.line(`verified ${who(c)}\nfingerprint: ${c.fingerprint}`);
  s.close();
}
