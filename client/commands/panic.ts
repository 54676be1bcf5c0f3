// phantom panic [--yes]: burn every known room, then delete $PHANTOM_HOME (identity, contacts, settings).
import { PhantomError } from "../../lib/errors.ts";
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals, o: { yes?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  const s = await ctx.open();
  await ctx.confirmDestructive(
    o.yes,
    `Burn every conversation and delete ${ctx.home} (your identity too, for good)?`,
    "panic",
  );
  const r = await s.panic();
  if (ctx.json) ctx.jsonLine({ burned: r.burned, failed: r.failed, deleted: ctx.home });
  else ctx.line(`burned ${r.burned} conversation${r.burned === 1 ? "" : "s"}; deleted ${ctx.home}`);
  if (r.failed.length > 0) {
    throw new PhantomError("panic-incomplete", `${r.failed.length} conversation(s) could not be burned on the relay`);
  }
}
