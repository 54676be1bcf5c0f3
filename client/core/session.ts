// Session: the client's one public API, called by every command (cli/) and every interactive
// screen (tui/). It holds the unlocked identity, the contact book and a lazily connected relay
// client, and wires the actions, one concern a file, each through the narrow port it needs
// (ports.ts): key-exchange.ts (register, add, inbox), outgoing.ts (send), receive.ts (files,
// live), unread.ts, panic.ts. Nothing below core/ imports it.

import { type Identity, fingerprintOf, generateIdentity, messageId, pairKeys, uidOf } from "../../lib/crypto.ts";
import { b64decode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import type { TorConfig } from "../../lib/tor.ts";
import { forgetFileNumbers, numberFiles } from "../state/file-numbers.ts";
import * as book from "../state/contacts.ts";
import {
  type ChatMessage,
  type DecodedMessage,
  decodeRows,
  isV3Ciphertext,
  publicMessage,
  type RoomContext,
} from "./conversation.ts";
import { prepareFileV3, uploadFileV3 } from "./v3-files.ts";
import { checkpoint, learnSignPub, openBacklog, openRow, planSend, sendV3, type V3Port } from "./v3.ts";
import { deleteHistory } from "../state/ratchet-store.ts";
import { type Inner, newInnerId } from "../../lib/v3/inner.ts";
import type { StateDb } from "../state/state-db.ts";
import { addContact, processInbox, register } from "./key-exchange.ts";
import * as requests from "./requests.ts";
import { loadRequests, requestList, type RequestView } from "../state/requests.ts";
import { checkLength, sendBody, sendFile, type SendFileOptions, type SentFile } from "./outgoing.ts";
import { type Burner, type BurnProgress, panic, type PanicResult } from "./panic.ts";
import { type BurnKey, RelayClient, type SigV3Pins } from "../net/relay-client.ts";
import { RelayError } from "../net/relay-error.ts";
import { maybeStateOf, stateOf } from "../state/state-db.ts";
import { applyHistoryPolicy, historyOf, searchHistory } from "./history.ts";
import { bundleCheckDue, topUpBundle } from "./prekeys.ts";
import { directRefused, planRelayRoute, type Route, transportFor } from "../net/route.ts";
import { loadSettings, type Settings } from "../state/settings.ts";
import { DEFAULT_SHOWN_WINDOW_S, isRepeat, loadShown, markShown, updateShown } from "../state/shown.ts";
import { checkNewPassword, hasIdentity, openIdentityKeyed, writeIdentityKeyed } from "../state/vault.ts";
import { unlockState } from "../state/migrate.ts";
import { STATE_DB_FILE, statePath } from "../state/home.ts";
import { existsSync } from "node:fs";
import { getFile, listen, type GetFileOptions, type ListenHandlers, type ListenOptions } from "./receive.ts";
import { isNoRoom, markRead, unreadCounts } from "./unread.ts";
import { contactSafetyCode } from "./protocol-info.ts";
import type {
  CorePort,
  KeyExchangePort,
  OutgoingPort,
  PanicPort,
  ReceivePort,
  RequestsPort,
  UnreadPort,
} from "./ports.ts";

export type { ContactView } from "../state/contacts.ts";
export type { RequestView } from "../state/requests.ts";
export type { BlockedView } from "./requests.ts";
export type { ChatMessage, FileInfo } from "./conversation.ts";
export type { SendFileOptions, SentFile } from "./outgoing.ts";

/** Everything a session needs from the command line and environment (resolved by the cli). */
export interface SessionConfig {
  home: string;
  password: string;
  /** The relay, already resolved and checked. */
  relayUrl: string;
  tor: TorConfig;
  /**
   * --direct or PHANTOM_DIRECT=1: a direct connection to a relay that is not on this machine
   * is accepted without asking (said through onWarning).
   */
  direct: boolean;
}

/** The parts of a configuration that a session takes (a ClientConfig has them all). */
export function sessionConfig(c: Omit<SessionConfig, "password">): Omit<SessionConfig, "password"> {
  return { home: c.home, relayUrl: c.relayUrl, tor: c.tor, direct: c.direct };
}

export interface SessionHooks {
  /** Asked once per run before a direct connection to a relay that is not on this machine, unless `direct`. */
  confirmDirect?: (reason: string) => Promise<boolean>;
  /**
   * Things the user should know that are not errors (key changes, skipped rows). Default: ignored.
   * `about` "relay": the relay could not be reached; the warning is stale once it answers again.
   */
  onWarning?: (message: string, about?: WarningAbout) => void;
  /** A new contact request was stored by processInbox (someone not in the book added us). Default: ignored. */
  onRequest?: (r: RequestView) => void;
  /**
   * PROTOCOL-v3 §V11: a relay we signed v3 requests for no longer offers them. True lets requests go on
   * with v2 signatures (and forgets the pin). Default: refuse.
   */
  confirmSigDowngrade?: (origin: string) => Promise<boolean>;
}

/** What a warning is about: "relay" when the relay could not be reached (it may answer again). */
export type WarningAbout = "relay";

export interface CreateOptions {
  /** Write identity.json without contacting the relay; call register() once it answers. */
  offline?: boolean;
}

export class Session
  implements CorePort, KeyExchangePort, OutgoingPort, ReceivePort, UnreadPort, PanicPort, RequestsPort, V3Port
{
  readonly uid: string;
  readonly fingerprint: string;
  readonly relayUrl: string;
  readonly viaTor: boolean;
  /** Tor is required (PHANTOM_TOR=always, or an .onion relay) and its proxy is not answering. */
  readonly torMissing: boolean;
  readonly home: string;
  settings: Settings;
  /** Rows skipped by the last history() call: undecryptable or not from a member (PROTOCOL §5.1, §5.2). */
  skippedLast = 0;
  /** @internal */ id: Identity;
  /** @internal */ book: book.ContactBook;
  private readonly route: Route;
  private readonly config: SessionConfig;
  private readonly hooks: SessionHooks;
  private relayP: Promise<RelayClient> | null = null;
  private directConsent: boolean | null = null;
  /** @internal UIDs first seen in this run's key-exchange inbox. */ readonly newUids = new Set<string>();
  /** @internal UIDs of the book the inbox reader knows about (see processInbox). */ readonly knownUids: Set<string>;
  /** When this session last burned each contact's room (ms), to tell our burn from the peer's. */
  private readonly ownBurns = new Map<string, number>();
  private shownWindowP: Promise<number> | null = null;

  private constructor(
    config: SessionConfig,
    hooks: SessionHooks,
    id: Identity,
    route: Route,
    settings: Settings,
    fresh = false,
  ) {
    this.config = config;
    this.hooks = hooks;
    this.home = config.home;
    this.id = id;
    this.uid = uidOf(id.encPub);
    this.fingerprint = fingerprintOf(id.encPub);
    this.relayUrl = config.relayUrl;
    this.route = route;
    this.viaTor = route.viaTor;
    this.torMissing = route.error?.code === "tor-unavailable";
    this.settings = settings;
    // A new identity (create) has no state.db yet: it is made once identity.json is written.
    this.bookStamp = fresh ? "" : book.contactsStamp(config.home);
    this.book = fresh ? (Object.create(null) as book.ContactBook) : book.loadContacts(config.home);
    // Contacts accepted but not yet written to or read are news to this process's inbox reader.
    this.knownUids = new Set(Object.keys(this.book).filter((u) => this.book[u]!.is_new !== true));
  }

  /** The book as this session last read or wrote it (book.contactsStamp: state.db counts its writes). */
  private bookStamp: string;

  /**
   * Read the book again if another process changed it since (a nickname, a new contact):
   * an open client shows the book as it is on disk. Returns whether it was re-read.
   */
  reloadContacts(): boolean {
    const stamp = book.contactsStamp(this.home);
    if (stamp === this.bookStamp) return false;
    this.book = book.loadContacts(this.home);
    this.bookStamp = stamp;
    return true;
  }

  /** The Tor configuration this session was opened with. */
  get tor(): TorConfig {
    return this.config.tor;
  }

  /** Unlock identity.json. The Tor proxy is probed while scrypt runs; nothing is sent to the relay yet. */
  static async open(config: SessionConfig, hooks: SessionHooks = {}): Promise<Session> {
    const settings = loadSettings(config.home);
    const routeP = planRelayRoute(config.relayUrl, config.tor);
    routeP.catch(() => {});
    const { id, key } = await openIdentityKeyed(config.home, config.password);
    try {
      // PROTOCOL-v3 §V8: the same scrypt output opens state.db (2.x files are imported at the first unlock).
      unlockState(config.home, key);
    } finally {
      key.fill(0);
    }
    const session = new Session(config, hooks, id, await routeP, settings);
    // PROTOCOL-v3 §V8 `history days N`: older rows go at every unlock.
    session.pruneHistory();
    return session;
  }

  /**
   * `init` and the wizard: a new identity, registered with the relay (PROTOCOL §7.2) unless `offline`,
   * then written to identity.json.
   */
  static async create(config: SessionConfig, hooks: SessionHooks = {}, o: CreateOptions = {}): Promise<Session> {
    if (hasIdentity(config.home)) {
      throw new PhantomError("identity-exists", `an identity already exists in ${config.home}`);
    }
    checkNewPassword(config.password);
    const dbPath = statePath(config.home, STATE_DB_FILE);
    if (existsSync(dbPath)) {
      // Sealed under the key of an identity that is no longer here: never silently replaced.
      throw new PhantomError(
        "identity-exists",
        `${dbPath} belongs to an identity whose identity.json is gone: put it back, or move state.db away`,
      );
    }
    const settings = loadSettings(config.home);
    const route = await planRelayRoute(config.relayUrl, config.tor);
    const session = new Session(config, hooks, generateIdentity(), route, settings, true);
    if (!o.offline) await session.register();
    const key = await writeIdentityKeyed(config.home, session.id, config.password);
    try {
      unlockState(config.home, key);
      // PROTOCOL-v3 §V1: the bundle right after registering, through a client made now that state.db
      // is open (it signs with §V11 and publishes: relay() does both).
      if (!o.offline) {
        session.relayP = null;
        await session
          .relay()
          .catch((e: unknown) =>
            session.warn(`could not reach the relay again: ${e instanceof Error ? e.message : String(e)}`),
          );
      }
    } finally {
      key.fill(0);
    }
    session.reloadContacts();
    return session;
  }

  /**
   * PROTOCOL §7.2: register our keys (create-only). "exists" (409) only when the relay's key
   * for our UID (§7.3) is ours; anything else is an error: someone registered our UID with other keys.
   */
  register(): Promise<"created" | "exists"> {
    return register(this);
  }

  /** @internal The relay client; asks for direct-connection consent at first use. */
  relay(): Promise<RelayClient> {
    this.relayP ??= (async () => {
      const transport = transportFor(this.route);
      const plan = this.route.plan!;
      if (plan.needsConsent && this.settings.torWarning !== false) {
        // Asked once per run: a refusal is remembered too.
        if (this.directConsent === null) {
          const ask = this.hooks.confirmDirect;
          if (this.config.direct) {
            this.warn(`connecting to the relay directly: ${plan.reason}`);
            this.directConsent = true;
          } else {
            this.directConsent = ask ? await ask(plan.reason) : false;
          }
        }
        if (!this.directConsent) throw directRefused(this.relayUrl, plan);
      }
      const signer = { uid: this.uid, signSeed: this.id.signSeed, encPriv: this.id.encPriv };
      const sigV3 = maybeStateOf(this.home) === null ? undefined : this.sigPins();
      const client = new RelayClient({ baseUrl: this.relayUrl, transport, signer, sigV3 });
      await this.maintainBundle(client, false);
      return client;
    })();
    this.relayP.catch(() => (this.relayP = null));
    return this.relayP;
  }

  /** @internal */ warn(message: string, about?: WarningAbout): void {
    this.hooks.onWarning?.(message, about);
  }

  /** @internal */ onRequest(r: RequestView): void {
    this.hooks.onRequest?.(r);
  }

  /** A contact's UID; a pending request or a blocked UID is an error that names the command to run. */
  /** @internal */ resolve(uidOrNick: string): string {
    return requests.resolve(this, uidOrNick);
  }

  /** Pending contact requests, oldest first (read the inbox first: processInbox). */
  requests(): RequestView[] {
    return requestList(loadRequests(this.home));
  }

  /** Blocked UIDs, oldest block first. */
  blocked(): requests.BlockedView[] {
    return requests.blockedList(this);
  }

  /** Make a contact request a contact (local: the room exists since they added us, PROTOCOL §7.4). */
  accept(uid: string): book.ContactView {
    return requests.accept(this, uid);
  }

  /** Block a contact, a request or any UID: its notices are dropped, its room never read. */
  block(uidOrNick: string): { uid: string; was: requests.BlockedWas } {
    return requests.block(this, uidOrNick);
  }

  unblock(uid: string): { uid: string; now: requests.BlockedWas } {
    return requests.unblock(this, uid);
  }

  /**
   * How long the relay keeps messages (PROTOCOL §7.10 `retention` in /health), in days; its §8
   * default when it does not say. Messages of a request wait there that long.
   */
  async messageRetentionDays(): Promise<number> {
    return (await (await this.relay()).messageRetentionDays()) ?? DEFAULT_MESSAGE_RETENTION_DAYS;
  }

  contacts(): ContactViewList {
    return Object.entries(this.book)
      .map(([uid, rec]) => book.viewOf(uid, rec, this.newUids.has(uid)))
      .sort((a, b) => (a.nickname ?? a.uid).localeCompare(b.nickname ?? b.uid));
  }

  contact(uidOrNick: string): book.ContactView {
    const uid = this.resolve(uidOrNick);
    return book.viewOf(uid, this.book[uid]!, this.newUids.has(uid));
  }

  /** Apply a change to the contact file (re-read under the home's lock, so another process's change is kept). */
  /** @internal */ mutate<T>(change: (b: book.ContactBook) => T): T {
    const { book: fresh, result } = book.updateContacts(this.home, change);
    this.book = fresh;
    this.bookStamp = book.contactsStamp(this.home);
    return result;
  }

  /** @internal */ reloadBook(): void {
    this.book = book.loadContacts(this.home);
  }

  /** @internal How long ids of shown messages are kept: the relay's message retention (§7.10), else 30 days. */
  shownWindowS(): Promise<number> {
    this.shownWindowP ??= (async () => {
      try {
        const days = await (await this.relay()).messageRetentionDays();
        return days === null ? DEFAULT_SHOWN_WINDOW_S : Math.ceil(days * 86_400);
      } catch {
        return DEFAULT_SHOWN_WINDOW_S;
      }
    })();
    return this.shownWindowP;
  }

  /**
   * PROTOCOL §7.5: read the key-exchange inbox; people who added us become contact requests.
   * Returns contacts whose key changed and contacts new to this process (accepted since the last call).
   */
  processInbox(): Promise<book.ContactView[]> {
    return processInbox(this);
  }

  /** Add by UID: fetch and check the key (§7.3), pin it, push the key-exchange notice (§7.4). */
  addContact(uid: string, o: { trust?: boolean; nick?: string } = {}): Promise<book.ContactView> {
    return addContact(this, uid, o);
  }

  verify(uid: string, o: { force?: boolean } = {}): book.ContactView {
    const u = this.resolve(uid);
    this.mutate((b) => book.verifyRecord(u, b[u] ?? throwUnknown(u), o.force === true));
    return book.viewOf(u, this.book[u]!);
  }

  setNick(uid: string, nick: string): void {
    const u = this.resolve(uid);
    this.mutate((b) => book.setNickname(b, u, nick));
  }

  /** Burns the room first (like the original client), then forgets the contact. */
  async removeContact(uid: string): Promise<void> {
    const u = this.resolve(uid);
    try {
      await this.burn(u);
    } catch (e) {
      // The room was never created on this relay: there is nothing to burn.
      if (!isNoRoom(e)) throw e;
    }
    this.mutate((b) => void delete b[u]);
    // Its local history goes with it; its v3 sessions stay, so adding them again later works at once.
    deleteHistory(this.state(), u);
    markRead(this, u, null);
    forgetFileNumbers(this.home, u);
  }

  /** @internal PROTOCOL §4 pair keys of a contact (refuses a contact whose verified key changed). */
  keys(uid: string, o: { allowBlocked?: boolean } = {}): { roomId: string; sessionKey: Uint8Array } {
    const rec = this.book[uid] ?? throwUnknown(uid);
    if (!o.allowBlocked) book.assertUsable(uid, rec);
    return pairKeys(this.id, b64decode(rec.pub_key, "pub_key"));
  }

  /**
   * PROTOCOL-v3 §V1: a text in the contact's protocol — v3 (a ratchet step, §V5.4) when they have a
   * session or a bundle, else v2 (§5.1/§5.2) with a warning; returns the relay's ts.
   */
  async send(uid: string, text: string): Promise<number> {
    if (text.trim() === "") throw new PhantomError("empty-message", "nothing to send: the message is empty");
    const u = this.resolve(uid);
    this.keys(u);
    const plan = await planSend(this, u);
    let ts: number;
    if (plan.protocol === 3) ts = await this.sendInner(u, { t: "text", id: newInnerId(), body: text });
    else {
      this.warnV2(u, plan.reason);
      ts = await sendBody(this, u, text);
    }
    requests.seen(this, u);
    return ts;
  }

  /**
   * A long-running process (the daemon) between two requests: settings.json as it is now, and what
   * is said once per run (warnings, contacts "new" to it) said again, as a command of its own would.
   */
  refresh(): void {
    this.settings = loadSettings(this.home);
    this.warnedUnanswered.clear();
    this.warnedV2.clear();
    this.newUids.clear(); // "new" is news to one command
    this.reloadContacts();
  }

  /** Contacts already told in this run that our v3 session has had no answer (§V4). */
  private readonly warnedUnanswered = new Set<string>();

  /** Contacts already warned in this run that they are spoken to without forward secrecy. */
  private readonly warnedV2 = new Set<string>();

  private warnV2(uid: string, reason: string): void {
    if (this.warnedV2.has(uid)) return;
    this.warnedV2.add(uid);
    this.warn(`sent without forward secrecy (protocol v2) to ${book.labelOf(uid, this.book[uid])}: ${reason}`);
  }

  /** @internal PROTOCOL-v3 §V5.4 + §V7: one inner message on the active session; the relay's ts. */
  async sendInner(uid: string, inner: Inner): Promise<number> {
    if (inner.t === "text") checkLength(this.uid, inner.body, 3);
    return await sendV3(this, uid, inner, this.warnedUnanswered);
  }

  /** @internal V3Port */ state(): StateDb {
    return stateOf(this.home);
  }

  /** @internal V3Port: the `require-v3` setting. */ requireV3(): boolean {
    return this.settings.requireV3;
  }

  /** @internal V3Port: false when the `history` setting is off. */ keepHistory(): boolean {
    return this.settings.history.mode !== "off";
  }

  /** PROTOCOL-v3 §V2.1: learn a v3 contact's signing key (from its bundle) when it is not known yet. */
  learnSigningKey(uidOrNick: string): Promise<void> {
    return learnSignPub(this, this.resolve(uidOrNick));
  }

  /** @internal PROTOCOL-v3 §V8: a conversation's local history (ts ≥ sinceTs), oldest first. */
  localHistory(uid: string, sinceTs = 0): DecodedMessage[] {
    return historyOf(this.state(), uid, this.uid, sinceTs);
  }

  /**
   * @internal How rows of a contact's room are opened: v2 with the pair key, v3 through state.db (one
   * transaction per row; the WAL checkpointed after each row, or by the caller after a `batch`).
   */
  roomContext(uid: string, o: { batch?: boolean } = {}): RoomContext {
    const { sessionKey } = this.keys(uid);
    return {
      me: this.uid,
      peer: uid,
      sessionKey,
      v3: (row) => {
        const d = openRow(this, uid, row);
        if (!o.batch) checkpoint(this.state());
        return d;
      },
      pinnedV3: this.book[uid]?.protocol === 3,
    };
  }

  /** PROTOCOL §5.3: encrypt with a fresh key, upload (§7.8), announce; the file's number and the relay's ts. */
  /**
   * A file in the contact's protocol: PROTOCOL-v3 §V9 (streamed in chunks, its key sent through the
   * ratchet) or v2 §5.3; the file's number and the relay's ts.
   */
  async sendFile(uid: string, path: string, o: SendFileOptions = {}): Promise<SentFile> {
    const u = this.resolve(uid);
    const { roomId } = this.keys(u);
    const plan = await planSend(this, u);
    if (plan.protocol === 2) {
      this.warnV2(u, plan.reason);
      return await sendFile(this, u, path, o);
    }
    const prepared = prepareFileV3(path);
    const inner = await uploadFileV3(await this.relay(), roomId, prepared, o);
    let ts: number;
    try {
      ts = await this.sendInner(u, inner);
    } finally {
      inner.key.fill(0);
    }
    requests.seen(this, u);
    // Its number is its place among the conversation's files, as `read` shows it.
    const info = (await this.files(u)).filter((m) => m.mine && m.ts === ts && m.file).at(-1)?.file;
    return { ts, n: info?.n ?? 0, name: info?.name ?? prepared.name, size: prepared.size, mime: prepared.mime };
  }

  /**
   * @internal The room's rows decoded: every stored row where the relay pages by seq (§7.6.1),
   * else the newest FETCH_LIMIT_MAX (§7.6). Files are numbered in the order this client first
   * saw them (state/file-numbers.ts), so a number never shifts.
   */
  async decoded(uid: string): Promise<DecodedMessage[]> {
    const { roomId } = this.keys(uid);
    const relay = await this.relay();
    const rows = await relay.allRows(roomId);
    // PROTOCOL-v3 §V5.5 step 0 for the whole room at once: history read once, by message id
    // (b64u(SHA-256(wire)) = messageId), and only the v3 rows not in it opened.
    const known = new Map<string, DecodedMessage | null>(this.localHistory(uid).map((d) => [d.message.id, d]));
    const fresh = rows.filter((r) => isV3Ciphertext(r.ciphertext) && !known.has(messageId(r.ciphertext)));
    for (const [id, d] of openBacklog(this, uid, fresh, (r) => messageId(r.ciphertext))) known.set(id, d);
    const ctx: RoomContext = { ...this.roomContext(uid), v3: (row) => known.get(messageId(row.ciphertext)) ?? null };
    const { messages: fromRelay, skipped } = decodeRows(rows, ctx);
    this.skippedLast = skipped;
    const messages = this.withHistory(fromRelay, known);
    const files = messages.filter((m) => m.message.file);
    if (files.length > 0) {
      const numbers = numberFiles(
        this.home,
        uid,
        files.map((m) => m.message.id),
      );
      for (const m of files) m.message.file!.n = numbers.get(m.message.id) ?? 0;
    }
    return messages;
  }

  /**
   * PROTOCOL-v3 §V8: the relay's rows merged with local history, so a conversation reads the same after
   * the relay purged it. Oldest first; a history row at the same ts goes before the relay's rows.
   */
  private withHistory(fromRelay: DecodedMessage[], history: Map<string, DecodedMessage | null>): DecodedMessage[] {
    const ids = new Set(fromRelay.map((m) => m.message.id));
    const kept = [...history.values()].filter((m): m is DecodedMessage => m !== null && !ids.has(m.message.id));
    if (kept.length === 0) return fromRelay;
    const all = [...kept, ...fromRelay];
    const order = new Map(all.map((m, i) => [m, i]));
    return all.sort((a, b) => a.message.ts - b.message.ts || order.get(a)! - order.get(b)!);
  }

  /** Oldest first; `limit` keeps the newest N, `sinceTs` keeps ts ≥ sinceTs. */
  async history(uid: string, o: { limit?: number; sinceTs?: number } = {}): Promise<ChatMessage[]> {
    const u = this.resolve(uid);
    // A row whose id was shown before at an earlier place is a repeat (state/shown.ts).
    const shown = loadShown(this.home);
    let list = (await this.decoded(u)).map(publicMessage).filter((m) => !isRepeat(shown, u, m));
    requests.seen(this, u);
    if (o.sinceTs !== undefined) list = list.filter((m) => m.ts >= o.sinceTs!);
    if (o.limit !== undefined) list = list.slice(Math.max(0, list.length - o.limit));
    if (list.some((m) => shown[u]?.[m.id] !== m.ts)) {
      const windowS = await this.shownWindowS();
      updateShown(this.home, windowS, (sh) => markShown(sh, u, list));
    }
    return list;
  }

  async files(uid: string): Promise<ChatMessage[]> {
    return (await this.history(uid)).filter((m) => m.file !== undefined);
  }

  getFile(uid: string, n: number, dest?: string, o: GetFileOptions = {}): Promise<string> {
    return getFile(this, this.resolve(uid), n, dest, o);
  }

  /** PROTOCOL §7.7: delete the room's messages and files on the relay. */
  async burn(uid: string): Promise<number> {
    const u = this.resolve(uid);
    const { roomId } = this.keys(u, { allowBlocked: true });
    this.ownBurns.set(u, Date.now());
    const n = await (await this.relay()).burn(roomId);
    // The user burned the conversation: our local history of it goes too (PROTOCOL-v3 §V8 lets the
    // user delete it); the peer's history is on the peer's device.
    deleteHistory(this.state(), u);
    return n;
  }

  /** Whether this session burned the contact's room in the last minute (the relay's burn event does not say who). */
  burnedHere(uid: string): boolean {
    const at = this.ownBurns.get(uid);
    return at !== undefined && Date.now() - at < 60_000;
  }

  /**
   * Burn every known room and delete $PHANTOM_HOME (core/panic.ts): what the relay's burn limit
   * leaves stays in the sealed burn list for `phantom panic --finish`. The session is closed after.
   */
  panic(o: Pick<BurnProgress, "onWait"> = {}): Promise<PanicResult> {
    return panic(this, { warn: (m) => this.warn(m), onWait: o.onWait });
  }

  /** @internal */ roomOf(uid: string): string {
    return this.keys(uid, { allowBlocked: true }).roomId;
  }

  /** @internal */ burnSeed(): { uid: string; signSeed: Uint8Array; url: string; password: string } {
    return {
      uid: this.uid,
      signSeed: Uint8Array.from(this.id.signSeed),
      url: this.relayUrl,
      password: this.config.password,
    };
  }

  /** @internal */ burner(signSeed: Uint8Array, burnKey: BurnKey | null): Burner {
    const signer = { uid: this.uid, signSeed, encPriv: null };
    const sigV3 = maybeStateOf(this.home) === null ? undefined : this.sigPins();
    return new RelayClient({ baseUrl: this.relayUrl, transport: transportFor(this.route), signer, burnKey, sigV3 });
  }

  /**
   * PROTOCOL-v3 §V1: keep our prekey bundle on a v3 relay (client/core/prekeys.ts); hourly unless
   * `force`. A failure is a warning: v2 conversations do not need it.
   */
  /** @internal */ async maintainBundle(client: RelayClient, force: boolean): Promise<void> {
    const db = maybeStateOf(this.home);
    // The hourly gate before /health: most commands need neither.
    if (db === null || !(force || bundleCheckDue(db))) return;
    try {
      if (!(await client.offersV3())) return;
      await topUpBundle(db, this.id.signSeed, client, { force });
    } catch (e) {
      // An unreachable relay is for the command itself to report (once); only a refusal is said here.
      if (e instanceof RelayError && e.status === 0) return;
      this.warn(`could not publish the prekey bundle (protocol v3): ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** PROTOCOL-v3 §V11 pins: one meta row of state.db per relay origin signed for with v3. */
  /** @internal */ sigPins(): SigV3Pins {
    const key = (origin: string) => `sigv3:${origin}`;
    return {
      pinned: (origin) => stateOf(this.home).meta(key(origin)) !== null,
      pin: (origin) => stateOf(this.home).setMeta(key(origin), Math.floor(Date.now() / 1000)),
      unpin: (origin) => stateOf(this.home).setMeta(key(origin), null),
      confirmDowngrade: async (origin) => (await this.hooks.confirmSigDowngrade?.(origin)) === true,
    };
  }

  listen(handlers: ListenHandlers | ((peerUid: string, m: ChatMessage) => void), o: ListenOptions): Promise<void> {
    return listen(this, handlers, o);
  }

  unreadCounts(): Promise<Record<string, number>> {
    return unreadCounts(this);
  }

  markRead(uid: string, ts: number): void {
    markRead(this, this.resolve(uid), ts);
  }

  /** PROTOCOL-v3 §V8: local history searched in memory (client/core/history.ts), oldest first. */
  searchHistory(text: string, o: { contact?: string } = {}): Array<{ uid: string; message: ChatMessage }> {
    const contact = o.contact === undefined ? undefined : this.resolve(o.contact);
    return searchHistory(stateOf(this.home), Object.keys(this.book), this.uid, text, { contact });
  }

  /** PROTOCOL-v3 §V8: delete the local history of one conversation, or all of it (null); how many messages. */
  clearHistory(uidOrNick: string | null): number {
    const uid = uidOrNick === null ? null : this.resolve(uidOrNick);
    const db = stateOf(this.home);
    return db.tx(() => deleteHistory(db, uid));
  }

  /** PROTOCOL-v3 §V8: apply the `history` setting (days N: delete older rows); how many were deleted. */
  pruneHistory(): number {
    return applyHistoryPolicy(stateOf(this.home), this.settings.history, Math.floor(Date.now() / 1000));
  }

  /** PROTOCOL-v3 §V2.1: the safety code with a contact pinned to v3 (8 groups of 5); null for a v2 contact. */
  safetyCode(uidOrNick: string): string | null {
    const u = this.resolve(uidOrNick);
    return contactSafetyCode(this, u, this.book[u]);
  }

  /** Forget the keys held in memory. */
  close(): void {
    this.id.encPriv.fill(0);
    this.id.signSeed.fill(0);
  }
}

type ContactViewList = book.ContactView[];

/** PROTOCOL §8 MESSAGE_RETENTION_DAYS, for a relay whose /health does not say. */
export const DEFAULT_MESSAGE_RETENTION_DAYS = 7;

function throwUnknown(uid: string): never {
  throw book.unknownContact(uid);
}
