// phantom status: whether a daemon serves this identity (commands then go through it, with no
// password), and what it serves; without one, that commands unlock the identity themselves.
import { PhantomError } from "../../../lib/errors.ts";
import { socketPath } from "../../daemon/files.ts";
import { Ctx, type Globals, timeOf } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const d = ctx.daemonAllowed ? await ctx.daemon() : null;
  if (d === null) {
    if (ctx.json) ctx.jsonLine({ daemon: false, home: ctx.home });
    else {
      ctx.line(`daemon:      not running (${socketPath(ctx.home)}); commands unlock the identity themselves`);
      ctx.line("             start one with: phantom daemon");
    }
    return;
  }
  try {
    const st = await d.call("status", {});
    if (ctx.json) {
      ctx.jsonLine({
        daemon: true,
        home: ctx.home,
        uid: st.uid,
        fingerprint: st.fingerprint,
        relay: st.relay,
        tor: st.viaTor,
        relay_status: st.relayStatus,
        pid: st.daemon.pid,
        since: st.daemon.since,
        socket: st.daemon.socket,
        http: st.daemon.http,
        contacts: st.contacts,
        requests: st.requests,
        version: st.version,
      });
      return;
    }
    ctx.line(`daemon:      running (pid ${st.daemon.pid}, since ${timeOf(st.daemon.since)}, phantom ${st.version})`);
    ctx.line(`             commands go through it: no password needed (--no-daemon unlocks here instead)`);
    ctx.line(`socket:      ${st.daemon.socket}${st.daemon.http ? `; HTTP ${st.daemon.http}` : ""}`);
    ctx.line(`uid:         ${st.uid}`);
    ctx.line(`fingerprint: ${st.fingerprint}`);
    ctx.line(`relay:       ${st.relay}${st.viaTor ? " (through Tor)" : ""}: ${st.relayStatus}`);
    ctx.line(`contacts:    ${st.contacts}${st.requests > 0 ? `, ${st.requests} contact request(s) waiting` : ""}`);
  } catch (e) {
    throw e instanceof PhantomError ? e : new PhantomError("daemon-error", String(e));
  } finally {
    d.close();
  }
}
