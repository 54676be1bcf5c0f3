// phantom whoami: this identity's UID and fingerprint, the relay and whether Tor is used.
import { updateNotice } from "../../core/update-notice.ts";
import { Ctx, type Globals } from "./context.ts";

/** PROTOCOL-v3 §V1: v2 for Phantom 2.2.x peers and relays, v3 wherever both sides offer it. */
export const CLIENT_PROTOCOLS: readonly number[] = [2, 3];

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const api = await ctx.api();
  const me = await api.call("identity", {});
  api.close();
  const notice = await updateNotice(await ctx.loadConfig());
  if (ctx.json) {
    ctx.jsonLine({
      uid: me.uid,
      fingerprint: me.fingerprint,
      relay: me.relay,
      tor: me.viaTor,
      // PROTOCOL-v3 §V1: the protocols this client speaks, and each conversation's.
      protocols: CLIENT_PROTOCOLS,
      conversations: me.conversations,
      ...(me.torMissing ? { tor_missing: true } : {}),
      ...(notice ? { update: notice } : {}),
    });
  } else {
    ctx.line(`uid:         ${me.uid}`);
    ctx.line(`fingerprint: ${me.fingerprint}`);
    const route = me.torMissing ? " (Tor required but not running)" : me.viaTor ? " (through Tor)" : "";
    ctx.line(`relay:       ${me.relay}${route}`);
    const v3 = me.conversations.filter((c) => c.protocol === 3).length;
    const all = me.conversations.length;
    if (all > 0)
      ctx.line(`protocol:    v3 · forward-secret with ${v3} of ${all} contacts (phantom contacts shows each)`);
    if (notice) ctx.line(notice);
  }
}
