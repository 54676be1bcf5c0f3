// What the relay still holds of a conversation, read with a compiled client's own identity: with
// protocol v3 a client's `read` shows its local history too, so "the relay burned it" is checked here.
import { Session } from "../../client/core/session.ts";
import { closeState } from "../../client/state/state-db.ts";
import { torConfigFromEnv } from "../../lib/tor.ts";
import { PASSWORD } from "./cli.ts";

/** How many rows the relay holds of the room between the identity in `home` and `peer` (PROTOCOL §7.6). */
export async function relayRowCount(home: string, relayUrl: string, peer: string): Promise<number> {
  const tor = torConfigFromEnv({ PHANTOM_TOR: "never" });
  const s = await Session.open({ home, password: PASSWORD, relayUrl, tor, direct: false });
  try {
    return (await (await s.relay()).allRows(s.roomOf(peer))).length;
  } finally {
    s.close();
    closeState(home);
  }
}
