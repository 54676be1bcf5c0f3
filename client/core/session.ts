// Session: the client's one public API, called by every command (cli/) and every interactive
// screen (tui/). It holds the unlocked identity, the contact book and a lazily connected relay
// client, and wires the actions, one concern a file, each through the narrow port it needs
// (ports.ts): key-exchange.ts (register, add, inbox), outgoing.ts (send), receive.ts (files,
// live), unread.ts, panic.ts. Nothing below core/ imports it.

import { type Identity, fingerprintOf, generateIdentity, pairKeys, uidOf } from "../../lib/crypto.ts";
import { b64decode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import type { TorConfig } from "../../lib/tor.ts";
import { FETCH_LIMIT_MAX } from "../../lib/wire.ts";
import * as book from "../state/contacts.ts";
import { type ChatMessage, type DecodedMessage, decodeRows, publicMessage } from "./conversation.ts";
import { addContact, processInbox, register } from "./key-exchange.ts";
import { sendBody, sendFile, type SentFile } from "./outgoing.ts";
import { type BurnAllResult, burnAll } from "./panic.ts";
import { wipeHome } from "../state/wipe.ts";
import { RelayClient } from "../net/relay-client.ts";
import { directRefused, planRelayRoute, type Route, transportFor } from "../net/route.ts";
import { loadSettings, type Settings } from "../state/settings.ts";
import { readStateText } from "../state/home.ts";
import { DEFAULT_SHOWN_WINDOW_S, isRepeat, loadShown, markShown, updateShown } from "../state/shown.ts";
import { checkNewPassword, hasIdentity, openIdentity, writeIdentity } from "../state/vault.ts";
import { getFile, listen, type GetFileOptions, type ListenHandlers, type ListenOptions } from "./receive.ts";
import { isNoRoom, markRead, unreadCounts } from "./unread.ts";
import type { CorePort, KeyExchangePort, OutgoingPort, PanicPort, ReceivePort, UnreadPort } from "./ports.ts";

export type { ContactView } from "../state/contacts.ts";
export type { ChatMessage, FileInfo } from "./conversation.ts";
export type { SentFile } from "./outgoing.ts";

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
  /** Things the user should know that are not errors (key changes, skipped rows). Default: ignored. */
  onWarning?: (message: string) => void;
}

export interface CreateOptions {
  /** Write identity.json without contacting the relay; call register() once it answers. */
  offline?: boolean;
}

export class Session implements CorePort, KeyExchangePort, OutgoingPort, ReceivePort, UnreadPort, PanicPort {
  readonly uid: string;
  readonly fingerprint: string;
  readonly relayUrl: string;
  readonly viaTor: boolean;
  readonly home: string;
  readonly settings: Settings;
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
  private contactsText: string | null = null;
  /** When this session last burned each contact's room (ms), to tell our burn from the peer's. */
  private readonly ownBurns = new Map<string, number>();
  private shownWindowP: Promise<number> | null = null;

  private constructor(config: SessionConfig, hooks: SessionHooks, id: Identity, route: Route, settings: Settings) {
    this.config = config;
    this.hooks = hooks;
    this.home = config.home;
    this.id = id;
    this.uid = uidOf(id.encPub);
    this.fingerprint = fingerprintOf(id.encPub);
    this.relayUrl = config.relayUrl;
    this.route = route;
    this.viaTor = route.viaTor;
    this.settings = settings;
    this.contactsText = readStateText(book.contactsPath(config.home));
    this.book = book.loadContacts(config.home);
  }

