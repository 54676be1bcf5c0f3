// PROTOCOL §7.4: a room has exactly two members, fixed when it is created. Every route that
// touches a room (send, fetch, burn, files, live) answers only its members.
import type { Relay } from "./context.ts";

export async function isMember(relay: Relay, roomId: string, uid: string): Promise<boolean> {
  const members = await relay.store.getRoom(roomId);
  return members !== null && (members[0] === uid || members[1] === uid);
}
