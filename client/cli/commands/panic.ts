// phantom panic [--yes] [--finish]: burn every known room (PROTOCOL §7.7), then delete $PHANTOM_HOME.
// Burning needs the password (requests are signed, §6); deleting does not. Without it (none
// given and no terminal, Enter alone at the prompt, a wrong one after the retries) the folder
// is still deleted, after saying that the relay keeps its copies until they expire (§8).
// The rooms the relay's burn limit leaves stay in a sealed burn list: `--finish` burns them.
import { existsSync } from "node:fs";
import { CryptoError, PhantomError } from "../../../lib/errors.ts";
import { errorText, printWarning } from "../errors.ts";
import { ContactsFile, contactsPath } from "../../state/contacts.ts";
import { type BurnProgress, type BurnRunResult, finishPanic, type PanicResult } from "../../core/panic.ts";
import { burnListLeft, hasBurnList } from "../../state/burn-list.ts";
import { BURN_LIST_FILE, readState, STATE_DB_FILE, statePath } from "../../state/home.ts";
import { checkPhantomHome, keptWarning, wipeHome } from "../../state/wipe.ts";
import { readPassword } from "../password.ts";
import { Session } from "../../core/session.ts";
import { hasIdentity } from "../../state/vault.ts";
import { stopDaemon } from "../../daemon/client.ts";
import { Ctx, type Globals } from "./context.ts";

/** Password questions on a terminal before a panic gives up on burning. */
export const PANIC_PASSWORD_TRIES = 3;

export const FINISH_HINT = "run phantom panic --finish";

export async function run(g: Globals, o: { yes?: boolean; finish?: boolean }): Promise<void> {
  const ctx = new Ctx(g);
  if (o.finish) return await finish(ctx);
  if (!existsSync(ctx.home)) {
    if (ctx.json) ctx.jsonLine({ burned: 0, failed: [], deleted: null, unlocked: false });
    else ctx.line(`nothing to delete: ${ctx.home} does not exist`);
    return;
  }
  checkPhantomHome(ctx.home);
  if (hasBurnList(ctx.home) && !hasIdentity(ctx.home)) {
    // Only an earlier panic's burn list is left: burning it is --finish (deleting it, a plain rm).
    throw new PhantomError(
      "panic-incomplete",
      `an earlier panic left ${leftText({ left: burnListLeft(ctx.home) ?? 0 })}`,
    );
  }
  await ctx.confirmDestructive(
    o.yes,
    `Burn every conversation and delete ${ctx.home} (your identity too, for good)?`,
    "panic",
  );
  // A running daemon holds the identity unlocked and writes to the folder: it stops first.
  await stopDaemon(ctx.home);
  const rooms = knownRooms(ctx.home);
  const s = rooms?.length === 0 ? null : await unlockForPanic(ctx);
  let r: PanicResult;
  if (s !== null) {
    try {
      r = await s.panic({ onWait: waitLine(ctx) });
    } finally {
      endWaitLine(ctx);
    }
  } else {
    // An earlier panic's burn list stays: it can still be finished with the password.
    const n = rooms?.length ?? 0;
    r = { burned: 0, failed: rooms ?? [], left: 0, total: n, kept: wipeHome(ctx.home, { keep: [BURN_LIST_FILE] }) };
  }
  const unlocked = s !== null;
  if (r.kept.length > 0) printWarning(keptWarning(ctx.home, r.kept));
  if (ctx.json) {
    ctx.jsonLine({
      burned: r.burned,
      failed: r.failed,
      left: r.left,
      total: r.total,
      deleted: ctx.home,
      unlocked,
      kept: r.kept,
    });
  } else {
    const listed = r.left > 0 ? " except the sealed burn list" : "";
    const deleted =
      r.kept.length > 0 ? `deleted Phantom's files in ${ctx.home}${listed}` : `deleted ${ctx.home}${listed}`;
    if (unlocked) ctx.line(`burned ${burnedText(r)}; ${deleted}`);
    else if (rooms?.length === 0) ctx.line(`${deleted} (there were no conversations to burn)`);
    else ctx.line(`${deleted}; nothing was burned on the relay`);
  }
  if (r.left > 0) throw new PhantomError("panic-incomplete", leftText(r));
  if (r.failed.length > 0 || (rooms === null && !unlocked)) {
    const what = r.failed.length > 0 ? `${r.failed.length} conversation(s)` : "the conversations";
    const fate = unlocked ? "could not be burned on the relay" : "stay on the relay until they expire";
    throw new PhantomError("panic-incomplete", `${what} ${fate}`);
  }
}

