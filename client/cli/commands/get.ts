// phantom get <uid> <n> [path] [--force]: download file n of the conversation from our own relay,
// decrypt it and save it (PROTOCOL §5.3). Never overwrites without --force (or a yes on a terminal).
import { PhantomError } from "../../../lib/errors.ts";
import { confirm } from "../prompt.ts";
import { Ctx, type Globals, progressBar } from "./context.ts";

export async function run(g: Globals, uid: string, n: string, path: string | undefined, o: { force?: boolean }) {
  const ctx = new Ctx(g);
  if (!/^\d{1,9}$/.test(n) || Number(n) < 1) throw new PhantomError("bad-number", "the file number is 1 or more");
  const s = await ctx.open();
  const c = s.contact(uid);
  const saved = await s.getFile(c.uid, Number(n), path, {
    force: o.force,
    onProgress: progressBar("downloading"),
    confirmOverwrite: ctx.interactive ? (p) => confirm(`${p} exists. Overwrite it?`) : undefined,
  });
  if (ctx.json) ctx.jsonLine({ path: saved });
  else ctx.line(`saved ${saved}`);
  s.close();
}
