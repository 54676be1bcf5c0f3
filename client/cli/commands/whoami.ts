// phantom whoami: this identity's UID and fingerprint, the relay and whether Tor is used.
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  if (ctx.json) {
    ctx.jsonLine({
      uid: s.uid,
      fingerprint: s.fingerprint,
      relay: s.relayUrl,
      tor: s.viaTor,
      ...(s.torMissing ? { tor_missing: true } : {}),
    });
  } else {
    ctx.line(`uid:         ${s.uid}`);
    ctx.line(`fingerprint: ${s.fingerprint}`);
    const route = s.torMissing ? " (Tor required but not running)" : s.viaTor ? " (through Tor)" : "";
    ctx.line(`relay:       ${s.relayUrl}${route}`);
  }
  s.close();
}
