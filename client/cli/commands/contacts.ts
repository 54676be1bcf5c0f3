// phantom contacts [--requests | --blocked]: read the key-exchange inbox (people who added us
// become contact requests), then list contacts (with their protocol, PROTOCOL-v3 §V1), pending
// requests or blocked UIDs.
import { PhantomError } from "../../../lib/errors.ts";
import type { ContactView } from "../../state/contacts.ts";
import type { Api } from "../../daemon/client.ts";
import { Ctx, type Globals, timeOf, who } from "./context.ts";

export async function run(g: Globals, o: { requests?: boolean; blocked?: boolean } = {}): Promise<void> {
  if (o.requests && o.blocked) throw new PhantomError("bad-arguments", "give either --requests or --blocked, not both");
  const ctx = new Ctx(g);
  const api = await ctx.api();
  // Each reads the key-exchange inbox first (a warning when the relay cannot be reached: the list is local).
  if (o.requests) await listRequests(ctx, api);
  else if (o.blocked) await listBlocked(ctx, api);
  else await listContacts(ctx, api);
  api.close();
}

async function listContacts(ctx: Ctx, api: Api): Promise<void> {
  const { contacts: list, requests: n } = await api.call("contacts.list", {});
  for (const c of list) {
    if (ctx.json) ctx.jsonLine(jsonOf(c));
    else ctx.line(contactLines(c, c.protocolLine));
  }
  if (ctx.json) return;
  if (list.length === 0) ctx.line("no contacts yet: phantom add <uid>");
  if (n > 0) ctx.line(`${n} contact request(s) waiting: phantom contacts --requests`);
}

async function listRequests(ctx: Ctx, api: Api): Promise<void> {
  const { requests: list, retentionDays: days } = await api.call("contacts.requests", {});
  for (const r of list) {
    if (ctx.json) ctx.jsonLine({ uid: r.uid, fingerprint: r.fingerprint, first_seen: r.firstSeen, room_id: r.roomId });
    else {
      ctx.line(`${r.uid}  [contact request, since ${timeOf(r.firstSeen)}]\n    fingerprint: ${r.fingerprint}`);
      ctx.line(`    accept: phantom accept ${r.uid}    refuse: phantom block ${r.uid}`);
    }
  }
  if (ctx.json) return;
  if (list.length === 0) return void ctx.line("no contact requests");
  ctx.line(
    `their messages are held until you accept; they wait on the relay ${days === null ? "for its retention" : `for ${days} day(s)`}, then are gone`,
  );
}

async function listBlocked(ctx: Ctx, api: Api): Promise<void> {
  const { blocked: list } = await api.call("contacts.blocked", {});
  for (const b of list) {
    if (ctx.json) ctx.jsonLine({ uid: b.uid, nickname: b.nickname, blocked_at: b.blockedAt });
    else ctx.line(`${who(b)}  [blocked since ${timeOf(b.blockedAt)}]    unblock: phantom unblock ${b.uid}`);
  }
  if (!ctx.json && list.length === 0) ctx.line("no one is blocked");
}

/** A contact in the human list: name and status, fingerprint, protocol (PROTOCOL-v3 §V1) with its reason. */
export function contactLines(c: ContactView, protocol: string): string {
  return `${who(c)}  ${status(c)}\n    fingerprint: ${c.fingerprint}\n    protocol:    ${protocol}`;
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