  /** Unlock identity.json. The Tor proxy is probed while scrypt runs; nothing is sent to the relay yet. */
  static async open(config: SessionConfig, hooks: SessionHooks = {}): Promise<Session> {
    const settings = loadSettings(config.home);
    const routeP = planRelayRoute(config.relayUrl, config.tor);
    routeP.catch(() => {});
    const id = await openIdentity(config.home, config.password);
    return new Session(config, hooks, id, await routeP, settings);
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
    const settings = loadSettings(config.home);
    const route = await planRelayRoute(config.relayUrl, config.tor);
    const session = new Session(config, hooks, generateIdentity(), route, settings);
    if (!o.offline) await session.register();
    await writeIdentity(config.home, session.id, config.password);
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
      return new RelayClient({ baseUrl: this.relayUrl, transport, signer });
    })();
    this.relayP.catch(() => (this.relayP = null));
    return this.relayP;
  }

  /** @internal */ warn(message: string): void {
    this.hooks.onWarning?.(message);
  }

  contacts(): ContactViewList {
    return Object.entries(this.book)
      .map(([uid, rec]) => book.viewOf(uid, rec, this.newUids.has(uid)))
      .sort((a, b) => (a.nickname ?? a.uid).localeCompare(b.nickname ?? b.uid));
  }

  contact(uidOrNick: string): book.ContactView {
    const uid = book.resolveContact(this.book, uidOrNick);
    return book.viewOf(uid, this.book[uid]!, this.newUids.has(uid));
  }

  /** Apply a change to the contact file (re-read first, so another process's change is kept). */
  /** @internal */ mutate<T>(change: (b: book.ContactBook) => T): T {
    const fresh = book.loadContacts(this.home);
    const result = change(fresh);
    book.saveContacts(this.home, fresh);
    this.book = fresh;
    return result;
  }

  /** @internal Read contacts.json again if its content changed (another process wrote it); true then. */
  reloadContacts(): boolean {
    const text = readStateText(book.contactsPath(this.home));
    if (text === this.contactsText) return false;
    this.book = book.loadContacts(this.home);
    this.contactsText = text;
    return true;
  }

  /** @internal How long ids of shown messages are kept: the relay's message retention (§7.10), else 30 days. */
  shownWindowS(): Promise<number> {
    this.shownWindowP ??= (async () => {
      try {
        const days = (await (await this.relay()).health()).retention?.messages_days;
        return days === undefined ? DEFAULT_SHOWN_WINDOW_S : Math.ceil(days * 86_400);
      } catch {
        return DEFAULT_SHOWN_WINDOW_S;
      }
    })();
    return this.shownWindowP;
  }

  /** PROTOCOL §7.5: read the key-exchange inbox; people who added us become contacts. */
  processInbox(): Promise<book.ContactView[]> {
    return processInbox(this);
  }

  /** Add by UID: fetch and check the key (§7.3), pin it, push the key-exchange notice (§7.4). */
  addContact(uid: string, o: { trust?: boolean; nick?: string } = {}): Promise<book.ContactView> {
    return addContact(this, uid, o);
  }

  verify(uid: string, o: { force?: boolean } = {}): book.ContactView {
    const u = book.resolveContact(this.book, uid);
    this.mutate((b) => book.verifyRecord(u, b[u] ?? throwUnknown(u), o.force === true));
    return book.viewOf(u, this.book[u]!);
  }

  setNick(uid: string, nick: string): void {
    const u = book.resolveContact(this.book, uid);
    this.mutate((b) => book.setNickname(b, u, nick));
  }

  /** Burns the room first (like the original client), then forgets the contact. */
  async removeContact(uid: string): Promise<void> {
    const u = book.resolveContact(this.book, uid);
    try {
      await this.burn(u);
    } catch (e) {
      // The room was never created on this relay: there is nothing to burn.
      if (!isNoRoom(e)) throw e;
    }
    this.mutate((b) => void delete b[u]);
    markRead(this, u, null);
  }

  /** @internal PROTOCOL §4 pair keys of a contact (refuses a contact whose verified key changed). */
  keys(uid: string, o: { allowBlocked?: boolean } = {}): { roomId: string; sessionKey: Uint8Array } {
    const rec = this.book[uid] ?? throwUnknown(uid);
    if (!o.allowBlocked) book.assertUsable(uid, rec);
    return pairKeys(this.id, b64decode(rec.pub_key, "pub_key"));
  }

  /** PROTOCOL §5.1/§5.2: encrypt an envelope and store it; returns the relay's ts. */
  async send(uid: string, text: string): Promise<number> {
    if (text === "") throw new PhantomError("empty-message", "nothing to send: the message is empty");
    return await sendBody(this, book.resolveContact(this.book, uid), text);
  }

  /** PROTOCOL §5.3: encrypt with a fresh key, upload (§7.8), announce; the file's number and the relay's ts. */
  sendFile(uid: string, path: string, onProgress?: (done: number, total: number) => void): Promise<SentFile> {
    return sendFile(this, book.resolveContact(this.book, uid), path, onProgress);
  }

  /** @internal The room's rows decoded (files numbered over the whole stored conversation). */
  async decoded(uid: string): Promise<DecodedMessage[]> {
    const { roomId, sessionKey } = this.keys(uid);
    const relay = await this.relay();
    const rows = await relay.fetch(roomId, { limit: FETCH_LIMIT_MAX });
    const { messages, skipped } = decodeRows(rows, { me: this.uid, peer: uid, sessionKey });
    this.skippedLast = skipped;
    return messages;
  }

  /** Oldest first; `limit` keeps the newest N, `sinceTs` keeps ts ≥ sinceTs. */
  async history(uid: string, o: { limit?: number; sinceTs?: number } = {}): Promise<ChatMessage[]> {
    const u = book.resolveContact(this.book, uid);
    // A row whose id was shown before at an earlier place is a repeat (state/shown.ts).
    const shown = loadShown(this.home);
    let list = (await this.decoded(u)).map(publicMessage).filter((m) => !isRepeat(shown, u, m));
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
    return getFile(this, book.resolveContact(this.book, uid), n, dest, o);
  }

  /** PROTOCOL §7.7: delete the room's messages and files on the relay. */
  async burn(uid: string): Promise<number> {
    const u = book.resolveContact(this.book, uid);
    const { roomId } = this.keys(u, { allowBlocked: true });
    this.ownBurns.set(u, Date.now());
    return await (await this.relay()).burn(roomId);
  }

  /** Whether this session burned the contact's room in the last minute (the relay's burn event does not say who). */
  burnedHere(uid: string): boolean {
    const at = this.ownBurns.get(uid);
    return at !== undefined && Date.now() - at < 60_000;
  }

  /**
   * Burn every known room (failures are reported, not fatal), then delete $PHANTOM_HOME;
   * `kept`: what was in it that is not Phantom's, left in place (see wipeHome).
   */
  async panic(): Promise<BurnAllResult & { kept: string[] }> {
    const r = await burnAll(this);
    this.close();
    return { ...r, kept: wipeHome(this.home) };
  }

  listen(handlers: ListenHandlers | ((peerUid: string, m: ChatMessage) => void), o: ListenOptions): Promise<void> {
    return listen(this, handlers, o);
  }

  unreadCounts(): Promise<Record<string, number>> {
    return unreadCounts(this);
  }

  markRead(uid: string, ts: number): void {
    markRead(this, book.resolveContact(this.book, uid), ts);
  }

  /** Forget the keys held in memory. */
  close(): void {
    this.id.encPriv.fill(0);
    this.id.signSeed.fill(0);
  }
}

type ContactViewList = book.ContactView[];

function throwUnknown(uid: string): never {
  throw book.unknownContact(uid);
}
