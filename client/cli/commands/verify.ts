// phantom verify <uid> [--force]: mark the contact's fingerprint as checked; --force accepts a changed key.
// Both fingerprints are shown; on a terminal (without --force) it asks whether they match, as the menu does.
import { PhantomError } from "../../../lib/errors.ts";
import { confirm } from "../prompt.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { force?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  const before = s.contact(uid);
  if (!ctx.json) {
    ctx.line(`their fingerprint (${who(before)}):`);
    ctx.line(`  ${before.fingerprint}`);
    ctx.line("your fingerprint:");
    ctx.line(`  ${s.fingerprint}`);
  }
  // A changed key needs --force (session.verify says so); an already verified one is not asked again.
  if (!o.force && ctx.interactive && !before.verified) {
    process.stderr.write("Compare over a channel you trust (in person, a call).\n");
    if (!(await confirm("Does their fingerprint match what they read to you from their screen?"))) {
      s.close();
      throw new PhantomError("cancelled", `not verified: ${who(before)} stays unverified`);
    }
  }
  const c = s.verify(uid, { force: o.force });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, fingerprint: c.fingerprint, verified: c.verified });
  else ctx.line(`verified ${who(c)}`);
  s.close();
}
