// What each API method does (client/daemon/api.ts), on an unlocked Session: the daemon serves
// them over its socket, and a command without a daemon calls the same functions in its own
// process (LocalApi), so `phantom send` prints the same either way.

import { isAbsolute } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { VERSION } from "../../lib/version.ts";
import type { ContactView, Session } from "../core/session.ts";
import { protocolFacts, relayOffersV3 } from "../core/protocol-info.ts";
import { applySetting } from "../core/settings.ts";
import { protocolLine } from "../text/protocol.ts";
import { loadSettings, type Settings } from "../state/settings.ts";
import type { Contact, Message, Method, Params, Result } from "./api.ts";
import { historyText } from "../core/settings.ts";

/** What a method may use besides the session: its call's notifications and cancellation. */
export interface CallEnv {
  /** A file transfer's progress. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** The daemon's facts for `status` (null in a command's own process). */
  daemon?: () => Result<"status">["daemon"] & { relayStatus: Result<"status">["relayStatus"] };
}

export type Handler<M extends Method> = (s: Session, p: Params<M>, env: CallEnv) => Promise<Result<M>>;

/** An API contact: the view and the words for its protocol (PROTOCOL-v3 §V1). */
export function contactOf(s: Session, c: ContactView, relayV3: boolean | null = null): Contact {
  return {
    uid: c.uid,
    nickname: c.nickname,
    fingerprint: c.fingerprint,
    verified: c.verified,
    keyChanged: c.keyChanged,
    isNew: c.isNew,
    protocol: c.protocol,
    protocolLine: protocolLine(protocolFacts(s.book[c.uid], relayV3)),
  };
}

export function messageOf(m: Message): Message {
  const out: Message = { id: m.id, ts: m.ts, from: m.from, mine: m.mine, body: m.body };
  if (m.file) out.file = { n: m.file.n, name: m.file.name, size: m.file.size, mime: m.file.mime };
  if (m.protocol !== undefined) out.protocol = m.protocol;
  if (m.downgraded) out.downgraded = true;
  if (m.alreadyRead) out.alreadyRead = true;
  return out;
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path))
    throw new PhantomError("bad-path", `${what} must be an absolute path (the daemon's folder is not yours)`);
  return path;
}

/** The settings as the API shows them: the words of `phantom settings`. */
export function settingsView(st: Settings): Record<string, string | boolean | number | null> {
  const onOff = (b: boolean) => (b ? "on" : "off");
  return {
    theme: st.theme,
    mascot: st.mascot,
    motd: st.motd,
    "tor-warning": onOff(st.torWarning),
    relay: st.relay ?? null,
    updates: onOff(st.updates),
    "update-url": st.updateUrl ?? null,
    history: historyText(st.history),
    "require-v3": onOff(st.requireV3),
    notify: onOff(st.notify),
    "notify-preview": onOff(st.notifyPreview),
  };
}

function identityOf(s: Session): Result<"identity"> {
  return {
    uid: s.uid,
    fingerprint: s.fingerprint,
    relay: s.relayUrl,
    viaTor: s.viaTor,
    tor: torText(s.tor),
    torMissing: s.torMissing,
    conversations: s.contacts().map((c) => ({ uid: c.uid, protocol: c.protocol })),
  };
}

/** A Tor configuration in one comparable line: "MODE HOST:PORT". */
export function torText(t: { mode: string; proxyHost: string; proxyPort: number }): string {
  return `${t.mode} ${t.proxyHost}:${t.proxyPort}`;
}

