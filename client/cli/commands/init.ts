// phantom init: create an identity, register it with the relay (PROTOCOL §7.2), print the UID.
import { PhantomError } from "../../../lib/errors.ts";
import { readPassword } from "../password.ts";
import { Session } from "../../core/session.ts";
import { updateSettings } from "../../state/settings.ts";
import { hasIdentity, identityPath } from "../../state/vault.ts";
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  // Before asking for a password: an existing identity is never replaced.
  if (hasIdentity(ctx.home)) {
    throw new PhantomError("identity-exists", `an identity already exists in ${identityPath(ctx.home)}`);
  }
  const password = await readPassword({ source: ctx.passwordSource, create: true });
  const s = await Session.create(await ctx.sessionConfig(password), ctx.hooks);
  if (ctx.relay !== undefined) updateSettings(ctx.home, { relay: s.relayUrl }); // later commands use it too
  if (ctx.json) {
    ctx.jsonLine({ uid: s.uid, fingerprint: s.fingerprint, relay: s.relayUrl });
  } else {
    ctx.line(`identity created and registered with ${s.relayUrl}`);
    ctx.line(`uid:         ${s.uid}`);
    ctx.line(`fingerprint: ${s.fingerprint}`);
    ctx.line("give your UID to the people you want to talk to; compare fingerprints to verify each other");
  }
  s.close();
}
