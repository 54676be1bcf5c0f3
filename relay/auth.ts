// PROTOCOL §6 request signing, checked by the relay: the four headers, the
// 300 s window, the replay cache per UID, and a native Ed25519 verify with a
// cached KeyObject per user. PROTOCOL-v3 §V11: `x-phantom-sigv: 3` selects the relay-bound
// canonical string, checked against each of the relay's public origins; no header is v2.
import type { KeyObject } from "node:crypto";
import { ed25519VerifyKey, verify } from "../lib/crypto.ts";
import { b64udecode } from "../lib/encoding.ts";
import { H_SIGV, SIGV_V3, verifyRequestV3 } from "../lib/v3/request-sig.ts";
import { canonicalRequest, H_NONCE, H_SIG, H_TS, H_UID, SIGNATURE_WINDOW_S, SignedHeaders } from "../lib/wire.ts";
import { unauthorized } from "./errors.ts";
import type { Store, UserRecord } from "./store.ts";
import type { WriteQueue } from "./writes.ts";

/** PROTOCOL §6: a timestamp at most 300 s from the relay's clock (either side) is fresh. */
export function withinWindow(ts: number, now: number): boolean {
  return Math.abs(now - ts) <= SIGNATURE_WINDOW_S;
}

/**
 * Nonces seen per UID while their request could still be accepted (until ts + 300).
 * Entries are bucketed by expiry second, so sweeping costs only what expired.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();

  static key(uid: string, nonce: string): string {
    return `${uid} ${nonce}`;
  }

  has(key: string, now: number): boolean {
    const expires = this.seen.get(key);
    return expires !== undefined && expires >= now;
  }

  add(key: string, expires: number): void {
    this.seen.set(key, expires);
    const bucket = this.buckets.get(expires);
    if (bucket) bucket.push(key);
    else this.buckets.set(expires, [key]);
  }

  /** Forget entries that expired before `now`. */
  sweep(now: number): void {
    for (const [expires, keys] of this.buckets) {
      if (expires >= now) continue;
      for (const k of keys) if (this.seen.get(k) === expires) this.seen.delete(k);
      this.buckets.delete(expires);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

export interface KnownUser {
  record: UserRecord;
  verifyKey: KeyObject;
}

/** Headers checked before the body is read: who, when, which nonce. */
export interface PendingAuth {
  user: KnownUser;
  uid: string;
  ts: string;
  tsNum: number;
  nonce: string;
  sig: Uint8Array;
  /** PROTOCOL-v3 §V11: 3 when the request carries `x-phantom-sigv: 3`, else 2 (PROTOCOL §6). */
  sigv: 2 | 3;
}

const USER_CACHE_MAX = 100_000;

export class Authenticator {
  private readonly users = new Map<string, KnownUser>();
  readonly replay = new ReplayCache();
  /** Nonces of requests whose body is still arriving (uploads): a copy of one is a replay at once. */
  private readonly held = new Set<string>();
  private readonly store: Store;
  private readonly writes: WriteQueue;
  /** PROTOCOL-v3 §V11: the relay's public origins (normalised); empty: v3 signatures are refused. */
  origins: readonly string[];

  private constructor(store: Store, writes: WriteQueue, origins: readonly string[]) {
    this.store = store;
    this.writes = writes;
    this.origins = origins;
  }

  /** With the replay cache reloaded from the store's unexpired entries (a restart). */
  static async open(store: Store, writes: WriteQueue, now: number, origins: readonly string[] = []) {
    const a = new Authenticator(store, writes, origins);
    // A shared store decides replays itself (claimNonce); memory then only answers early.
    if (!store.claimNonce) for (const { key, expires } of await store.liveNonces(now)) a.replay.add(key, expires);
    return a;
  }

  /** A registered user with a cached native verification key, or null. */
  async user(uid: string): Promise<KnownUser | null> {
    const cached = this.users.get(uid);
    if (cached) return cached;
    const record = await this.store.getUser(uid);
    if (!record) return null;
    const known = { record, verifyKey: ed25519VerifyKey(record.signPub) };
    if (this.users.size >= USER_CACHE_MAX) this.users.clear();
    this.users.set(uid, known);
    return known;
  }

  /** PROTOCOL §6, the parts that need no body: headers present and well formed, fresh, known UID. */
  async precheck(headers: Headers, now: number): Promise<PendingAuth> {
    const parsed = SignedHeaders.safeParse({
      [H_UID]: headers.get(H_UID),
      [H_TS]: headers.get(H_TS),
      [H_NONCE]: headers.get(H_NONCE),
      [H_SIG]: headers.get(H_SIG),
    });
    if (!parsed.success) throw unauthorized("missing or malformed signature headers");
    // PROTOCOL-v3 §V11: a sigv other than 3 is 401; v3 needs the relay to have origins.
    const sigvText = headers.get(H_SIGV);
    if (sigvText !== null && sigvText !== SIGV_V3) throw unauthorized("unsupported signature version");
    const sigv = sigvText === null ? 2 : 3;
    if (sigv === 3 && this.origins.length === 0) {
      throw unauthorized("this relay has no public origin: it accepts only v2 signatures");
    }
    const h = parsed.data;
    const tsNum = Number(h[H_TS]);
    if (!withinWindow(tsNum, now)) throw unauthorized("timestamp outside the allowed window");
    const user = await this.user(h[H_UID]);
    if (!user) throw unauthorized("unknown uid");
    if (this.replay.has(ReplayCache.key(h[H_UID], h[H_NONCE]), now)) throw unauthorized("replayed nonce");
    return { user, uid: h[H_UID], ts: h[H_TS], tsNum, nonce: h[H_NONCE], sig: b64udecode(h[H_SIG]), sigv };
  }

  /**
   * PROTOCOL §6 for a request whose body takes long (an upload): its nonce is held from now until
   * the returned function is called, so a copy sent meanwhile is refused (401) before its body is
   * read, and cannot take the original's upload slot (relay/quota.ts UploadSlots).
   */
  hold(p: PendingAuth): () => void {
    const key = ReplayCache.key(p.uid, p.nonce);
    if (this.held.has(key)) throw unauthorized("replayed nonce");
    this.held.add(key);
    return () => this.held.delete(key);
  }

  /**
   * PROTOCOL §6 (or PROTOCOL-v3 §V11 for sigv 3, tried under each origin): verify the signature,
   * then remember the nonce. One replay cache covers both versions: a nonce is spent either way.
   */
  async finish(p: PendingAuth, method: string, path: string, bodySha256: Uint8Array, now: number): Promise<void> {
    if (p.sigv === 3) {
      const m = method.toUpperCase();
      const origin = verifyRequestV3(p.user.verifyKey, this.origins, m, path, p.uid, p.ts, p.nonce, bodySha256, p.sig);
      if (origin === null) throw unauthorized("bad signature");
    } else {
      const canonical = canonicalRequest(method, path, p.uid, p.ts, p.nonce, bodySha256);
      if (!verify(p.user.verifyKey, canonical, p.sig)) throw unauthorized("bad signature");
    }
    const key = ReplayCache.key(p.uid, p.nonce);
    // Checked again: another request with this nonce may have finished while our body streamed in.
    if (this.replay.has(key, now)) throw unauthorized("replayed nonce");
    const expires = p.tsNum + SIGNATURE_WINDOW_S;
    if (this.store.claimNonce) {
      // Several relays share the store: the nonce is spent once for all of them, before the
      // request does anything (a replay sent to another instance is refused there).
      if (!(await this.store.claimNonce(key, expires))) throw unauthorized("replayed nonce");
      this.replay.add(key, expires);
      return;
    }
    this.replay.add(key, expires);
    this.writes.post((tx) => tx.addNonce(key, expires));
  }
}