async function inboxQuietly(s: Session): Promise<boolean> {
  try {
    await s.processInbox();
    return true;
  } catch (e) {
    s.warn(`could not check for new contacts: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}

export const HANDLERS: { [M in Method]?: Handler<M> } = {
  identity: async (s) => identityOf(s),
  status: async (s, _p, env) => {
    const d = env.daemon?.();
    if (!d) throw new PhantomError("no-daemon", "status is the daemon's: no daemon runs");
    const { relayStatus, ...daemon } = d;
    return {
      ...identityOf(s),
      version: VERSION,
      daemon,
      contacts: s.contacts().length,
      requests: s.requests().length,
      relayStatus,
    };
  },
  "contacts.list": async (s) => {
    const reached = await inboxQuietly(s);
    const list = s.contacts();
    // PROTOCOL-v3 §V1: why a conversation is v2 may be the relay; asked only when it answered and it matters.
    const relayV3 = reached && list.some((c) => c.protocol === 2) ? await relayOffersV3(s) : null;
    return {
      contacts: list.map((c) => contactOf(s, c, relayV3)),
      requests: s.requests().length,
      relayReached: reached,
    };
  },
  "contacts.get": async (s, p) => contactOf(s, s.contact(p.contact)),
  "contacts.requests": async (s) => {
    await inboxQuietly(s);
    const requests = s.requests();
    let retentionDays: number | null = null;
    if (requests.length > 0) {
      try {
        retentionDays = await s.messageRetentionDays();
      } catch {
        // said without the number
      }
    }
    return { requests, retentionDays };
  },
  "contacts.blocked": async (s) => {
    await inboxQuietly(s);
    return { blocked: s.blocked() };
  },
  "contacts.add": async (s, p) =>
    contactOf(s, await s.addContact(p.uid, { trust: p.trust, ...(p.nick === undefined ? {} : { nick: p.nick }) })),
  "contacts.accept": async (s, p) => {
    await inboxQuietly(s); // a request that arrived since the last look
    return contactOf(s, s.accept(p.uid));
  },
  "contacts.block": async (s, p) => s.block(p.contact),
  "contacts.unblock": async (s, p) => s.unblock(p.uid),
  "contacts.safetyCode": async (s, p) => {
    const c = s.contact(p.contact);
    await s.learnSigningKey(c.uid);
    const code = s.safetyCode(c.uid);
    return { uid: c.uid, protocol: code === null ? 2 : 3, code: code ?? s.contact(c.uid).fingerprint };
  },
  "contacts.verify": async (s, p) => {
    const c = s.contact(p.contact);
    await s.learnSigningKey(c.uid);
    const expected = s.safetyCode(c.uid) ?? s.contact(c.uid).fingerprint;
    const norm = (x: string) => x.replace(/[\s:-]/g, "").toLowerCase();
    if (norm(p.code) !== norm(expected)) {
      throw new PhantomError("code-mismatch", `the code does not match: ${c.uid} stays unverified`);
    }
    return contactOf(s, s.verify(c.uid, { force: p.force }));
  },
  "contacts.nick": async (s, p) => {
    s.setNick(p.contact, p.nick);
    return contactOf(s, s.contact(p.nick));
  },
  "contacts.remove": async (s, p) => {
    const c = s.contact(p.contact);
    await s.removeContact(c.uid);
    return { uid: c.uid };
  },
  send: async (s, p) => ({ ts: await s.send(s.contact(p.contact).uid, p.text) }),
  sendFile: async (s, p, env) => {
    const c = s.contact(p.contact);
    const { ts, ...file } = await s.sendFile(c.uid, absolute(p.path, "path"), {
      onProgress: env.onProgress,
      signal: env.signal,
    });
    return { ts, file: { n: file.n, name: file.name, size: file.size, mime: file.mime } };
  },
  read: async (s, p) => {
    await s.processInbox();
    const c = s.contact(p.contact);
    let list = await s.history(c.uid, p.since === undefined ? {} : { sinceTs: p.since });
    const skipped = s.skippedLast;
    if (p.before !== undefined) list = list.filter((m) => m.ts < p.before!);
    const start = p.limit === undefined ? 0 : Math.max(0, list.length - p.limit);
    const page = list.slice(start);
    const newest = page.at(-1);
    if (newest && p.before === undefined) s.markRead(c.uid, newest.ts);
    return { contact: contactOf(s, c), messages: page.map(messageOf), more: start > 0, skipped };
  },
  "history.search": async (s, p) => {
    s.pruneHistory(); // `history days N`: older rows are not found
    const found = s.searchHistory(p.text, p.contact === undefined ? {} : { contact: p.contact });
    const seen = new Map<string, Contact>();
    const of = (uid: string) => {
      let c = seen.get(uid);
      if (c === undefined) seen.set(uid, (c = contactOf(s, s.contact(uid))));
      return c;
    };
    return { results: found.map(({ uid, message }) => ({ contact: of(uid), message: messageOf(message) })) };
  },
  "history.clear": async (s, p) => ({ deleted: s.clearHistory("all" in p ? null : s.contact(p.contact).uid) }),
  getFile: async (s, p, env) => {
    const c = s.contact(p.contact);
    const path = await s.getFile(c.uid, p.n, absolute(p.path, "path"), { force: p.force, onProgress: env.onProgress });
    return { path };
  },
  burn: async (s, p) => ({ deleted: await s.burn(s.contact(p.contact).uid) }),
  "settings.get": async (s, p) => {
    const all = settingsView(loadSettings(s.home));
    return { settings: p.key === undefined ? all : { [p.key]: all[p.key] ?? null } };
  },
  "settings.set": async (s, p) => {
    const words = p.value
      .trim()
      .split(/\s+/)
      .filter((w) => w !== "");
    return { settings: settingsView(applySetting(s.home, p.key, words)) };
  },
};
