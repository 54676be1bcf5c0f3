// phantom verify <uid> [--force]: mark the contact as checked; --force accepts a changed key.
// A contact pinned to v3 shows the safety code both people see (PROTOCOL-v3 §V2.1); a v2 contact
// both fingerprints. On a terminal (without --force) it asks whether they match, as the menu does.
import { PhantomError } from "../../../lib/errors.ts";
import { confirm } from "../prompt.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { force?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  // PROTOCOL-v3 §V2.1: a contact we only answered has not shown us its signing key yet.
  await s.learnSigningKey(s.contact(uid).uid);
  const before = s.contact(uid);
  const code = s.safetyCode(before.uid);
  if (!ctx.json) for (const l of verifyLines(who(before), before.fingerprint, s.fingerprint, code)) ctx.line(l);
  // A changed key needs --force (session.verify says so); an already verified one is not asked again.
  if (!o.force && ctx.interactive && !before.verified) {
    process.stderr.write("Compare over a channel you trust (in person, a call).\n");
    const what = code === null ? "their fingerprint" : "the safety code";
    if (!(await confirm(`Does ${what} match what they read to you from their screen?`))) {
      s.close();
      throw new PhantomError("cancelled", `not verified: ${who(before)} stays unverified`);
    }
  }
  const c = s.verify(uid, { force: o.force });
  if (ctx.json) ctx.jsonLine({ uid: c.uid, fingerprint: c.fingerprint, verified: c.verified, safety_code: code });
  else ctx.line(`verified ${who(c)}`);
  s.close();
}

/**
 * What verify shows before asking: PROTOCOL-v3 §V2.1 the safety code (8 groups of 5) of a v3
 * conversation, else the two v2 fingerprints (v2 §2). `label` is already safe for the terminal.
 */
export function verifyLines(label: string, theirFp: string, ourFp: string, safetyCode: string | null): string[] {
  if (safetyCode !== null) return [`Safety code (compare with ${label}; they see the same):`, `  ${safetyCode}`];
  return [`their fingerprint (${label}):`, `  ${theirFp}`, "your fingerprint:", `  ${ourFp}`];
}
