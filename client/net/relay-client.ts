// The client side of PROTOCOL §7: every relay endpoint, signed per §6, every
// answer validated with lib/wire schemas, failures turned into one-line RelayErrors.
// Bounded retries only for idempotent requests, or when nothing was sent.

import { burnAuthKey, burnSignature, randomBytes, sha256, sign, uidOf } from "../../lib/crypto.ts";
import { b64decode, b64uencode, utf8 } from "../../lib/encoding.ts";
import { PhantomError, WireError } from "../../lib/errors.ts";
import { createHash } from "node:crypto";
import { TransportError, type BodySinkFor, type Transport, type TransportResponse } from "../../lib/transport.ts";
import * as w from "../../lib/wire.ts";
import { z } from "zod";
import { PrekeyCounts, PrekeyStatus, type PrekeyUpload } from "../../lib/v3/prekey-wire.ts";
import { MarkerScan, multipartBody, multipartFrame } from "./multipart.ts";
import { doing, failure, RelayError, refused } from "./relay-error.ts";
import { RequestSlots } from "./request-slots.ts";
import { runLive, type LiveOptions } from "./live.ts";
import { checkRelayUrl } from "./route.ts";
import { H_SIGV, normaliseOrigin, SIGV_V3, signRequestV3 } from "../../lib/v3/request-sig.ts";
import { formatBytes } from "../text/format.ts";

export { RelayError } from "./relay-error.ts";
export type { LiveOptions, LiveStatus } from "./live.ts";

export interface Signer {
  uid: string;
  signSeed: Uint8Array;
  /** The X25519 identity key, for the §7.7 burn key; null: only the burn key given in the options is known. */
  encPriv: Uint8Array | null;
}

/** PROTOCOL §7.7: the burn HMAC key for one relay auth key (b64). */
export interface BurnKey {
  authPub: string;
  key: Uint8Array;
}

export interface RelayClientOptions {
  baseUrl: string;
  transport: Transport;
  signer?: Signer;
  /** Per request (default 30 s); transfers get more, scaled by size, and fail after this long without progress. */
  timeoutMs?: number;
  /** Extra attempts for idempotent requests and for failures before sending (default 2). */
  retries?: number;
  /** First pause between attempts, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  /** Largest file blob accepted from /file (default 1 GiB). */
  maxDownloadBytes?: number;
  /** A §7.7 burn key already derived (a panic's burn list), for a signer without `encPriv`. */
  burnKey?: BurnKey | null;
  /** PROTOCOL-v3 §V11 relay-bound signatures and their pin; without it every request is signed as in v2. */
  sigV3?: SigV3Pins;
}

// PROTOCOL-v3 §V3: a prekey object as published, and the answers of §V3.1 and §V3.2.
export type { PrekeyObject, PrekeyStatus, PrekeyUpload } from "../../lib/v3/prekey-wire.ts";

