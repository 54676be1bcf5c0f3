// phantom history clear <contact> | --all [--yes]: delete local history (PROTOCOL-v3 §V8) — the
// messages this device keeps sealed in state.db. The relay's copies are not touched: `burn` does that.
import { PhantomError } from "../../../lib/errors.ts";
import { Ctx, type Globals, who } from "./context.ts";

export async function run(
  g: Globals,
  action: string,
  contact: string | undefined,
  o: { all?: boolean; yes?: boolean },
): Promise<void> {
  if (action !== "clear") throw new PhantomError("bad-usage", `unknown history action '${action}' (clear)`);
  if (contact === undefined && !o.all) {
    throw new PhantomError("bad-usage", "history clear needs a contact, or --all for every conversation");
  }
  if (contact !== undefined && o.all) {
    throw new PhantomError("bad-usage", "history clear takes a contact or --all, not both");
  }
  const ctx = new Ctx(g);
  const api = await ctx.api();
  try {
    const c = contact === undefined ? null : await api.call("contacts.get", { contact });
    const what = c === null ? "every conversation" : `the conversation with ${who(c)}`;
    await ctx.confirmDestructive(
      o.yes,
      `Delete the local history of ${what}? (the relay's copies stay: phantom burn deletes those)`,
      "history clear",
    );
    const { deleted } = await api.call("history.clear", c === null ? { all: true } : { contact: c.uid });
    if (ctx.json) ctx.jsonLine({ uid: c === null ? null : c.uid, deleted });
    else {
      ctx.line(`deleted ${deleted} message${deleted === 1 ? "" : "s"} of local history of ${what}`);
      ctx.line("the relay's copies are untouched (phantom burn deletes those)");
    }
  } finally {
    api.close();
  }
}
