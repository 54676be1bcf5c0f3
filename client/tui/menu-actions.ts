// The menu's actions on contacts and identity. Each asks with clack prompts and
// calls the Session; Esc / Ctrl-C at any question goes back to the menu.
import * as p from "@clack/prompts";
import { torStatus } from "../../lib/tor.ts";
import type { ContactView } from "../state/contacts.ts";
import type { Session } from "../core/session.ts";
import { burnFlow, confirmTwice, confirmVerify, type Dialog, showFingerprints, verifyFlow } from "./flows.ts";
import { identityCard } from "./identity-card.ts";
import { liveSelect, type LiveOption } from "./live-select.ts";
import { refreshState, reloadContacts, type MenuState } from "./menu-state.ts";
import { keptWarning } from "../state/wipe.ts";
import { cleanText } from "../text/sanitise.ts";
import { contactName, type Ui } from "./ui.ts";

const UID_RE = /^[A-Za-z0-9_-]{28}$/;

function status(ui: Ui, c: ContactView): string {
  const t = ui.theme;
  if (c.keyChanged) return t.danger("KEY CHANGED");
  const parts = [c.verified ? t.ok("verified") : t.warn("not verified")];
  if (c.isNew) parts.push(t.accent("new"));
  return parts.join(" · ");
}

/** Choose a contact (with unread counts, refreshed); null when there is none or on Esc. */
export async function pickContact(ui: Ui, session: Session, message: string, st: MenuState): Promise<string | null> {
  reloadContacts(session, st);
  const contacts = session.contacts();
  if (contacts.length === 0) {
    p.log.info("No contacts yet: choose Add a contact, or share your UID (My UID).");
    return null;
  }
  const options = (): LiveOption<string>[] =>
    session.contacts().map((c) => {
      const n = st.counts[c.uid] ?? 0;
      return {
        value: c.uid,
        label: `${contactName(c)}${n > 0 ? ui.theme.accent(`  (${n} new)`) : ""}`,
        hint: `${c.uid.slice(0, 8)}… · ${status(ui, c)}`,
      };
    });
  return await liveSelect<string>({
    theme: ui.theme,
    message,
    options: options(),
    refreshMs: 5000,
    refresh: async () => {
      await refreshState(session, st);
      return { message, options: options() };
    },
  });
}

/** The shared flows (flows.ts) through clack prompts. */
function menuDialog(ui: Ui): Dialog {
  return {
    theme: ui.theme,
    note: (lines, title) => p.note(lines.join("\n"), title),
    info: (text) => p.log.info(text),
    success: (text) => p.log.success(text),
    warn: (text) => p.log.warn(ui.theme.danger(text)),
    confirm: async (message) => (await p.confirm({ message, initialValue: false })) === true,
    text: async (message) => {
      const v = await p.text({ message });
      return p.isCancel(v) ? null : v;
    },
  };
}

export async function addContact(ui: Ui, session: Session): Promise<void> {
  const uid = await p.text({
    message: "Their UID (28 characters)",
    placeholder: "paste the UID they shared",
    validate: (v) => {
      const s = (v ?? "").replace(/\s+/g, "");
      if (!UID_RE.test(s)) return "A UID has 28 characters: letters, digits, - and _";
      if (s === session.uid) return "That is your own UID";
      return undefined;
    },
  });
  if (p.isCancel(uid)) return;
  const nick = await p.text({ message: "Nickname (optional)", placeholder: "e.g. alice" });
  if (p.isCancel(nick)) return;
  const c = await session.addContact(uid.replace(/\s+/g, ""), nick.trim() ? { nick: nick.trim() } : {});
  p.log.success(`Added ${contactName(c)}. They will see you as a new contact.`);
  const d = menuDialog(ui);
  showFingerprints(d, session, c);
  if (await d.confirm("Verify them now (compare fingerprints over a call or in person)?")) {
    await confirmVerify(d, session, c);
  }
}

export function showContacts(ui: Ui, session: Session, st: MenuState): void {
  const contacts = session.contacts();
  if (contacts.length === 0) return void p.log.info("No contacts yet.");
  const lines = contacts.map((c) => {
    const n = st.counts[c.uid] ?? 0;
    const unread = n > 0 ? ui.theme.accent(`  ${n} unread`) : "";
    return `${ui.theme.bold(contactName(c).padEnd(14))} ${c.uid}  ${status(ui, c)}${unread}`;
  });
  p.note(lines.join("\n"), `Contacts (${contacts.length})`);
}

