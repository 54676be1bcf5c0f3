// phantom verify <uid> [--force]: mark the contact as checked; --force accepts a changed key.
// A contact pinned to v3 shows the safety code both people see (PROTOCOL-v3 §V2.1); a v2 contact
// both fingerprints. On a terminal (without --force) it asks whether they match, as the menu does.
import { PhantomError } from "../../../lib/errors.ts";
import { confirm } from "../prompt.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { force?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  try {
    // PROTOCOL-v3 §V2.1: a contact we only answered has not shown us its signing key yet (learnt here).
    const { code: shown, protocol } = await api.call("contacts.safetyCode", { contact: uid });
    const before = await api.call("contacts.get", { contact: uid });
    const code = protocol === 3 ? shown : null;
    const ours = (await api.call("identity", {})).fingerprint;
    if (!ctx.json) for (const l of verifyLines(who(before), before.fingerprint, ours, code)) ctx.line(l);
    // A changed key needs --force (the verify call says so); an already verified one is not asked again.
    if (!o.force && ctx.interactive && !before.verified) {
      process.stderr.write("Compare over a channel you trust (in person, a call).\n");
      const what = code === null ? "their fingerprint" : "the safety code";
      if (!(await confirm(`Does ${what} match what they read to you from their screen?`))) {
        throw new PhantomError("cancelled", `not verified: ${who(before)} stays unverified`);
      }
    }
    // The code shown is the one compared (the person above said it matches, or a script takes it as is).
    const c = await api.call("contacts.verify", {
      contact: before.uid,
      code: shown,
      ...(o.force ? { force: true } : {}),
    });
    if (ctx.json) ctx.jsonLine({ uid: c.uid, fingerprint: c.fingerprint, verified: c.verified, safety_code: code });
    else ctx.line(`verified ${who(c)}`);
  } finally {
    api.close();
  }
}

/**
 * What verify shows before asking: PROTOCOL-v3 §V2.1 the safety code (8 groups of 5) of a v3
 * conversation, else the two v2 fingerprints (v2 §2). `label` is already safe for the terminal.
 */
export function verifyLines(label: string, theirFp: string, ourFp: string, safetyCode: string | null): string[] {
  if (safetyCode !== null) return [`Safety code (compare with ${label}; they see the same):`, `  ${safetyCode}`];
  return [`their fingerprint (${label}):`, `  ${theirFp}`, "your fingerprint:", `  ${ourFp}`];
}
