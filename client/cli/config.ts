// The client's one configuration root: everything it takes from its environment
// (command-line flags, environment variables, settings.json), resolved once. Only
// phantom.ts and client/cli/ read process.env; every other layer gets a ClientConfig
// or the part of it it needs.
//
// Order: the home folder first (settings.json lives in it), then the settings are
// loaded, then the rest. resolveConfig is pure; loadConfig does the two steps around it.

import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { type TorConfig, torConfigFromEnv } from "../../lib/tor.ts";
import { DEFAULT_UPDATE_URL } from "../../lib/version.ts";
import { checkRelayUrl } from "../net/route.ts";
import { DEFAULT_RELAY, loadSettings, type Settings } from "../state/settings.ts";
import { isDebug } from "./errors.ts";
import {
  type ClientFlags,
  type Env,
  homeFromEnv,
  passwordSourceOf,
  type PasswordSource,
  resolveHome,
  set,
} from "./env.ts";

export { type ClientFlags, type Env, homeFromEnv, passwordSourceOf, type PasswordSource, resolveHome } from "./env.ts";

export interface ClientConfig {
  /** $PHANTOM_HOME, else ~/.phantom; absolute. */
  home: string;
  /** --relay, else PHANTOM_RELAY, else settings.json "relay", else DEFAULT_RELAY; checked, without a final "/". */
  relayUrl: string;
  /** PHANTOM_TOR and PHANTOM_TOR_PROXY. */
  tor: TorConfig;
  /** --direct or PHANTOM_DIRECT=1: a direct connection to a relay that is not on this machine is accepted unasked. */
  direct: boolean;
  passwordSource: PasswordSource;
  /** Colour output: off when NO_COLOR is set (non-empty) or TERM=dumb. */
  color: boolean;
  /** PHANTOM_DEBUG=1: the error printer adds the stack trace. */
  debug: boolean;
  /** --json: one JSON object per line. */
  json: boolean;
  /** PHANTOM_UPDATE_URL, else settings.json "updateUrl", else the URL compiled in; undefined: none. */
  updateUrl: string | undefined;
  /** settings.json "updates": check for a release at most once a day and say so. */
  updateChecks: boolean;
}

/** --relay, else PHANTOM_RELAY, else settings.relay, else the default; checked and without a final "/". */
export function relayUrlOf(explicit: string | undefined, env: Env, settings: Settings): string {
  return checkRelayUrl([explicit, env.PHANTOM_RELAY, settings.relay, DEFAULT_RELAY].find(set)!);
}

export function directOf(flags: ClientFlags, env: Env): boolean {
  return flags.direct === true || env.PHANTOM_DIRECT === "1";
}

/** Whether colour output is allowed: NO_COLOR set (non-empty) or TERM=dumb turn it off. */
export function colorAllowed(env: Env): boolean {
  if (set(env.NO_COLOR)) return false;
  return env.TERM !== "dumb";
}

/**
 * The whole configuration from flags, environment and the settings of the home folder.
 * `o.homedir` is the user's home directory (os.homedir()), given so that this stays pure.
 * Throws a PhantomError for a bad relay URL or a bad PHANTOM_TOR / PHANTOM_TOR_PROXY.
 */
export function resolveConfig(flags: ClientFlags, env: Env, settings: Settings, o: { homedir: string }): ClientConfig {
  return {
    home: resolveHome(env, o.homedir),
    relayUrl: relayUrlOf(flags.relay, env, settings),
    tor: torConfigFromEnv(env),
    direct: directOf(flags, env),
    passwordSource: passwordSourceOf(env),
    color: colorAllowed(env),
    debug: isDebug(env),
    json: flags.json === true,
    updateUrl: [env.PHANTOM_UPDATE_URL, settings.updateUrl, DEFAULT_UPDATE_URL].find(set),
    updateChecks: settings.updates,
  };
}

/** The home folder from the environment (the one step before settings.json can be read). */

/** resolveConfig with the settings read from the home folder the environment names. */
export function loadConfig(flags: ClientFlags, env: Env = process.env): ClientConfig {
  return resolveConfig(flags, env, loadSettings(homeFromEnv(env)), { homedir: homedir() });
}
