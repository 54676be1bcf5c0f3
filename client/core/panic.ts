// Panic, the relay's half: burn every known room (PROTOCOL §7.7). The identity is deleted at
// once, but the relay allows 10 burns per 10 minutes: the rooms not burned yet stay in a sealed
// burn list (state/burn-list.ts) with only what a burn needs, until `phantom panic --finish`
// (finishPanic) has burned them all. Deleting $PHANTOM_HOME is state/wipe.ts.

import type { TorConfig } from "../../lib/tor.ts";
import { type BurnKey, RelayClient } from "../net/relay-client.ts";
import { isPermanent, RelayError } from "../net/relay-error.ts";
import { directRefused, planRelayRoute, transportFor } from "../net/route.ts";
import {
  burnListLeft,
  type BurnRelay,
  hasBurnList,
  closeBurnList,
  createBurnList,
  type OpenBurnList,
  openBurnListFile,
  roomsLeft,
  updateBurnList,
} from "../state/burn-list.ts";
import { BURN_LIST_FILE } from "../state/home.ts";
import { removeEmptyHome, wipeHome } from "../state/wipe.ts";
import type { Burner, PanicPort } from "./ports.ts";

export type { Burner } from "./ports.ts";

/** The longest Retry-After (seconds) one run waits for; one §7.7 window of the default relay is 600 s. */
export const BURN_WAIT_MAX_S = 900;
/** A 429 without a Retry-After is waited for this long. */
const RETRY_AFTER_DEFAULT_S = 60;

export interface BurnProgress {
  warn: (message: string) => void;
  /**
   * Waiting for the relay's burn limit, called once a second with the rooms left, the rooms of
   * the run and the seconds to wait. Absent: no waiting; the rooms left stay in the burn list.
   */
  onWait?: (left: number, total: number, seconds: number) => void;
}

export interface BurnRunResult {
  burned: number;
  /** Rooms the relay refused for good (not a member, bad burn key…): dropped from the list. */
  failed: string[];
  /** Rooms still in the burn list. */
  left: number;
  /** Rooms the run started with. */
  total: number;
}

export interface PanicResult extends Omit<BurnRunResult, "failed"> {
  /** UIDs whose room the relay refused for good. */
  failed: string[];
  /** What was in $PHANTOM_HOME that is not Phantom's, left in place (see wipeHome). */
  kept: string[];
}

/**
 * Panic: write the burn list (every room), delete everything else in $PHANTOM_HOME, then burn
 * from the list. The identity is gone before the first burn; the list goes once it is empty.
 */
export async function panic(s: PanicPort, p: BurnProgress): Promise<PanicResult> {
  const uidOfRoom = new Map<string, string>();
  const unusable: string[] = [];
  for (const uid of Object.keys(s.book)) {
    try {
      uidOfRoom.set(s.roomOf(uid), uid);
    } catch (e) {
      unusable.push(uid); // a contact whose key gives no room: nothing a burn could name
      p.warn(`could not burn the room with ${uid}: ${messageOf(e)}`);
    }
  }
  if (uidOfRoom.size === 0) {
    // PROTOCOL-v3 §V3.1: still clear the prekey bundle, but never wait long for it: nothing to burn.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([clearBundle(s, p), new Promise<void>((done) => (timer = setTimeout(done, CLEAR_WAIT_MS)))]);
    clearTimeout(timer);
    s.close();
    const n = unusable.length;
    return { burned: 0, failed: unusable, left: 0, total: n, kept: wipeHome(s.home, { keep: [BURN_LIST_FILE] }) };
  }
  // The route (Tor, consent) and the relay's auth key first: the burn key is derived now,
  // while the X25519 key is still in memory; the list never holds that key.
  let auth: BurnKey | null = null;
  let unreachable: unknown = null;
  try {
    const relay = await s.relay();
    auth = await relay.burnAuth();
    await clearBundle(s, p);
  } catch (e) {
    unreachable = e;
  }
  if (hasBurnList(s.home)) {
    // One list per home: an earlier identity's list cannot be merged into this one (nor a corrupt one read).
    let what = "an unreadable one";
    try {
      what = `${burnListLeft(s.home)} room(s)`;
    } catch {
      // said as unreadable: a panic never stops at a bad file
    }
    p.warn(`the burn list of an earlier panic (${what}) is replaced: those rooms stay on the relay until they expire`);
  }
  const seed = s.burnSeed();
  const relay: BurnRelay = {
    url: seed.url,
    authPub: auth?.authPub ?? null,
    burnKey: auth === null ? null : Uint8Array.from(auth.key),
    rooms: [...uidOfRoom.keys()],
  };
  const opened = await createBurnList(
    s.home,
    { uid: seed.uid, signSeed: seed.signSeed, relays: [relay] },
    seed.password,
  );
  s.close();
  const kept = wipeHome(s.home, { keep: [BURN_LIST_FILE] });
  try {
    const r = await burnFromList(
      s.home,
      opened,
      async (rel) => {
        if (unreachable !== null) throw unreachable;
        return s.burner(
          opened.list.signSeed,
          rel.authPub && rel.burnKey ? { authPub: rel.authPub, key: rel.burnKey } : null,
        );
      },
      p,
    );
    if (r.left === 0) removeEmptyHome(s.home);
    const failed = [...unusable, ...r.failed.map((room) => uidOfRoom.get(room) ?? room)];
    return { ...r, failed, total: r.total + unusable.length, kept };
  } finally {
    closeBurnList(opened);
  }
}