export function showUid(ui: Ui, session: Session): void {
  const side = [
    "Share this UID with the people",
    "you want to talk to; they add it",
    "with Add a contact.",
    "",
    ui.theme.dim(`relay ${session.relayUrl}`),
  ];
  p.note(
    identityCard(session.uid, session.fingerprint, ui.theme, side, process.stdout.columns ?? 80).join("\n"),
    "My UID",
  );
}

export async function verifyContact(ui: Ui, session: Session, st: MenuState): Promise<void> {
  const uid = await pickContact(ui, session, "Verify whom?", st);
  if (uid) await verifyFlow(menuDialog(ui), session, uid);
}

export async function setNickname(ui: Ui, session: Session, st: MenuState): Promise<void> {
  const uid = await pickContact(ui, session, "Nickname for whom?", st);
  if (!uid) return;
  const c = session.contact(uid);
  // The current name is a placeholder, not text to append to: what is typed replaces it, Enter keeps it.
  const current = c.nickname === null ? "" : cleanText(c.nickname, { oneLine: true }).trim();
  const nick = await p.text({
    message: current ? "Nickname (Enter keeps the current one)" : "Nickname",
    placeholder: current || undefined,
    validate: (v) => (v?.trim() || current ? undefined : "Type a name"),
  });
  if (p.isCancel(nick)) return;
  const chosen = (nick ?? "").trim();
  if (chosen === "") return void p.log.info(`${contactName(c)} keeps the nickname.`);
  session.setNick(uid, chosen);
  p.log.success(`${c.uid.slice(0, 8)}… is now ${contactName(session.contact(uid))}.`);
}

export async function burnMessages(ui: Ui, session: Session, st: MenuState): Promise<void> {
  const uid = await pickContact(ui, session, "Delete the messages with whom?", st);
  if (uid) await burnFlow(menuDialog(ui), session, uid);
}

export async function removeContact(ui: Ui, session: Session, st: MenuState): Promise<void> {
  const uid = await pickContact(ui, session, "Remove whom?", st);
  if (!uid) return;
  const name = contactName(session.contact(uid));
  const ok = await p.confirm({
    message: ui.theme.danger(`Remove ${name}? Your conversation is burned on the relay first.`),
    initialValue: false,
  });
  if (ok !== true) return void p.log.info("Kept.");
  await session.removeContact(uid);
  delete st.counts[uid];
  p.log.success(`Removed ${name}.`);
}

export async function torInfo(ui: Ui, session: Session): Promise<void> {
  const lines = await torStatus(ui.config.tor, { relayUrl: session.relayUrl });
  p.note(
    lines.map((l) => cleanText(l, { oneLine: true })).join("\n"),
    session.viaTor ? "Tor: in use" : "Tor: not in use",
  );
}

/** Panic wipe: two confirmations, then burn every room and delete this machine's identity. */
export async function panicWipe(ui: Ui, session: Session): Promise<boolean> {
  const t = ui.theme;
  p.log.warn(
    t.danger("PANIC WIPE: burns every conversation on the relay, then deletes your identity, contacts and settings\n") +
      t.danger(`from ${session.home}. Your UID cannot be recovered afterwards.`),
  );
  if (!(await confirmTwice(menuDialog(ui), t.danger("Wipe everything?"), "WIPE"))) {
    p.log.info("Nothing wiped.");
    return false;
  }
  const r = await session.panic();
  // What was on the screen (names, messages) goes with the files: the screen and its scrollback.
  process.stdout.write(CLEAR_SCREEN_AND_SCROLLBACK);
  const failed = r.failed.length > 0 ? t.warn(` (${r.failed.length} could not be burned: relay unreachable?)`) : "";
  if (r.kept.length > 0) p.log.warn(cleanText(keptWarning(session.home, r.kept), { oneLine: true }));
  if (r.left > 0) {
    p.log.warn(t.warn(`${r.left} of ${r.total} conversations still on the relay: run phantom panic --finish`));
  }
  p.outro(t.danger(`Wiped: ${r.burned} conversation${r.burned === 1 ? "" : "s"} burned, identity deleted.`) + failed);
  return true;
}

/** ESC[2J clears the screen, ESC[3J its scrollback, ESC[H puts the cursor home. */
export const CLEAR_SCREEN_AND_SCROLLBACK = "\x1b[2J\x1b[3J\x1b[H";
