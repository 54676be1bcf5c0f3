// The notice of an unfinished panic: the sealed burn list still holds rooms the relay keeps.
// Light: loaded at every start, it reads the list (and loads its code) only when the file exists.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BURN_LIST_FILE } from "../state/names.ts";
import { type Env, homeFromEnv } from "./env.ts";
import { printWarning } from "./errors.ts";

/** Said on stderr at a start of a command while a burn list exists (its count is in the clear). */
export async function burnListNotice(env: Env): Promise<void> {
  const home = homeFromEnv(env);
  if (!existsSync(join(home, BURN_LIST_FILE))) return;
  const { burnListNotice: noticeText } = await import("../tui/burn-notice.ts");
  const text = noticeText(home);
  if (text !== null) printWarning(text);
}
