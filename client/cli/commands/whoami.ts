// phantom whoami: this identity's UID and fingerprint, the relay and whether Tor is used.
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  if (ctx.json) {
    ctx.jsonLine({ uid: s.uid, fingerprint: s.fingerprint, relay: s.relayUrl, tor: s.viaTor });
  } else {
    ctx.line(`uid:         ${s.uid}`);
    ctx.line(`fingerprint: ${s.fingerprint}`);
    ctx.line(`relay:       ${s.relayUrl}${s.viaTor ? " (through Tor)" : ""}`);
  }
  s.close();
}