/** Where a client remembers the relays it signs for with §V11 (the pin), and whom it asks. */
export interface SigV3Pins {
  pinned(origin: string): boolean;
  pin(origin: string): void;
  unpin(origin: string): void;
  /**
   * A pinned relay's /health no longer offers v3: may requests go on with v2 signatures? (A yes
   * on a terminal; false refuses every signed request to it.)
   */
  confirmDowngrade(origin: string): Promise<boolean>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 2;
/** Transfers may take as long as this slow a link needs, on top of the base timeout. */
export const MIN_TRANSFER_BYTES_PER_S = 50_000;
const MAX_JSON_RESPONSE_BYTES = 32 * 1024 * 1024;
const RETRY_STATUS = new Set([502, 503, 504]);
const FILE_PATH_RE = /^\/file\/[A-Za-z0-9_-]{1,512}$/;

interface Call {
  method: "GET" | "POST";
  path: string;
  /** "POST /send", "GET /file": names the request in messages without ids. */
  label: string;
  body?: Uint8Array;
  /** A body streamed instead (opened afresh for each attempt), with its length and SHA-256 known beforehand. */
  stream?: { open(): ReadableStream<Uint8Array>; length: number; sha256: Uint8Array };
  contentType?: string;
  signed: boolean;
  idempotent: boolean;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxBytes?: number;
  onUp?: (done: number, total: number) => void;
  onDown?: (done: number, total: number) => void;
  extraHeaders?: (signed: Record<string, string>) => Record<string, string>;
  signal?: AbortSignal;
  /** Stream the response body into a sink (lib/transport.ts bodySink). */
  bodySink?: BodySinkFor;
  /** False once a retry would repeat something already handed on (a streamed body part). */
  mayRetry?: () => boolean;
}

/**
 * A file blob streamed rather than held: `open()` gives its bytes from the start, the same each
 * time. A part must not change once yielded (no reused buffer): the transport may still hold it
 * while the next is made.
 */
export interface BlobSource {
  size: number;
  open(): AsyncIterable<Uint8Array>;
}

/** A body whose SHA-256 is already known (a streamed upload), for signHeaders. */
export interface BodyDigest {
  sha256: Uint8Array;
}

/** The most /fetch pages one conversation is read in (FETCH_LIMIT_MAX rows each). */
export const MAX_HISTORY_PAGES = 500;

export class RelayClient {
  readonly baseUrl: string;
  readonly transport: Transport;
  readonly signer: Signer | null;
  readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxDownloadBytes: number;
  private lastHealth: w.HealthResponse | null = null;
  /** Whether this relay's rows carry seq (§7.6.1); null until a row was seen. */
  private relayHasSeq: boolean | null = null;
  private burnKey: BurnKey | null;
  private readonly slots = new RequestSlots();
  private readonly sigV3: SigV3Pins | null;
  /** The §V11 origin signed for, null for v2 signatures; undefined until decided (asks /health once). */
  private sigOrigin: Promise<string | null> | undefined;

  constructor(o: RelayClientOptions) {
    this.baseUrl = checkRelayUrl(o.baseUrl);
    this.transport = o.transport;
    this.signer = o.signer ?? null;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = o.retries ?? DEFAULT_RETRIES;
    this.retryDelayMs = o.retryDelayMs ?? 250;
    this.maxDownloadBytes = o.maxDownloadBytes ?? 1024 ** 3;
    this.burnKey = o.burnKey ?? null;
    this.sigV3 = o.sigV3 ?? null;
  }

  /**
   * PROTOCOL-v3 §V11: v3 signatures when the relay's /health lists protocol 3 and our origin among
   * its origins, pinned from then on; a pinned relay that stops offering them gets no signed
   * request until the user agrees. A base URL with a path (a relay behind a prefix) signs as v2:
   * the relay cannot know the path it is reached under.
   */
  private signatureOrigin(): Promise<string | null> {
    this.sigOrigin ??= (async () => {
      if (this.sigV3 === null) return null;
      const origin = normaliseOrigin(this.baseUrl);
      if (new URL(this.baseUrl).pathname.replace(/\/+$/, "") !== "") return null;
      const h = this.lastHealth ?? (await this.health());
      if (h.protocols?.includes(3) && h.origins?.includes(origin)) {
        if (!this.sigV3.pinned(origin)) this.sigV3.pin(origin);
        return origin;
      }
      if (!this.sigV3.pinned(origin)) return null;
      if (await this.sigV3.confirmDowngrade(origin)) {
        this.sigV3.unpin(origin);
        return null;
      }
      throw new RelayError(
        "sigv3-withdrawn",
        `the relay ${origin} offered relay-bound signatures (protocol v3) before and does not now: not sending it signed requests (confirm the change on a terminal if the relay was really downgraded)`,
      );
    })();
    this.sigOrigin.catch(() => (this.sigOrigin = undefined));
    return this.sigOrigin;
  }

  /** PROTOCOL §7.1 */
  async health(): Promise<w.HealthResponse> {
    const call: Call = { method: "GET", path: "/health", label: "GET /health", signed: false, idempotent: true };
    this.lastHealth = await this.json(call, w.HealthResponse);
    return this.lastHealth;
  }

  /** PROTOCOL §7.10: how many days the relay keeps messages, when its /health says; else null. */
  async messageRetentionDays(): Promise<number | null> {
    return (await this.health()).retention?.messages_days ?? null;
  }

