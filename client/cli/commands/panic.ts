// phantom panic [--yes]: burn every known room (PROTOCOL §7.7), then delete $PHANTOM_HOME.
// Burning needs the password (requests are signed, §6); deleting does not. Without it (none
// given and no terminal, Enter alone at the prompt, a wrong one) the folder is still deleted,
// after saying that the relay keeps its copies until they expire (§8).
import { existsSync } from "node:fs";
import { CryptoError, PhantomError } from "../../../lib/errors.ts";
import { errorText, printWarning } from "../errors.ts";
import { loadContacts } from "../../state/contacts.ts";
import type { BurnAllResult } from "../../core/panic.ts";
import { checkPhantomHome, keptWarning, wipeHome } from "../../state/wipe.ts";
import { readPassword } from "../password.ts";
import { Session } from "../../core/session.ts";
import { hasIdentity } from "../../state/vault.ts";
import { Ctx, type Globals } from "./context.ts";

export async function run(g: Globals, o: { yes?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  if (!existsSync(ctx.home)) {
    if (ctx.json) ctx.jsonLine({ burned: 0, failed: [], deleted: null, unlocked: false });
    else ctx.line(`nothing to delete: ${ctx.home} does not exist`);
    return;
  }
  checkPhantomHome(ctx.home);
  await ctx.confirmDestructive(
    o.yes,
    `Burn every conversation and delete ${ctx.home} (your identity too, for good)?`,
    "panic",
  );
  const rooms = knownRooms(ctx.home);
  const s = rooms?.length === 0 ? null : await unlockForPanic(ctx);
  let r: BurnAllResult & { kept: string[] };
  if (s !== null) {
    r = await s.panic();
  } else {
    r = { burned: 0, failed: rooms ?? [], kept: wipeHome(ctx.home) };
  }
  const unlocked = s !== null;
  if (r.kept.length > 0) printWarning(keptWarning(ctx.home, r.kept));
  if (ctx.json) ctx.jsonLine({ burned: r.burned, failed: r.failed, deleted: ctx.home, unlocked, kept: r.kept });
  else {
    const deleted = r.kept.length > 0 ? `deleted Phantom's files in ${ctx.home}` : `deleted ${ctx.home}`;
    if (unlocked) ctx.line(`burned ${r.burned} conversation${r.burned === 1 ? "" : "s"}; ${deleted}`);
    else if (rooms?.length === 0) ctx.line(`${deleted} (there were no conversations to burn)`);
    else ctx.line(`${deleted}; nothing was burned on the relay`);
  }
  if (r.failed.length > 0 || (rooms === null && !unlocked)) {
    const what = r.failed.length > 0 ? `${r.failed.length} conversation(s)` : "the conversations";
    const fate = unlocked ? "could not be burned on the relay" : "stay on the relay until they expire";
    throw new PhantomError("panic-incomplete", `${what} ${fate}`);
  }
}

/** The contacts' UIDs from contacts.json (not encrypted); null when it cannot be read. */
function knownRooms(home: string): string[] | null {
  try {
    return Object.keys(loadContacts(home));
  } catch {
    return null;
  }
}

/** An unlocked session to burn with, or null (said on stderr) when the password is not there. */
async function unlockForPanic(ctx: Ctx): Promise<Session | null> {
  let why: string;
  if (!hasIdentity(ctx.home)) {
    why = "no identity to unlock";
  } else {
    try {
      const password = await readPassword({
        source: ctx.passwordSource,
        prompt: "Password (Enter alone: delete without burning the relay's copies): ",
      });
      if (password !== "") return await Session.open(ctx.sessionConfig(password), ctx.hooks);
      why = "no password given";
    } catch (e) {
      if (e instanceof PhantomError && e.code === "interrupted") throw e; // Ctrl-C: nothing deleted
      why =
        e instanceof CryptoError && e.code === "wrong-password"
          ? "wrong password"
          : e instanceof PhantomError && e.code === "no-password"
            ? "no password (PHANTOM_PASSWORD not set, no terminal to ask on)"
            : errorText(e);
    }
  }
  printWarning(
    `${why}: the conversations cannot be burned on the relay; it keeps its copies until they expire ` +
      "(messages after 7 days, files after 24 hours, unless the relay is set otherwise)",
  );
  return null;
}
