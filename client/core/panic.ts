// Panic, the relay's half: burn every known room (PROTOCOL §7.7). Burning needs the password
// (requests are signed, §6); deleting $PHANTOM_HOME afterwards is state/wipe.ts.

import { RelayError } from "../net/relay-error.ts";
import type { PanicPort } from "./ports.ts";

export interface BurnAllResult {
  burned: number;
  /** UIDs whose room could not be burned (or was not tried once the relay proved unreachable). */
  failed: string[];
}

/**
 * Burn every room of the contact book. A refused burn (403, 429…) does not stop the others;
 * once the relay cannot be reached at all (no route, no answer), the remaining rooms are not
 * tried (each would wait for its own timeout) and are reported as failed.
 */
export async function burnAll(s: PanicPort): Promise<BurnAllResult> {
  const uids = Object.keys(s.book);
  let burned = 0;
  const failed: string[] = [];
  const giveUp = (i: number, e: unknown): BurnAllResult => {
    const rest = uids.slice(i);
    s.warn(`the relay cannot be reached (${messageOf(e)}): ${rest.length} room(s) not burned`);
    return { burned, failed: [...failed, ...rest] };
  };
  if (uids.length === 0) return { burned, failed };
  try {
    await s.relay(); // the route (Tor, consent) first: without one, no burn can work
  } catch (e) {
    return giveUp(0, e);
  }
  for (const [i, uid] of uids.entries()) {
    try {
      await s.burn(uid);
      burned++;
    } catch (e) {
      if (e instanceof RelayError && e.status === 0) return giveUp(i, e); // no HTTP answer
      failed.push(uid);
      s.warn(`could not burn the room with ${uid}: ${messageOf(e)}`);
    }
  }
  return { burned, failed };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