  /** PROTOCOL §7.2: 409 means the UID is already registered (create-only). */
  async register(uid: string, pubKeyB64: string, signPubB64u: string): Promise<"created" | "exists"> {
    const body = jsonBytes(w.RegisterBody, { uid, pub_key: pubKeyB64, sign_pub: signPubB64u }, "register");
    const call: Call = {
      method: "POST",
      path: "/register",
      label: "POST /register",
      body,
      signed: false,
      idempotent: true,
    };
    const res = await this.exchange(call);
    if (res.status === 409) return "exists";
    this.expectOk(call, res, w.OkResponse);
    return "created";
  }

  /** PROTOCOL §7.3: the key, or null if the UID is unknown. The key must hash to the UID (§2). */
  async pubkey(uid: string): Promise<Uint8Array | null> {
    const path = `/pubkey/${encodeURIComponent(uid)}`;
    const call: Call = { method: "GET", path, label: "GET /pubkey", signed: false, idempotent: true };
    const res = await this.exchange(call);
    if (res.status === 404) return null;
    const r = this.expectOk(call, res, w.PubkeyResponse);
    const key = b64decode(r.pub_key);
    if (r.uid !== uid || uidOf(key) !== uid) {
      throw new RelayError("bad-response", `relay sent a key that does not belong to ${uid}`, { status: res.status });
    }
    return key;
  }

  /** PROTOCOL §7.4 (replaces an earlier notice from us, so it is safe to repeat). */
  async kePush(body: w.KePushBody): Promise<void> {
    const bytes = jsonBytes(w.KePushBody, body, "ke/push");
    await this.json({ ...post("/ke/push", bytes), idempotent: true }, w.OkResponse);
  }

  /** PROTOCOL-v3 §V1: the relay's /health lists protocol 3 (asked once). */
  async offersV3(): Promise<boolean> {
    const h = this.lastHealth ?? (await this.health());
    return h.protocols?.includes(3) === true;
  }

  /** PROTOCOL-v3 §V3.2: what the relay holds of our bundle. */
  async prekeyStatus(): Promise<PrekeyStatus> {
    const call: Call = { method: "GET", path: "/v3/prekeys", label: "GET /v3/prekeys", signed: true, idempotent: true };
    return await this.json(call, PrekeyStatus);
  }

  /** PROTOCOL-v3 §V3.1: publish prekeys (or `{clear: true}`); the counts now stored. */
  async publishPrekeys(body: PrekeyUpload | { clear: true }): Promise<{ opks: number; opqks: number }> {
    const bytes = utf8.encode(JSON.stringify(body));
    return await this.json({ ...post("/v3/prekeys", bytes), idempotent: true }, PrekeyCounts);
  }

  /**
   * PROTOCOL-v3 §V3.3: someone's bundle as the relay sent it (the caller checks it: lib/v3/bundle.ts
   * checkBundle), or null when the relay has none (404). Not retried: each answer may hand out one-time keys.
   */
  async fetchBundle(uid: string): Promise<unknown | null> {
    const call = post("/v3/bundle", utf8.encode(JSON.stringify({ uid })));
    const res = await this.exchange(call);
    if (res.status === 404) return null;
    return this.expectOk(call, res, z.unknown());
  }

  /** PROTOCOL §7.5: returns and deletes the inbox, so it is never repeated once sent. */
  async kePop(uid: string): Promise<w.KeEntry[]> {
    const path = `/ke/pop/${encodeURIComponent(uid)}`;
    const call: Call = { method: "GET", path, label: "GET /ke/pop", signed: true, idempotent: false };
    return (await this.json(call, w.KePopResponse)).entries;
  }

  /** PROTOCOL §7.6: the relay's timestamp of the stored message. */
  async send(roomId: string, ciphertext: string): Promise<number> {
    if (ciphertext.length > 0 && w.b64DecodedLength(ciphertext) > w.MAX_CIPHERTEXT_BYTES) {
      throw new PhantomError(
        "too-large",
        `message too long: the relay accepts at most ${formatBytes(w.MAX_CIPHERTEXT_BYTES)} of ciphertext`,
      );
    }
    const body = jsonBytes(w.SendBody, { room_id: roomId, ciphertext }, "send");
    return (await this.json(post("/send", body), w.SendResponse)).ts;
  }

