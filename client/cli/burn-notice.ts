// The notice of an unfinished panic: the sealed burn list still holds rooms the relay keeps.
import { burnListLeft } from "../state/burn-list.ts";
import { type Env, homeFromEnv } from "./config.ts";
import { printWarning } from "./errors.ts";

/** Said on stderr at a start of phantom while a burn list exists (its count is in the clear). */
export function burnListNotice(env: Env): void {
  let left: number | null;
  try {
    left = burnListLeft(homeFromEnv(env));
  } catch {
    return; // an unreadable list is reported by `phantom panic --finish`, not at every start
  }
  if (left === null) return;
  printWarning(
    `a panic left ${left} conversation${left === 1 ? "" : "s"} on the relay: run phantom panic --finish (asks for the password)`,
  );
}
