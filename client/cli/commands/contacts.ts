// phantom contacts [--requests | --blocked]: read the key-exchange inbox (people who added us
// become contact requests), then list contacts (with their protocol, PROTOCOL-v3 §V1), pending
// requests or blocked UIDs.
import { PhantomError } from "../../../lib/errors.ts";
import { printWarning } from "../errors.ts";
import type { ContactView } from "../../state/contacts.ts";
import type { Session } from "../../core/session.ts";
import { protocolFacts, relayOffersV3 } from "../../core/protocol-info.ts";
import { type ProtocolFacts, protocolLine } from "../../text/protocol.ts";
import { Ctx, type Globals, timeOf, who } from "./context.ts";

export async function run(g: Globals, o: { requests?: boolean; blocked?: boolean } = {}): Promise<void> {
  if (o.requests && o.blocked) throw new PhantomError("bad-arguments", "give either --requests or --blocked, not both");
  const ctx = new Ctx(g);
  const s = await ctx.open();
  let reached = true;
  try {
    await s.processInbox();
  } catch (e) {
    // The list is local: still show it when the relay cannot be reached.
    reached = false;
    printWarning(`could not check for new contacts: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (o.requests) await listRequests(ctx, s);
  else if (o.blocked) listBlocked(ctx, s);
  else await listContacts(ctx, s, reached);
  s.close();
}

async function listContacts(ctx: Ctx, s: Session, reached: boolean): Promise<void> {
  const list = s.contacts();
  // PROTOCOL-v3 §V1: why a conversation is v2 may be the relay; asked only when it answered and it matters.
  const relayV3 = !ctx.json && reached && list.some((c) => c.protocol === 2) ? await relayOffersV3(s) : null;
  for (const c of list) {
    if (ctx.json) ctx.jsonLine(jsonOf(c));
    else ctx.line(contactLines(c, protocolFacts(s.book[c.uid], relayV3)));
  }
  if (ctx.json) return;
  if (list.length === 0) ctx.line("no contacts yet: phantom add <uid>");
  const n = s.requests().length;
  if (n > 0) ctx.line(`${n} contact request(s) waiting: phantom contacts --requests`);
}

async function listRequests(ctx: Ctx, s: Session): Promise<void> {
  const list = s.requests();
  for (const r of list) {
    if (ctx.json) ctx.jsonLine({ uid: r.uid, fingerprint: r.fingerprint, first_seen: r.firstSeen, room_id: r.roomId });
    else {
      ctx.line(`${r.uid}  [contact request, since ${timeOf(r.firstSeen)}]\n    fingerprint: ${r.fingerprint}`);
      ctx.line(`    accept: phantom accept ${r.uid}    refuse: phantom block ${r.uid}`);
    }
  }
  if (ctx.json) return;
  if (list.length === 0) return void ctx.line("no contact requests");
  let days: number | null = null;
  try {
    days = await s.messageRetentionDays();
  } catch {
    // said without the number
  }
  ctx.line(
    `their messages are held until you accept; they wait on the relay ${days === null ? "for its retention" : `for ${days} day(s)`}, then are gone`,
  );
}

function listBlocked(ctx: Ctx, s: Session): void {
  const list = s.blocked();
  for (const b of list) {
    if (ctx.json) ctx.jsonLine({ uid: b.uid, nickname: b.nickname, blocked_at: b.blockedAt });
    else ctx.line(`${who(b)}  [blocked since ${timeOf(b.blockedAt)}]    unblock: phantom unblock ${b.uid}`);
  }
  if (!ctx.json && list.length === 0) ctx.line("no one is blocked");
}

/** A contact in the human list: name and status, fingerprint, protocol (PROTOCOL-v3 §V1) with its reason. */
export function contactLines(c: ContactView, facts: ProtocolFacts): string {
  return `${who(c)}  ${status(c)}\n    fingerprint: ${c.fingerprint}\n    protocol:    ${protocolLine(facts)}`;
}

export function jsonOf(c: ContactView) {
  return {
    uid: c.uid,
    nickname: c.nickname,
    fingerprint: c.fingerprint,
    verified: c.verified,
    key_changed: c.keyChanged,
    new: c.isNew,
    protocol: c.protocol, // PROTOCOL-v3 §V1
  };
}

function status(c: ContactView): string {
  const parts = [c.verified ? "verified" : "not verified"];
  if (c.keyChanged) parts.push(c.verified ? "key changed" : "KEY CHANGED");
  if (c.isNew) parts.push("new");
  return `[${parts.join(", ")}]`;
}
