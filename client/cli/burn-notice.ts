// The notice of an unfinished panic: the sealed burn list still holds rooms the relay keeps.
import { burnListNotice as noticeText } from "../tui/burn-notice.ts";
import { type Env, homeFromEnv } from "./config.ts";
import { printWarning } from "./errors.ts";

/** Said on stderr at a start of a command while a burn list exists (its count is in the clear). */
export function burnListNotice(env: Env): void {
  const text = noticeText(homeFromEnv(env));
  if (text !== null) printWarning(text);
}
