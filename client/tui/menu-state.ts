// What the menu knows between refreshes: unread counts, notices, relay trouble.
import { RelayError } from "../net/relay-error.ts";
import type { Session, WarningAbout } from "../core/session.ts";
import { cleanText } from "../text/sanitise.ts";
import { contactName, errorText } from "./ui.ts";

export interface MenuState {
  counts: Record<string, number>;
  /** Lines for the notice row (newest last): new contacts, warnings. */
  notices: string[];
  /** Why the relay could not be used at the last refresh, or null. */
  offline: string | null;
  /** When registration was last tried (ms), to try at most once a minute. */
  registerTried: number;
  /** Notices saying the relay could not be reached: dropped once it answers again. */
  relayWarnings: string[];
  /** Pending contact requests at the last refresh. */
  requests: number;
}

export function newMenuState(): MenuState {
  return { counts: {}, notices: [], offline: null, registerTried: 0, relayWarnings: [], requests: 0 };
}

/** A Session warning for the notice row; one about the relay goes when the relay answers again. */
export function addWarning(st: MenuState, message: string, about?: WarningAbout): void {
  const text = cleanText(message, { oneLine: true });
  st.notices.push(text);
  if (about === "relay") st.relayWarnings.push(text);
}

/**
 * A relay that does not know our UID (401) gets it registered (PROTOCOL §7.2,
 * create-only; "exists" with our key is fine): an identity made offline by the
 * wizard, or a relay that lost its data.
 */
async function registerIfUnknown(session: Session, st: MenuState, e: unknown): Promise<boolean> {
  if (!(e instanceof RelayError && e.status === 401) || Date.now() - st.registerTried < 60_000) return false;
  st.registerTried = Date.now();
  const r = await session.register();
  if (r === "created") st.notices.push("Your identity is now registered with the relay.");
  return true;
}

/** Read the key-exchange inbox and the unread counts; never throws. */
export async function refreshState(session: Session, st: MenuState): Promise<void> {
  reloadContacts(session, st);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      for (const c of await session.processInbox()) {
        st.notices.push(
          c.isNew ? `${contactName(c)} added you: see Contacts, then verify` : `${contactName(c)}: key changed`,
        );
      }
      const waiting = session.requests().length;
      if (waiting > st.requests) st.notices.push(`${waiting} contact request(s): see Contact requests`);
      st.requests = waiting;
      st.counts = await session.unreadCounts();
      st.offline = null;
      // The relay answered: what it said about being unreachable is no longer true.
      if (st.relayWarnings.length > 0) {
        const stale = new Set(st.relayWarnings);
        st.notices = st.notices.filter((n) => !stale.has(n));
        st.relayWarnings = [];
      }
      return;
    } catch (e) {
      st.offline = errorText(e);
      try {
        if (attempt === 0 && (await registerIfUnknown(session, st, e))) continue;
      } catch (again) {
        st.offline = errorText(again);
      }
      return;
    }
  }
}

/** The contact book as state.db holds it now (another process may have changed it); never throws. */
export function reloadContacts(session: Session, st: MenuState): void {
  try {
    session.reloadContacts();
  } catch (e) {
    st.notices.push(`could not read the contacts again: ${errorText(e)}`);
  }
}
