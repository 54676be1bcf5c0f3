// A UID may begin with "-" (PROTOCOL §2: b64u, whose alphabet has "-"), and commander
// would read `phantom add -AbC…` as an unknown option. Before parsing, a word that is
// exactly a UID is marked so that it no longer looks like an option; the mark is
// removed again before the command sees its arguments.

const UID_WITH_DASH = /^-[A-Za-z0-9_-]{27}$/;
const MARK = "\u2063"; // INVISIBLE SEPARATOR: never part of a UID, nickname flag or option

export function protectUids(argv: string[]): string[] {
  return argv.map((a) => (UID_WITH_DASH.test(a) ? MARK + a : a));
}

/** Undo protectUids in a command's arguments (strings, or arrays of them for variadic arguments). */
export function restoreUids<T>(value: T): T {
  if (typeof value === "string") return (value.startsWith(MARK) ? value.slice(MARK.length) : value) as T;
  if (Array.isArray(value)) return value.map(restoreUids) as T;
  return value;
}
