// What an unfinished panic left: the sealed burn list still holds rooms the relay keeps.
import { burnListLeft } from "../state/burn-list.ts";

/** The notice while a burn list exists (its count is in the clear), or null. */
export function burnListNotice(home: string): string | null {
  let left: number | null;
  try {
    left = burnListLeft(home);
  } catch {
    return null; // an unreadable list is reported by `phantom panic --finish`, not at every start
  }
  if (left === null) return null;
  const n = `${left} conversation${left === 1 ? "" : "s"}`;
  return `a panic left ${n} on the relay: run phantom panic --finish (asks for the password)`;
}
