// What every interactive screen shares: the theme, the settings, and how names
// and errors are shown.
import { PhantomError } from "../../lib/errors.ts";
import type { TorConfig } from "../../lib/tor.ts";
import type { ContactView } from "../state/contacts.ts";
import type { Settings } from "../state/settings.ts";
import { cleanText } from "../text/sanitise.ts";
import { truncate } from "./term.ts";
import { makeTheme, type Theme } from "./themes.ts";

/** What the interactive client takes from the command line and environment (resolved by the cli). */
export interface UiConfig {
  home: string;
  relayUrl: string;
  tor: TorConfig;
  /** --direct or PHANTOM_DIRECT=1: no question before a direct connection. */
  direct: boolean;
  color: boolean;
  /** Where releases are looked for, and whether the once-a-day check is on (client/core/update-notice.ts). */
  updateUrl?: string;
  updateChecks?: boolean;
  /**
   * A chat with this contact opened: a running daemon is told (no desktop notification for them
   * while it is open); the returned function says it closed. Given by the cli (client/daemon/).
   */
  chatOpened?: (peerUid: string) => () => void;
}

export interface Ui {
  home: string;
  config: UiConfig;
  settings: Settings;
  theme: Theme;
}

export function makeUi(config: UiConfig, settings: Settings): Ui {
  return { home: config.home, config, settings, theme: themeFor(settings, config.color) };
}

export function themeFor(settings: Settings, color: boolean): Theme {
  return makeTheme(settings.theme, settings.customTheme, color);
}

/** A contact's display name: the nickname (made safe), else the start of the UID. */
export function contactName(c: Pick<ContactView, "uid" | "nickname">): string {
  const nick = c.nickname === null ? "" : cleanText(c.nickname, { oneLine: true }).trim();
  return nick !== "" ? truncate(nick, 24) : `${c.uid.slice(0, 8)}…`;
}

/** A one-line, user-facing text for any error; never a stack trace. */
export function errorText(e: unknown): string {
  if (e instanceof PhantomError) return cleanText(e.message, { oneLine: true });
  if (e instanceof Error) return `unexpected error: ${cleanText(e.message, { oneLine: true })}`;
  return "unexpected error";
}

/** Fingerprint (13 groups of 4) as rows of `perRow` groups. */
export function fingerprintRows(fp: string, perRow = 5): string[] {
  const groups = fp.split(" ");
  const rows: string[] = [];
  for (let i = 0; i < groups.length; i += perRow) rows.push(groups.slice(i, i + perRow).join(" "));
  return rows;
}
