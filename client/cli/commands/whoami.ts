// phantom whoami: this identity's UID and fingerprint, the relay and whether Tor is used.
import { updateNotice } from "../../core/update-notice.ts";
import { Ctx, type Globals } from "./context.ts";

/** PROTOCOL-v3 §V1: v2 for Phantom 2.2.x peers and relays, v3 wherever both sides offer it. */
export const CLIENT_PROTOCOLS: readonly number[] = [2, 3];

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  const notice = await updateNotice(ctx.config);
  if (ctx.json) {
    ctx.jsonLine({
      uid: s.uid,
      fingerprint: s.fingerprint,
      relay: s.relayUrl,
      tor: s.viaTor,
      // PROTOCOL-v3 §V1: the protocols this client speaks (each contact's is in `phantom contacts --json`).
      protocols: CLIENT_PROTOCOLS,
      ...(s.torMissing ? { tor_missing: true } : {}),
      ...(notice ? { update: notice } : {}),
    });
  } else {
    ctx.line(`uid:         ${s.uid}`);
    ctx.line(`fingerprint: ${s.fingerprint}`);
    const route = s.torMissing ? " (Tor required but not running)" : s.viaTor ? " (through Tor)" : "";
    ctx.line(`relay:       ${s.relayUrl}${route}`);
    if (notice) ctx.line(notice);
  }
  s.close();
}
