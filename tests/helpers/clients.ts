// Test helper: RelayClient instances for end-to-end tests against the real relay.
import { expect } from "bun:test";
import * as c from "../../lib/crypto.ts";
import { Transport } from "../../lib/transport.ts";
import type { WsFrame } from "../../lib/wire.ts";
import { RelayClient, RelayError, type LiveOptions } from "../../client/net/relay-client.ts";
import { within } from "./deadline.ts";
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
export async function restartOnSamePort(old: RunningRelay, args: string[] = []): Promise<RunningRelay> {
  for (let i = 0; ; i++) {
    try {
      return await startRelay({ dataDir: old.dataDir, args: ["--port", String(old.port), ...args] });
    } catch (e) {
      if (i >= 50) throw e;
      await Bun.sleep(100);
    }
  }
}

/**
 * `cl.live()` on one room (pollMs 100 unless `o` says otherwise): the frames it delivers,
 * `ready` with the way it connected, `count(n)` until n frames came (or a failure saying how
 * many did), and `stop`.
 */
export async function listenLive(cl: RelayClient, roomId: string, o: Partial<LiveOptions> = {}) {
  const stop = new AbortController();
  const frames: WsFrame[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let connected!: (via: string) => void;
  let connects = 0;
  let retries = 0;
  /** The error of each retry, in order (e.g. "live connection closed (1013)"). */
  const retryErrors: string[] = [];
  // At most 20 s; handled here so that a test that never awaits it is not failed by it.
  const ready = within(
    new Promise<string>((r) => (connected = r)),
    20_000,
    () =>
      `live did not connect in 20 s; ${retries} retries${retryErrors.length > 0 ? `: ${retryErrors.slice(-3).join("; ")}` : ""}`,
  );
  ready.catch(() => {});
  const done = cl.live(
    [roomId],
    (room, f) => {
      expect(room).toBe(roomId);
      frames.push(f);
      for (const w of waiters) if (frames.length >= w.n) w.resolve();
    },
    {
      signal: stop.signal,
      pollMs: 100,
      ...o,
      onStatus: (s) =>
        s.state === "connected" ? (connects++, connected(s.via)) : (retries++, retryErrors.push(s.error)),
    },
  );
  /** Until `n` frames came; after `timeoutMs` fails with the frames that came and the retries. */
  const count = (n: number, timeoutMs = 30_000) =>
    within(
      new Promise<void>((resolve) => (frames.length >= n ? resolve() : waiters.push({ n, resolve }))),
      timeoutMs,
      () =>
        `got ${frames.length} of ${n} frames in ${timeoutMs / 1000} s: ` +
        `${JSON.stringify(frames.slice(-3)).slice(0, 500)}; connects ${connects}, retries ${retries}` +
        (retryErrors.length > 0 ? ` (last: ${retryErrors[retryErrors.length - 1]})` : ""),
    );
  return {
    frames,
    ready,
    count,
    stats: () => ({ connects, retries }),
    retryErrors,
    stop: async () => (stop.abort(), await done),
  };
}