  /** PROTOCOL §7.6: newest `limit` messages with ts ≥ sinceTs, oldest first. */
  async fetch(
    roomId: string,
    o: { limit?: number; sinceTs?: number; signal?: AbortSignal } = {},
  ): Promise<w.StoredMessage[]> {
    const fields: w.FetchBody = { room_id: roomId };
    if (o.limit !== undefined) fields.limit = o.limit;
    if (o.sinceTs !== undefined) fields.since_ts = o.sinceTs;
    return (await this.fetchRows(fields, o.signal)).messages;
  }

  /**
   * PROTOCOL §7.7: the burn HMAC key for the relay's auth key, or null when the relay has none
   * (asks /health once). Derived from the X25519 key, or the one given in the options.
   */
  async burnAuth(): Promise<BurnKey | null> {
    const signer = this.needSigner();
    const health = this.lastHealth ?? (await this.health());
    if (!health.auth_required) return null;
    if (health.auth_pub === null) throw new RelayError("bad-response", "relay requires burn auth but has no auth key");
    if (this.burnKey?.authPub !== health.auth_pub) {
      if (signer.encPriv === null) {
        throw new PhantomError(
          "no-burn-key",
          "the relay's burn key changed since the panic (or the relay was not reached then): this room cannot be burned",
        );
      }
      this.burnKey = {
        authPub: health.auth_pub,
        key: burnAuthKey(signer.encPriv, b64decode(health.auth_pub), signer.uid),
      };
    }
    return this.burnKey;
  }

  /** PROTOCOL §7.7: deletes the room's messages and files; adds the burn HMAC when the relay requires it. */
  async burn(roomId: string): Promise<number> {
    const signer = this.needSigner();
    const key = (await this.burnAuth())?.key ?? null;
    const body = jsonBytes(w.BurnBody, { room_id: roomId }, "burn");
    const call: Call = {
      ...post("/burn", body),
      extraHeaders: (h): Record<string, string> =>
        key ? { [w.H_BURN_SIG]: burnSignature(key, signer.uid, roomId, h[w.H_TS]!, h[w.H_NONCE]!) } : {},
    };
    return (await this.json(call, w.BurnResponse)).deleted;
  }

  /**
   * PROTOCOL §7.6.1: the oldest `limit` rows with seq > afterSeq, and whether more follow.
   * Only for a relay whose rows carry `seq` (a 2.2.x relay refuses after_seq with 400).
   */
  async fetchAfter(
    roomId: string,
    afterSeq: number,
    o: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<{ messages: w.StoredMessage[]; more: boolean }> {
    const fields: w.FetchBody = { room_id: roomId, after_seq: afterSeq };
    if (o.limit !== undefined) fields.limit = o.limit;
    const r = await this.fetchRows(fields, o.signal);
    if (r.more === undefined)
      throw new RelayError("bad-response", "relay sent an invalid answer: more: missing (POST /fetch)");
    return { messages: r.messages, more: r.more };
  }

  /**
   * A room's stored rows, oldest first: every one, paged forward with after_seq, where the relay's
   * rows carry seq (PROTOCOL §7.6.1); else the newest FETCH_LIMIT_MAX (§7.6).
   */
  async allRows(roomId: string): Promise<w.StoredMessage[]> {
    if (this.relayHasSeq !== true) {
      const newest = await this.fetch(roomId, { limit: w.FETCH_LIMIT_MAX });
      if (newest.length > 0) this.relayHasSeq = newest[0]!.seq !== undefined;
      if (this.relayHasSeq !== true) return newest;
    }
    const rows: w.StoredMessage[] = [];
    let after = 0;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const r = await this.fetchAfter(roomId, after, { limit: w.FETCH_LIMIT_MAX });
      rows.push(...r.messages);
      const last = r.messages.at(-1)?.seq;
      // A cursor that does not move would page forever: what came so far is the answer.
      if (!r.more || last === undefined || last <= after) return rows;
      after = last;
    }
    // More rows than any retention holds: keep the oldest pages and the newest rows, once each.
    const newest = await this.fetch(roomId, { limit: w.FETCH_LIMIT_MAX });
    return [...rows, ...newest.filter((m) => m.seq === undefined || m.seq > after)];
  }

