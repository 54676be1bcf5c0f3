// What the menu knows between refreshes: unread counts, notices, relay trouble.
import type { Session } from "../session.ts";
import { contactName, errorText } from "./ui.ts";

export interface MenuState {
  counts: Record<string, number>;
  /** Lines for the notice row (newest last): new contacts, warnings. */
  notices: string[];
  /** Why the relay could not be reached at the last refresh, or null. */
  offline: string | null;
}

export function newMenuState(): MenuState {
  return { counts: {}, notices: [], offline: null };
}

/** Read the key-exchange inbox and the unread counts; never throws. */
export async function refreshState(session: Session, st: MenuState): Promise<void> {
  try {
    for (const c of await session.processInbox()) {
      st.notices.push(
        c.isNew ? `${contactName(c)} added you: see Contacts, then verify` : `${contactName(c)}: key changed`,
      );
    }
    st.counts = await session.unreadCounts();
    st.offline = null;
  } catch (e) {
    st.offline = errorText(e);
  }
}
