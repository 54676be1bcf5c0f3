// `phantom` with no arguments: the first-run wizard or the unlock prompt, then the
// menu. Errors that end the program reach phantom.ts's one printer as PhantomErrors;
// errors inside an action are shown in the menu, which carries on.
import { burnListNotice } from "./burn-notice.ts";
import * as p from "@clack/prompts";
import { PhantomError } from "../../lib/errors.ts";
import { VERSION } from "../../lib/version.ts";
import { loadSettings } from "../state/settings.ts";
import type { Session } from "../core/session.ts";
import { hasIdentity } from "../state/vault.ts";
import { runMenu } from "./menu.ts";
import { addWarning, newMenuState, refreshState } from "./menu-state.ts";
import { runChat } from "./chat-screen.ts";
import { pickMotd } from "./motd.ts";
import { cleanText } from "../text/sanitise.ts";
import { makeUi, type Ui, type UiConfig } from "./ui.ts";
import { unlock } from "./unlock.ts";
import { runWizard } from "./wizard.ts";
import { updateNotice } from "../core/update-notice.ts";

function banner(ui: Ui): void {
  const t = ui.theme;
  p.intro(`${t.bold(t.accent("phantom"))} ${t.dim(VERSION)}`);
  const motd = pickMotd(ui.settings.motd, ui.settings.motdCustom);
  if (motd) p.log.message(t.dim(cleanText(motd, { oneLine: true })));
}

function needTerminal(): void {
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    throw new PhantomError(
      "no-terminal",
      "the interactive client needs a terminal; for scripts use the commands (phantom --help)",
    );
  }
}

export async function runInteractive(config: UiConfig): Promise<number> {
  needTerminal();
  const home = config.home;
  const ui = makeUi(config, loadSettings(home));
  const st = newMenuState();
  let session: Session | null;
  const notice = burnListNotice(home);
  if (!hasIdentity(home)) {
    session = (await runWizard(ui, notice))?.session ?? null;
  } else {
    banner(ui);
    if (notice !== null) p.log.warn(ui.theme.warn(notice));
    session = await unlock(ui, (m, about) => addWarning(st, m, about));
  }
  if (session === null) return 0;
  const update = await updateNotice(config);
  if (update !== null) p.log.info(ui.theme.accent(update));
  try {
    await runMenu(ui, session, st);
    return 0;
  } finally {
    session.close();
  }
}

/** The chat screen alone (for a `phantom chat <uid>` command): unlock, chat, exit. */
export async function runChatOnly(uidOrNick: string, config: UiConfig): Promise<number> {
  needTerminal();
  const home = config.home;
  if (!hasIdentity(home))
    throw new PhantomError("no-identity", `no identity in ${home}: run 'phantom' or 'phantom init' first`);
  const ui = makeUi(config, loadSettings(home));
  banner(ui);
  const st = newMenuState();
  const session = await unlock(ui, (m, about) => addWarning(st, m, about));
  if (session === null) return 0;
  try {
    await refreshState(session, st); // key-exchange inbox first: people who added us become contacts
    await runChat(ui, session, session.contact(uidOrNick).uid);
    return 0;
  } finally {
    session.close();
  }
}