  /** PROTOCOL §7.6 POST /fetch; it only reads, so it is retried like a GET. */
  private async fetchRows(fields: w.FetchBody, signal?: AbortSignal) {
    const body = jsonBytes(w.FetchBody, fields, "fetch");
    const call: Call = { ...post("/fetch", body), idempotent: true, signal };
    return await this.json(call, w.FetchResponse);
  }

  /**
   * PROTOCOL §7.10: the largest file blob the relay accepts, as its /health says (asked once),
   * or null when it does not say or cannot be asked (the upload then finds out).
   */
  async maxFileSize(): Promise<number | null> {
    try {
      const h = this.lastHealth ?? (await this.health());
      return h.max_file_size ?? null;
    } catch {
      return null;
    }
  }

  /** PROTOCOL §7.8: multipart upload; progress counts the blob's bytes; `signal` cancels it. */
  async upload(
    roomId: string,
    blob: Uint8Array,
    onProgress?: (sent: number, total: number) => void,
    o: { signal?: AbortSignal } = {},
  ): Promise<w.UploadResponse> {
    const signer = this.needSigner();
    const mp = multipartBody(
      [
        ["room_id", roomId],
        ["sender_id", signer.uid],
      ],
      { field: "file", filename: "blob.bin", type: "application/octet-stream", data: blob },
    );
    const call: Call = {
      ...post("/file/upload", mp.body),
      contentType: mp.contentType,
      timeoutMs: this.transferTimeout(mp.body.length),
      idleTimeoutMs: this.timeoutMs,
      onUp: onProgress && ((sent) => onProgress(Math.min(Math.max(sent - mp.fileStart, 0), blob.length), blob.length)),
      signal: o.signal,
    };
    return await this.json(call, w.UploadResponse);
  }

  /** PROTOCOL §7.8: GET /file/<id>, only a path on our own relay (§5.3). */
  async download(
    path: string,
    onProgress?: (got: number, total: number) => void,
    o: { expectedBytes?: number } = {},
  ): Promise<Uint8Array> {
    if (!FILE_PATH_RE.test(path)) throw new PhantomError("bad-file-path", "file path must look like /file/<id>");
    const max = Math.min(this.maxDownloadBytes, o.expectedBytes ?? this.maxDownloadBytes);
    const call: Call = {
      method: "GET",
      path,
      label: "GET /file",
      signed: true,
      idempotent: true,
      timeoutMs: this.transferTimeout(o.expectedBytes ?? 64 * 1024 * 1024),
      idleTimeoutMs: this.timeoutMs,
      maxBytes: max,
      onDown: onProgress,
    };
    const res = await this.exchange(call);
    if (res.status !== 200) throw refused(call.label, res);
    return res.body;
  }

