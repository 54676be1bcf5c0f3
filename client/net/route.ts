// How to reach the relay: the one check of a relay address, then the Tor route plan
// of lib/tor.ts. A direct connection to a relay that is
// not on this machine needs the user's consent first (IP address visible).

import { PhantomError } from "../../lib/errors.ts";
import { quoteInput } from "../text/sanitise.ts";
import { chooseRoute, isOnionHost, type RoutePlan, type TorConfig, Transport } from "../../lib/tor.ts";

/**
 * The one check for a relay address (commands, `phantom settings relay`, the wizard): http or https,
 * no query, fragment or credentials. Returns it normalised, without a final "/". The error never
 * repeats credentials.
 */
export function checkRelayUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PhantomError("bad-relay-url", `not a relay URL: '${quoteInput(raw)}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PhantomError("bad-relay-url", `relay URL must start with http:// or https://, not ${url.protocol}`);
  }
  // Anything beyond scheme, host, port and path: a query or fragment (even an empty "?" or "#"), credentials.
  if (url.href !== url.origin + url.pathname) {
    throw new PhantomError("bad-relay-url", "relay URL must not contain a query, fragment or credentials");
  }
  return url.href.replace(/\/+$/, "");
}

/** The route, or the reason there is none (kept to be thrown at the first relay request). */
export interface Route {
  cfg: TorConfig;
  plan: RoutePlan | null;
  error: PhantomError | null;
  /** Whether traffic to the relay goes (or would have to go) through Tor. */
  viaTor: boolean;
}

export async function planRelayRoute(relayUrl: string, cfg: TorConfig): Promise<Route> {
  try {
    const plan = await chooseRoute(new URL(relayUrl), cfg);
    return { cfg, plan, error: null, viaTor: plan.via === "tor" };
  } catch (e) {
    if (!(e instanceof PhantomError)) throw e;
    const viaTor = cfg.mode === "always" || isOnionHost(new URL(relayUrl).hostname);
    return { cfg, plan: null, error: e, viaTor };
  }
}

export function transportFor(route: Route): Transport {
  if (route.error) throw route.error;
  const plan = route.plan!;
  return plan.via === "tor"
    ? new Transport({ via: "tor", proxyHost: route.cfg.proxyHost, proxyPort: route.cfg.proxyPort })
    : new Transport({ via: "direct" });
}

export function directRefused(relayUrl: string, plan: RoutePlan): PhantomError {
  return new PhantomError(
    "direct-refused",
    `not connecting to ${relayUrl} directly (${plan.reason}); pass --direct or set PHANTOM_DIRECT=1 to accept, ` +
      "or start Tor (see 'phantom tor')",
  );
}
