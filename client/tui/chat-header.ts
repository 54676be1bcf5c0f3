// The chat screen's header: the contact's name, its protocol (PROTOCOL-v3 §V1: "v3 · forward-secret"
// or "v2 · not forward-secret", with the one-line reason below for v2), its UID, whether the key
// is verified and the route. Pure: the screen gathers what it shows.
import type { ContactView } from "../state/contacts.ts";
import { LABEL_V3, type ProtocolLabel } from "../text/protocol.ts";
import type { Theme } from "./themes.ts";
import { contactName } from "./ui.ts";

export interface HeaderFacts {
  contact: ContactView;
  protocol: ProtocolLabel;
  viaTor: boolean;
  /** The terminal's width. */
  columns: number;
}

export function chatHeader(t: Theme, f: HeaderFacts): string {
  const c = f.contact;
  const rule = t.dim("─".repeat(Math.min(Math.max(20, f.columns) - 1, 72)));
  const trust = c.keyChanged
    ? t.danger("key changed: /verify before you trust it")
    : c.verified
      ? t.ok("verified")
      : t.warn("not verified (/verify)");
  const route = f.viaTor ? t.ok("via Tor") : t.warn("direct");
  const label = f.protocol.reason === null ? t.ok(f.protocol.short) : t.warn(f.protocol.short);
  return [
    rule,
    ` ${t.bold(t.peer(contactName(c)))}  ${label}  ${t.dim(c.uid)}`,
    ...(f.protocol.reason === null ? [] : [` ${t.dim(f.protocol.reason)}`]),
    ` ${trust} · ${route} · ${t.dim("/help for commands, Esc to leave")}`,
    rule,
  ].join("\n");
}

/**
 * PROTOCOL-v3 §V1: the line shown when a contact becomes pinned to v3 while the chat is open (the
 * header above still shows what was known when it was drawn); null when nothing changed. A pin is
 * never taken back, so there is no line for the other way.
 */
export function upgradeNotice(t: Theme, shown: 2 | 3, now: 2 | 3, name: string): string | null {
  return shown === 2 && now === 3 ? t.ok(`  · the conversation with ${name} is now ${LABEL_V3}`) : null;
}
