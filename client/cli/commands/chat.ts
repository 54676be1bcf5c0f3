// phantom chat <uid>: the interactive chat screen with one contact (unlock, inbox, chat, exit).
// Needs a terminal; scripts use send, read and listen.
import { loadConfig } from "../config.ts";
import type { Globals } from "./context.ts";

export async function run(g: Globals, uid: string): Promise<void> {
  const { runChatOnly } = await import("../../tui/index.ts");
  // --relay and --direct count here as for every other command.
  const config = loadConfig(g);
  const { chatOpenedIn } = await import("../../daemon/client.ts");
  await runChatOnly(uid, { ...config, chatOpened: chatOpenedIn(config.home) });
}
