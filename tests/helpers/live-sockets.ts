// Test helper for live-socket limits (PROTOCOL §7.9, §7.10): an identity's rooms, sockets that
// never read, maximum-size messages. Shared by tests/relay-live-limits.test.ts and the
// ws-backpressure attack of ./build.sh bench abuse.
import * as c from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { MAX_CIPHERTEXT_BYTES } from "../../lib/wire.ts";
import { rawUpgrade, type RawUpgrade } from "./raw-ws.ts";
import { makeUser, register, signed, signHeaders, type TestUser } from "./signer.ts";

export interface Room {
  roomId: string;
  partner: TestUser;
}

/** `rooms` rooms of `user` (each with a fresh registered partner), joined by /ke/push (§7.4). */
export async function roomsOf(url: string, user: TestUser, rooms: number): Promise<Room[]> {
  const out: Room[] = [];
  for (let i = 0; i < rooms; i++) {
    const partner = makeUser();
    await register(url, partner);
    const roomId = c.pairKeys(user, partner.encPub).roomId;
    const body = { from_uid: user.uid, to_uid: partner.uid, pub_key: user.pubB64, room_id: roomId };
    const r = await signed(url, user, "POST", "/ke/push", body);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`/ke/push: ${r.status}`);
    out.push({ roomId, partner });
  }
  return out;
}

/** A signed §7.9 upgrade of a socket that never reads. */
export async function openNonReader(url: string, u: TestUser, roomId: string): Promise<RawUpgrade> {
  const path = `/ws/${roomId}`;
  return await rawUpgrade(url, path, signHeaders(u, "GET", path, new Uint8Array(0)));
}

/** One maximum-size §7.6 message. */
export function maxCiphertext(): string {
  return b64encode(c.randomBytes(MAX_CIPHERTEXT_BYTES));
}
