// phantom chat <uid>: the interactive chat screen with one contact (unlock, inbox, chat, exit).
// Needs a terminal; scripts use send, read and listen.
import type { Globals } from "./context.ts";

export async function run(g: Globals, uid: string): Promise<void> {
  const { runChatOnly } = await import("../../tui/index.ts");
  // --relay counts here as for every other command; the screen reads it like PHANTOM_RELAY.
  const env = g.relay === undefined ? process.env : { ...process.env, PHANTOM_RELAY: g.relay };
  await runChatOnly(uid, env);
}
