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

/** A live socket (PROTOCOL §7.9) whose frames are queued for next(). */
export class LiveSocket {
  private readonly frames: unknown[] = [];
  private waiter: ((f: unknown) => void) | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(base: string, u: TestUser, roomId: string) {
    const path = `/ws/${roomId}`;
    this.ws = new WebSocket(`${base.replace("http", "ws")}${path}`, {
      headers: signHeaders(u, "GET", path, new Uint8Array(0)),
    } as unknown as string[]);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("websocket refused"));
    });
    this.closed = new Promise((resolve) => (this.ws.onclose = (e) => resolve(e.code)));
    this.ws.onmessage = (e) => {
      const f = JSON.parse(String(e.data));
      if (this.waiter) {
        this.waiter(f);
        this.waiter = null;
      } else this.frames.push(f);
    };
  }

  next(): Promise<unknown> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift());
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** Two users and their room on every relay of `urls` (relays with stores of their own: issue 13 --live tests). */
export async function pairOn(urls: string[]): Promise<{ a: TestUser; b: TestUser; roomId: string }> {
  const a = makeUser();
  const b = makeUser();
  const roomId = c.pairKeys(a, b.encPub).roomId;
  for (const url of urls) {
    for (const u of [a, b]) if ((await register(url, u)).status !== 200) throw new Error("register failed");
    const body = { from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId };
    const r = await signed(url, a, "POST", "/ke/push", body);
    if (r.status !== 200) throw new Error(`/ke/push: ${r.status}`);
  }
  return { a, b, roomId };
}
