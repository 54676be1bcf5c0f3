// phantom tor: Tor mode, whether the proxy answers, the route to the relay, and a setup hint.
import { hostPort, planRoute, probeProxy, torStatus } from "../../../lib/tor.ts";
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const { tor: cfg, relayUrl } = await ctx.loadConfig();
  if (!ctx.json) {
    for (const l of await torStatus(cfg, { relayUrl })) ctx.line(l);
    return;
  }
  const up = await probeProxy(cfg, 1500);
  let route: string;
  let reason: string;
  try {
    const plan = planRoute(new URL(relayUrl), cfg, up);
    route = plan.via;
    reason = plan.reason;
  } catch (e) {
    route = "none";
    reason = e instanceof Error ? e.message : String(e);
  }
  const proxy = hostPort(cfg.proxyHost, cfg.proxyPort);
  ctx.jsonLine({ mode: cfg.mode, proxy, proxy_up: up, relay: relayUrl, route, reason });
}
