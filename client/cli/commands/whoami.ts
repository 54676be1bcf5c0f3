// phantom whoami: this identity's UID and fingerprint, the relay and whether Tor is used.
import { updateNotice } from "../../core/update-notice.ts";
import { Ctx, type Globals } from "./context.ts";

/** PROTOCOL-v3 §V1: v2 for Phantom 2.2.x peers and relays, v3 wherever both sides offer it. */
export const CLIENT_PROTOCOLS: readonly number[] = [2, 3];

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  const notice = await updateNotice(await ctx.loadConfig());
  if (ctx.json) {
    ctx.jsonLine({
      uid: s.uid,
      fingerprint: s.fingerprint,
      relay: s.relayUrl,
      tor: s.viaTor,
      // PROTOCOL-v3 §V1: the protocols this client speaks, and each conversation's.
      protocols: CLIENT_PROTOCOLS,
      conversations: s.contacts().map((c) => ({ uid: c.uid, protocol: c.protocol })),
      ...(s.torMissing ? { tor_missing: true } : {}),
      ...(notice ? { update: notice } : {}),
    });
  } else {
    ctx.line(`uid:         ${s.uid}`);
    ctx.line(`fingerprint: ${s.fingerprint}`);
    const route = s.torMissing ? " (Tor required but not running)" : s.viaTor ? " (through Tor)" : "";
    ctx.line(`relay:       ${s.relayUrl}${route}`);
    const v3 = s.contacts().filter((c) => c.protocol === 3).length;
    const all = s.contacts().length;
    if (all > 0)
      ctx.line(`protocol:    v3 · forward-secret with ${v3} of ${all} contacts (phantom contacts shows each)`);
    if (notice) ctx.line(notice);
  }
  s.close();
}
