// `phantom settings [key] [value…]`: the interactive UI's settings as a command.
//   phantom settings                       show every setting (--json: one object)
//   phantom settings theme amber           cyan | matrix | amber | ocean | custom
//   phantom settings color accent #ffaa00  a colour of the custom theme (accent, dim, mine, peer)
//   phantom settings mascot cat            none | cat | dog | penguin | bear | ghost
//   phantom settings motd hacker           off | fun | privacy | hacker | ops | custom
//   phantom settings motd-add "a line"     add a custom message-of-the-day line
//   phantom settings motd-clear            remove every custom line
//   phantom settings tor-warning off       on | off: the warning before a direct (non-Tor) connection
//   phantom settings relay URL             the relay to use (`default` to forget it)
//   phantom settings history days 30       keep | days N | off: local history of v3 messages (PROTOCOL-v3 §V8)
//   phantom settings require-v3 on         on | off: refuse v2 for new contacts (PROTOCOL-v3 §V1)
import { homeFromEnv } from "../config.ts";
import { applySetting, describeSettings } from "../../core/settings.ts";
import { loadSettings } from "../../state/settings.ts";

type Out = { write(s: string): unknown };

/** The command: show all settings, or change one. */
export function settingsCommand(
  key: string | undefined,
  values: string[],
  o: { json?: boolean; env?: Record<string, string | undefined>; out?: Out } = {},
): number {
  const out = o.out ?? process.stdout;
  const home = homeFromEnv(o.env ?? process.env);
  const s = key === undefined || key === "show" ? loadSettings(home) : applySetting(home, key, values);
  if (o.json) out.write(`${JSON.stringify(s)}\n`);
  else out.write(`${describeSettings(s).join("\n")}\n`);
  return 0;
}

/** commander entry (phantom.ts): `phantom settings [key] [value…]`. */
export async function run(g: { json?: boolean }, key?: string, values?: string[]): Promise<void> {
  settingsCommand(key, values ?? [], { json: g.json === true });
}
