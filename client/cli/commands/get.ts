// phantom get <uid> <n> [path] [--force]: download file n of the conversation from our own relay,
// decrypt it and save it (PROTOCOL §5.3). Never overwrites without --force (or a yes on a terminal).
import { resolve, sep } from "node:path";
import { PhantomError } from "../../../lib/errors.ts";
import { confirm } from "../prompt.ts";
import { Ctx, type Globals, progressBar } from "./context.ts";

export async function run(g: Globals, uid: string, n: string, path: string | undefined, o: { force?: boolean }) {
  const ctx = new Ctx(g);
  if (!/^\d{1,9}$/.test(n) || Number(n) < 1) throw new PhantomError("bad-number", "the file number is 1 or more");
  const api = await ctx.api();
  const c = await api.call("contacts.get", { contact: uid });
  // The daemon writes where this command stands: the path is made absolute here (a trailing / kept).
  const dest = path === undefined ? process.cwd() : resolve(path) + (/[\\/]$/.test(path) ? sep : "");
  const get = (force: boolean) =>
    api.call(
      "getFile",
      { contact: c.uid, n: Number(n), path: dest, force },
      { onProgress: progressBar("downloading") },
    );
  let saved: string;
  try {
    ({ path: saved } = await get(o.force === true));
  } catch (e) {
    // On a terminal an existing file is asked about, as before: yes downloads again with force.
    const exists = e instanceof PhantomError && e.code === "file-exists";
    const target = exists ? /^(.*) already exists \(use --force to overwrite\)$/.exec(e.message)?.[1] : undefined;
    if (target === undefined || !ctx.interactive || !(await confirm(`${target} exists. Overwrite it?`))) throw e;
    ({ path: saved } = await get(true));
  }
  if (ctx.json) ctx.jsonLine({ path: saved });
  else ctx.line(`saved ${saved}`);
  api.close();
}