  /**
   * PROTOCOL §7.8 multipart upload of a blob that is never held whole (PROTOCOL-v3 §V9 files):
   * the signature (§6, §V11) covers SHA-256 of the whole body, so pass 1 streams
   * prefix ‖ blob ‖ suffix through the hash, pass 2 streams it out with its Content-Length.
   * `blob.open()` is called once per pass (and again for a retry) and must give the same bytes
   * each time: pass 2 hashes them again and withholds the body's last bytes if they differ, so
   * the relay never stores a blob other than the one signed. Progress counts blob bytes.
   */
  async uploadStream(
    roomId: string,
    blob: BlobSource,
    onProgress?: (sent: number, total: number) => void,
    o: { signal?: AbortSignal } = {},
  ): Promise<w.UploadResponse> {
    const signer = this.needSigner();
    const label = "POST /file/upload";
    const stop = () => {
      if (o.signal?.aborted) throw new RelayError("aborted", `${doing(label)}: cancelled`);
    };
    const fields: [string, string][] = [
      ["room_id", roomId],
      ["sender_id", signer.uid],
    ];
    const part = { field: "file", filename: "blob.bin", type: "application/octet-stream" };
    // Pass 1: the hash (and a boundary that does not occur in the blob: chosen again if it does).
    let frame = multipartFrame(fields, part);
    let digest: Uint8Array;
    for (;;) {
      stop();
      const h = createHash("sha256").update(frame.prefix);
      const scan = new MarkerScan(frame.marker);
      let n = 0;
      for await (const chunk of blob.open()) {
        stop();
        n += chunk.length;
        if (n > blob.size) break;
        h.update(chunk);
        scan.feed(chunk);
      }
      if (n !== blob.size) throw sourceChanged(blob.size, n);
      if (!scan.found) {
        digest = new Uint8Array(h.update(frame.suffix).digest());
        break;
      }
      frame = multipartFrame(fields, part);
    }
    stop();
    const f = frame;
    const length = f.prefix.length + blob.size + f.suffix.length;
    // Pass 2: the same bytes, checked against pass 1 before the last of them go out. A failure of
    // the source itself (it changed, it cannot be read) is what the caller hears, not the broken request.
    let sourceError: { e: unknown } | null = null;
    const open = (): ReadableStream<Uint8Array> => {
      let it: AsyncIterator<Uint8Array> | null = null;
      const h = createHash("sha256").update(f.prefix);
      let n = 0;
      let phase: "prefix" | "blob" | "done" = "prefix";
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            await step(controller);
          } catch (e) {
            sourceError ??= { e };
            throw e;
          }
        },
        async cancel() {
          await it?.return?.();
        },
      });
      async function step(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
        if (phase === "prefix") {
          phase = "blob";
          it = blob.open()[Symbol.asyncIterator]();
          return controller.enqueue(f.prefix);
        }
        if (phase === "done") return controller.close();
        const r = await it!.next();
        if (!r.done) {
          n += r.value.length;
          if (n > blob.size) throw sourceChanged(blob.size, n);
          h.update(r.value);
          return controller.enqueue(r.value);
        }
        phase = "done";
        if (n !== blob.size) throw sourceChanged(blob.size, n);
        if (!equalBytes(new Uint8Array(h.update(f.suffix).digest()), digest)) throw sourceChanged(blob.size, n);
        controller.enqueue(f.suffix);
      }
    };
    const call: Call = {
      method: "POST",
      path: "/file/upload",
      label,
      stream: { open, length, sha256: digest },
      contentType: f.contentType,
      signed: true,
      idempotent: false,
      timeoutMs: this.transferTimeout(length),
      idleTimeoutMs: this.timeoutMs,
      onUp: onProgress && ((sent) => onProgress(Math.min(Math.max(sent - f.prefix.length, 0), blob.size), blob.size)),
      signal: o.signal,
    };
    try {
      return await this.json(call, w.UploadResponse);
    } catch (e) {
      if (sourceError !== null) throw (sourceError as { e: unknown }).e;
      throw e;
    }
  }

  /**
   * PROTOCOL §7.8 GET /file/<id> (only a path on our own relay, §5.3), the body yielded as it
   * arrives and never gathered: at most `expectedBytes` (the blob length the message announced).
   * The next part is read only once the consumer asks for it; stopping early cancels the request.
   * Retried (like `download`) only until a first part was yielded.
   */
  downloadStream(
    path: string,
    o: { expectedBytes: number; onProgress?: (got: number, total: number) => void; signal?: AbortSignal },
  ): AsyncIterable<Uint8Array> {
    if (!FILE_PATH_RE.test(path)) throw new PhantomError("bad-file-path", "file path must look like /file/<id>");
    if (!Number.isSafeInteger(o.expectedBytes) || o.expectedBytes < 0)
      throw new PhantomError("bad-file-size", "the expected file size is not a byte count");
    const max = Math.min(this.maxDownloadBytes, o.expectedBytes);
    return {
      [Symbol.asyncIterator]: () => this.streamFile(path, max, o),
    };
  }

  private async *streamFile(
    path: string,
    max: number,
    o: { expectedBytes: number; onProgress?: (got: number, total: number) => void; signal?: AbortSignal },
  ): AsyncGenerator<Uint8Array> {
    const stop = new AbortController();
    const pipe = new Handoff<Uint8Array>();
    let handedOn = false;
    const call: Call = {
      method: "GET",
      path,
      label: "GET /file",
      signed: true,
      idempotent: true,
      timeoutMs: this.transferTimeout(o.expectedBytes),
      idleTimeoutMs: this.timeoutMs,
      maxBytes: max,
      onDown: o.onProgress,
      signal: o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal,
      bodySink: (status) =>
        status === 200
          ? (part) => {
              handedOn = true;
              return pipe.put(part);
            }
          : null,
      mayRetry: () => !handedOn,
    };
    const done = this.exchange(call).then(
      (res) => (res.status === 200 ? pipe.end() : pipe.fail(refused(call.label, res))),
      (e: unknown) => pipe.fail(e),
    );
    try {
      for (;;) {
        const part = await pipe.take();
        if (part === null) return;
        yield part;
      }
    } finally {
      pipe.close();
      stop.abort();
      await done;
    }
  }

  /** PROTOCOL §7.9 live delivery (WebSocket direct, /fetch polling through Tor); see client/net/live.ts. */
  async live(roomIds: string[], onFrame: (roomId: string, frame: w.WsFrame) => void, opts: LiveOptions): Promise<void> {
    await runLive(this, roomIds, onFrame, opts);
  }

  /**
   * The four PROTOCOL §6 headers for one request (fresh ts and nonce each call); with `origin`,
   * the PROTOCOL-v3 §V11 signature over it and x-phantom-sigv: 3.
   */
  signHeaders(
    method: string,
    path: string,
    body: Uint8Array | BodyDigest,
    origin: string | null = null,
  ): Record<string, string> {
    const signer = this.needSigner();
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = b64uencode(randomBytes(12));
    const digest = body instanceof Uint8Array ? sha256(body) : body.sha256;
    const raw =
      origin === null
        ? sign(signer.signSeed, w.canonicalRequest(method, path, signer.uid, ts, nonce, digest))
        : signRequestV3(signer.signSeed, origin, method, path, signer.uid, ts, nonce, digest);
    const headers: Record<string, string> = {
      [w.H_UID]: signer.uid,
      [w.H_TS]: ts,
      [w.H_NONCE]: nonce,
      [w.H_SIG]: b64uencode(raw),
    };
    if (origin !== null) headers[H_SIGV] = SIGV_V3;
    return headers;
  }

  /** signHeaders with the signature kind this relay gets (asks /health first when it is not known yet). */
  async signedHeaders(method: string, path: string, body: Uint8Array | BodyDigest): Promise<Record<string, string>> {
    return this.signHeaders(method, path, body, await this.signatureOrigin());
  }

  /** Absolute URL of a protocol path (a base URL's own path is kept as a prefix; the signed path is the protocol path). */
  urlOf(path: string): string {
    return this.baseUrl + path;
  }

  private needSigner(): Signer {
    if (!this.signer)
      throw new PhantomError("no-identity", "this request needs an identity (signed request, PROTOCOL §6)");
    return this.signer;
  }

  private transferTimeout(bytes: number): number {
    return this.timeoutMs + Math.ceil((bytes / MIN_TRANSFER_BYTES_PER_S) * 1000);
  }

  private async json<S extends z.ZodType>(call: Call, schema: S): Promise<z.infer<S>> {
    return this.expectOk(call, await this.exchange(call), schema);
  }

  private expectOk<S extends z.ZodType>(call: Call, res: TransportResponse, schema: S): z.infer<S> {
    if (res.status !== 200) throw refused(call.label, res);
    try {
      return w.parseJsonBytes(schema, res.body, "answer");
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      throw new RelayError("bad-response", `relay sent an invalid ${e.message} (${doing(call.label)})`, {
        status: res.status,
        cause: e,
      });
    }
  }

  /** Send with bounded retries; every attempt is signed afresh (new ts and nonce, §6). */
  private async exchange(call: Call): Promise<TransportResponse> {
    const body: Uint8Array | BodyDigest = call.stream
      ? { sha256: call.stream.sha256 }
      : (call.body ?? new Uint8Array(0));
    const origin = call.signed ? await this.signatureOrigin() : null;
    for (let attempt = 1; ; attempt++) {
      try {
        // Signed once a slot is free, so a request that waited is not stale (§6: 300 s window).
        const res = await this.slots.run(() => {
          let headers: Record<string, string> = {};
          if (call.signed) headers = this.signHeaders(call.method, call.path, body, origin);
          if (call.extraHeaders) headers = { ...headers, ...call.extraHeaders(headers) };
          if (call.contentType) headers["content-type"] = call.contentType;
          else if (call.body) headers["content-type"] = "application/json";
          if (call.stream) headers["content-length"] = String(call.stream.length);
          const sendBody = call.stream ? call.stream.open() : call.body;
          return this.transport.request(call.method, this.urlOf(call.path), headers, sendBody, {
            timeoutMs: call.timeoutMs ?? this.timeoutMs,
            idleTimeoutMs: call.idleTimeoutMs,
            onUploadProgress: call.onUp,
            onDownloadProgress: call.onDown,
            maxResponseBytes: call.maxBytes ?? MAX_JSON_RESPONSE_BYTES,
            signal: call.signal,
            bodySink: call.bodySink,
          });
        });
        if (!(call.idempotent && RETRY_STATUS.has(res.status) && attempt <= this.retries)) return res;
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        const retryable = !["timeout", "aborted", "too-large", "tls"].includes(e.code) && call.mayRetry?.() !== false;
        if (!(retryable && (call.idempotent || !e.sent) && attempt <= this.retries)) {
          throw failure(call.label, e, attempt, this.transport.via === "tor");
        }
      }
      if (call.signal?.aborted) throw new RelayError("aborted", `${doing(call.label)}: cancelled`);
      await Bun.sleep(this.retryDelayMs * 2 ** (attempt - 1));
    }
  }
}

