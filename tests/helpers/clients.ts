// Test helper: RelayClient instances for end-to-end tests against the real relay.
import { expect } from "bun:test";
import * as c from "../../lib/crypto.ts";
import { Transport } from "../../lib/transport.ts";
import { RelayClient, RelayError } from "../../client/relay-client.ts";
import { startRelay, type RunningRelay } from "./relay.ts";
import { makeUser, type TestUser } from "./signer.ts";

const direct = new Transport({ via: "direct" });

/** A direct client for `base`, signing as `u` when given. */
export function client(base: string, u?: TestUser, o: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) {
  const signer = u && { uid: u.uid, signSeed: u.signSeed, encPriv: u.encPriv };
  return new RelayClient({ baseUrl: base, transport: direct, signer, retryDelayMs: 10, ...o });
}

export async function fails(p: Promise<unknown>): Promise<RelayError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RelayError);
  const r = e as RelayError;
  expect(r.message).not.toContain("\n");
  return r;
}

/** Two registered users in one room, each with a client. */
export async function pairUp(base: string) {
  const a = makeUser();
  const b = makeUser();
  const ca = client(base, a);
  const cb = client(base, b);
  expect(await ca.register(a.uid, a.pubB64, a.signPubB64u)).toBe("created");
  expect(await cb.register(b.uid, b.pubB64, b.signPubB64u)).toBe("created");
  const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
  await ca.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
  return { a, b, ca, cb, roomId, sessionKey };
}

/** Start a stopped relay again on its port and data; the port may linger in use for a moment after a stop. */
export async function restartOnSamePort(old: RunningRelay): Promise<RunningRelay> {
  for (let i = 0; ; i++) {
    try {
      return await startRelay({ dataDir: old.dataDir, args: ["--port", String(old.port)] });
    } catch (e) {
      if (i >= 50) throw e;
      await Bun.sleep(100);
    }
  }
}