/** `phantom panic --finish`: burn what the burn list holds; it is deleted once empty. */
async function finish(ctx: Ctx): Promise<void> {
  const left = hasBurnList(ctx.home) ? burnListLeft(ctx.home) : null;
  if (left === null) {
    if (ctx.json) ctx.jsonLine({ burned: 0, failed: [], left: 0, total: 0 });
    else ctx.line(`nothing to finish: no burn list in ${ctx.home}`);
    return;
  }
  const config = await ctx.loadConfig();
  let r: BurnRunResult | null = null;
  for (let attempt = 1; r === null; attempt++) {
    const password = await readPassword({
      source: ctx.passwordSource,
      prompt: `Password (to burn the ${conversations(left)} left on the relay): `,
    });
    try {
      const p: BurnProgress = { warn: printWarning, onWait: waitLine(ctx) };
      const c = { home: ctx.home, password, tor: config.tor, direct: config.direct, confirmDirect: ctx.confirmDirect };
      r = (await finishPanic(c, p)) ?? { burned: 0, failed: [], left: 0, total: 0 };
    } catch (e) {
      if (!(isWrongPassword(e) && canRetry(ctx, attempt))) throw e;
      printWarning("wrong password, try again");
    } finally {
      endWaitLine(ctx);
    }
  }
  if (ctx.json) ctx.jsonLine({ burned: r.burned, failed: r.failed, left: r.left, total: r.total });
  else ctx.line(`burned ${burnedText(r)}${r.left === 0 ? "; the burn list is deleted" : ""}`);
  if (r.left > 0) throw new PhantomError("panic-incomplete", leftText(r));
  if (r.failed.length > 0) {
    throw new PhantomError("panic-incomplete", `${r.failed.length} conversation(s) could not be burned on the relay`);
  }
}

function conversations(n: number): string {
  return `${n} conversation${n === 1 ? "" : "s"}`;
}

function burnedText(r: { burned: number; total: number }): string {
  return r.burned === r.total ? conversations(r.burned) : `${r.burned} of ${conversations(r.total)}`;
}

function leftText(r: { left: number; total?: number }): string {
  const of = r.total === undefined ? conversations(r.left) : `${r.left} of ${conversations(r.total)}`;
  return `${of} still on the relay: ${FINISH_HINT}`;
}

/** On a terminal, the wait for the relay's burn limit is a countdown line on stderr; elsewhere there is no wait. */
function waitLine(ctx: Ctx): BurnProgress["onWait"] {
  if (!ctx.interactive) return undefined;
  return (left, total, seconds) => {
    const m = Math.floor(seconds / 60);
    const sec = String(seconds % 60).padStart(2, "0");
    process.stderr.write(
      `\r\x1b[Kthe relay's burn limit: ${total - left} of ${total} burned, ${left} left; next try in ${m}:${sec} ` +
        `(Ctrl-C: finish later with phantom panic --finish)`,
    );
  };
}

function endWaitLine(ctx: Ctx): void {
  if (ctx.interactive) process.stderr.write("\r\x1b[K");
}

function isWrongPassword(e: unknown): boolean {
  return e instanceof CryptoError && e.code === "wrong-password";
}

/** A wrong password typed at the terminal is asked again; one from the environment is not. */
function canRetry(ctx: Ctx, attempt: number): boolean {
  return ctx.passwordSource.kind === "prompt" && process.stdin.isTTY === true && attempt < PANIC_PASSWORD_TRIES;
}

/**
 * The contacts' UIDs when they can be known without the password: none when there is neither
 * state.db nor a 2.x contacts.json, those of a contacts.json (plaintext, not yet imported);
 * null when they are sealed in state.db (PROTOCOL-v3 §V8) or cannot be read.
 */
function knownRooms(home: string): string[] | null {
  try {
    if (existsSync(statePath(home, STATE_DB_FILE))) return null;
    return Object.keys(readState(ContactsFile, contactsPath(home)) ?? {});
  } catch {
    return null;
  }
}

/** An unlocked session to burn with, or null (said on stderr) when the password is not there. */
async function unlockForPanic(ctx: Ctx): Promise<Session | null> {
  let why = "no identity to unlock";
  for (let attempt = 1; hasIdentity(ctx.home); attempt++) {
    try {
      const password = await readPassword({
        source: ctx.passwordSource,
        prompt: "Password (Enter alone: delete without burning the relay's copies): ",
      });
      if (password !== "") return await Session.open(await ctx.sessionConfig(password), ctx.hooks);
      why = "no password given";
    } catch (e) {
      if (e instanceof PhantomError && e.code === "interrupted") throw e; // Ctrl-C: nothing deleted
      if (isWrongPassword(e) && canRetry(ctx, attempt)) {
        printWarning(
          `wrong password, try again (${PANIC_PASSWORD_TRIES - attempt} more; Enter alone: delete without burning)`,
        );
        continue;
      }
      why = isWrongPassword(e)
        ? "wrong password"
        : e instanceof PhantomError && e.code === "no-password"
          ? "no password (PHANTOM_PASSWORD not set, no terminal to ask on)"
          : errorText(e);
    }
    break;
  }
  printWarning(
    `${why}: the conversations cannot be burned on the relay; it keeps its copies until they expire ` +
      "(messages after 7 days, files after 24 hours, unless the relay is set otherwise)",
  );
  return null;
}