/** How long a panic with nothing to burn waits for the relay to clear the prekey bundle. */
const CLEAR_WAIT_MS = 5000;

/** PROTOCOL-v3 §V3.1 `{"clear": true}`: nobody can start a v3 session with an identity about to be gone. */
async function clearBundle(s: PanicPort, p: BurnProgress): Promise<void> {
  try {
    const relay = await s.relay();
    if (await relay.offersV3()) await relay.publishPrekeys({ clear: true });
  } catch (e) {
    p.warn(`the prekey bundle could not be cleared on the relay: ${messageOf(e)}`);
  }
}

/** What `phantom panic --finish` needs: the folder, the password and how to reach the relay. */
export interface FinishConfig {
  home: string;
  password: string;
  tor: TorConfig;
  direct: boolean;
  confirmDirect?: (reason: string) => Promise<boolean>;
}

/**
 * `phantom panic --finish`: open the burn list with the password and burn what is left; null when
 * there is no burn list. Once it is empty, the folder goes too if nothing else is in it.
 */
export async function finishPanic(c: FinishConfig, p: BurnProgress): Promise<BurnRunResult | null> {
  const opened = await openBurnListFile(c.home, c.password);
  if (opened === null) return null;
  let consent: boolean | null = null;
  const connect = async (rel: BurnRelay): Promise<Burner> => {
    const route = await planRelayRoute(rel.url, c.tor);
    const transport = transportFor(route);
    const plan = route.plan!;
    if (plan.needsConsent) {
      if (c.direct) {
        p.warn(`connecting to the relay directly: ${plan.reason}`);
      } else {
        consent ??= c.confirmDirect ? await c.confirmDirect(plan.reason) : false;
        if (!consent) throw directRefused(rel.url, plan);
      }
    }
    const burnKey = rel.authPub && rel.burnKey ? { authPub: rel.authPub, key: rel.burnKey } : null;
    const signer = { uid: opened.list.uid, signSeed: opened.list.signSeed, encPriv: null };
    return new RelayClient({ baseUrl: rel.url, transport, signer, burnKey });
  };
  try {
    const r = await burnFromList(c.home, opened, connect, p);
    if (r.left === 0) removeEmptyHome(c.home);
    return r;
  } finally {
    closeBurnList(opened);
  }
}

/**
 * Burn the rooms of the list, relay by relay, taking each burned (or refused for good) room off
 * the list on disk at once. A 429 is waited for (PROTOCOL §7.7 Retry-After) when `p.onWait` is
 * given and the wait is at most BURN_WAIT_MAX_S; otherwise the relay's other rooms stay in the
 * list. A relay that gives no answer keeps all its rooms; other failures keep the one room.
 */
export async function burnFromList(
  home: string,
  opened: OpenBurnList,
  connect: (relay: BurnRelay) => Promise<Burner>,
  p: BurnProgress,
): Promise<BurnRunResult> {
  const total = roomsLeft(opened.list);
  let burned = 0;
  const failed: string[] = [];
  const drop = (url: string, room: string) =>
    updateBurnList(home, opened, (l) => {
      for (const r of l.relays) if (r.url === url) r.rooms = r.rooms.filter((x) => x !== room);
      l.relays = l.relays.filter((r) => r.rooms.length > 0);
    });
  for (const rel of [...opened.list.relays]) {
    let burner: Burner;
    try {
      burner = await connect(rel);
    } catch (e) {
      p.warn(`the relay cannot be reached (${messageOf(e)}): ${rel.rooms.length} room(s) not burned`);
      continue;
    }
    relay: for (const room of [...rel.rooms]) {
      for (;;) {
        try {
          await burner.burn(room);
          burned++;
          drop(rel.url, room);
          break;
        } catch (e) {
          if (e instanceof RelayError && e.status === 429) {
            const wait = e.retryAfter ?? RETRY_AFTER_DEFAULT_S;
            if (p.onWait && wait <= BURN_WAIT_MAX_S) {
              await countdown(wait, (sec) => p.onWait!(roomsLeft(opened.list), total, sec));
              continue;
            }
            break relay; // the relay's burn limit: the rest waits for `phantom panic --finish`
          }
          if (e instanceof RelayError && e.status === 0) {
            p.warn(`the relay cannot be reached (${messageOf(e)}): ${roomsLeft(opened.list)} room(s) not burned`);
            break relay;
          }
          if (isPermanent(e)) {
            failed.push(room);
            drop(rel.url, room);
          }
          p.warn(`could not burn a room: ${messageOf(e)}`);
          break;
        }
      }
    }
  }
  return { burned, failed, left: roomsLeft(opened.list), total };
}

async function countdown(seconds: number, tick: (secondsLeft: number) => void): Promise<void> {
  for (let s = seconds; s > 0; s--) {
    tick(s);
    await Bun.sleep(1000);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
