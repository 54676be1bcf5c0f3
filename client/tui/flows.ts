// What the menu and the chat screen both do, written once: the fingerprint (v2) or
// safety code (PROTOCOL-v3 §V2.1) comparison and verification, and burning a conversation (two confirmations).
// Each screen supplies a Dialog: the menu asks with clack prompts, the chat
// screen on its input line and prints above it.
import type { ContactView } from "../state/contacts.ts";
import type { Session } from "../core/session.ts";
import { sideBySide } from "./term.ts";
import type { Theme } from "./themes.ts";
import { contactName, fingerprintRows } from "./ui.ts";

export interface Dialog {
  readonly theme: Theme;
  /** A block of lines under a title. */
  note(lines: string[], title: string): void;
  info(text: string): void;
  success(text: string): void;
  /** Something to be careful about (shown in the danger colour). */
  warn(text: string): void;
  /** A yes/no question; no unless the user says yes. */
  confirm(question: string): Promise<boolean>;
  /** A line of text; null when the user cancels. */
  text(question: string): Promise<string | null>;
}

type Trust = Pick<Session, "contact" | "fingerprint" | "verify" | "burn" | "safetyCode" | "learnSigningKey">;

/** Their fingerprint beside ours, in rows of five groups. */
export function fingerprintColumns(t: Theme, session: Pick<Session, "fingerprint">, c: ContactView): string[] {
  const theirs = [t.bold(`${contactName(c)} (their key)`), ...fingerprintRows(c.fingerprint)];
  const mine = [t.bold("you (your key)"), ...fingerprintRows(session.fingerprint)];
  return sideBySide(theirs, mine, 6);
}

/** PROTOCOL-v3 §V2.1: a contact pinned to v3 shows the safety code both see; a v2 contact both fingerprints. */
export function showFingerprints(d: Dialog, session: Trust, c: ContactView): void {
  const code = session.safetyCode(c.uid);
  if (code !== null) {
    return d.note(
      [d.theme.bold(code)],
      `Compare the safety code with ${contactName(c)} over a channel you trust (in person, a call); they see the same`,
    );
  }
  d.note(fingerprintColumns(d.theme, session, c), "Compare fingerprints over a channel you trust (in person, a call)");
}

/** Ask whether the safety code or the fingerprints match (after showFingerprints) and mark the contact verified. */
export async function confirmVerify(d: Dialog, session: Trust, c: ContactView): Promise<void> {
  const name = contactName(c);
  if (c.keyChanged) d.warn(`The key of ${name} CHANGED since you last accepted it. Compare before you trust it.`);
  const what = session.safetyCode(c.uid) === null ? "the left column" : "the safety code";
  if (!(await d.confirm(`Does ${what} match what ${name} reads to you from their screen?`))) {
    return d.info("Not verified.");
  }
  session.verify(c.uid, { force: c.keyChanged });
  d.success(`${name} is now verified.`);
}

/** The whole verification: the comparison, then the question unless they already are verified. */
export async function verifyFlow(d: Dialog, session: Trust, uid: string): Promise<void> {
  await session.learnSigningKey(uid);
  const c = session.contact(uid);
  showFingerprints(d, session, c);
  if (c.verified && !c.keyChanged) return d.success(`${contactName(c)} is already verified.`);
  await confirmVerify(d, session, c);
}

/** Destructive actions ask twice: a yes, then `word` typed (any case). */
export async function confirmTwice(d: Dialog, question: string, word: string): Promise<boolean> {
  if (!(await d.confirm(question))) return false;
  const typed = await d.text(d.theme.danger(`This cannot be undone. Type ${word} to confirm:`));
  return typed !== null && typed.trim().toLowerCase() === word.toLowerCase();
}

/** PROTOCOL §7.7 from the UI: confirmed twice, then the relay deletes the conversation. */
export async function burnFlow(d: Dialog, session: Trust, uid: string): Promise<void> {
  const name = contactName(session.contact(uid));
  const question = d.theme.danger(`Delete every message and file with ${name} from the relay?`);
  if (!(await confirmTwice(d, question, "burn"))) return d.info("Nothing deleted.");
  const n = await session.burn(uid);
  d.success(`Burned: ${n} stored item${n === 1 ? "" : "s"} deleted from the relay.`);
}
