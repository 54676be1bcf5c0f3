// phantom contacts: read the key-exchange inbox (people who added us), then list contacts.
import { printWarning } from "../errors.ts";
import type { ContactView } from "../../state/contacts.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(g: Globals): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  try {
    await s.processInbox();
  } catch (e) {
    // The list is local: still show it when the relay cannot be reached.
    printWarning(`could not check for new contacts: ${e instanceof Error ? e.message : String(e)}`);
  }
  const list = s.contacts();
  for (const c of list) {
    if (ctx.json) ctx.jsonLine(jsonOf(c));
    else ctx.line(`${who(c)}  ${status(c)}\n    fingerprint: ${c.fingerprint}`);
  }
  if (!ctx.json && list.length === 0) ctx.line("no contacts yet: phantom add <uid>");
  s.close();
}

function jsonOf(c: ContactView) {
  return {
    uid: c.uid,
    nickname: c.nickname,
    fingerprint: c.fingerprint,
    verified: c.verified,
    key_changed: c.keyChanged,
    new: c.isNew,
  };
}

function status(c: ContactView): string {
  const parts = [c.verified ? "verified" : "not verified"];
  if (c.keyChanged) parts.push(c.verified ? "key changed" : "KEY CHANGED");
  if (c.isNew) parts.push("new");
  return `[${parts.join(", ")}]`;
}