/** A streamed upload source gave other bytes than announced, or than in the first pass. */
function sourceChanged(size: number, got: number): PhantomError {
  const what = got === size ? "other bytes" : `${got > size ? "more than" : "only"} ${got} bytes`;
  return new PhantomError("file-changed", `the file changed while it was sent (${what} of ${size}): try again`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * One part at a time from a producer (the transport's body sink) to a consumer (an async
 * generator): put() resolves once the consumer took the part, so nothing piles up in memory.
 */
class Handoff<T> {
  private part: T | null = null;
  private ended = false;
  private error: { e: unknown } | null = null;
  private closed = false;
  private taken: (() => void) | null = null;
  private takenFail: ((e: unknown) => void) | null = null;
  private ready: (() => void) | null = null;

  put(part: T): Promise<void> {
    if (this.closed) return Promise.reject(new Error("download stopped"));
    this.part = part;
    const p = new Promise<void>((resolve, reject) => ((this.taken = resolve), (this.takenFail = reject)));
    this.wake();
    return p;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(e: unknown): void {
    this.error ??= { e };
    this.wake();
  }

  /** The consumer is gone: a pending put() fails, so the producer stops. */
  close(): void {
    this.closed = true;
    const f = this.takenFail;
    this.taken = this.takenFail = null;
    f?.(new Error("download stopped"));
  }

  /** The next part, null at the end; throws the producer's failure. */
  async take(): Promise<T | null> {
    for (;;) {
      if (this.part !== null) {
        const part = this.part;
        this.part = null;
        const t = this.taken;
        this.taken = this.takenFail = null;
        t?.();
        return part;
      }
      if (this.error) throw this.error.e;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.ready = r));
    }
  }

  private wake(): void {
    const r = this.ready;
    this.ready = null;
    r?.();
  }
}

function post(path: string, body: Uint8Array): Call {
  return { method: "POST", path, label: `POST ${path}`, body, signed: true, idempotent: false };
}

/** Validate an outgoing body against its schema, then encode it (compact JSON, UTF-8). */
function jsonBytes<S extends z.ZodType>(schema: S, value: z.infer<S>, what: string): Uint8Array {
  return utf8.encode(JSON.stringify(w.check(schema, value, what)));
}
