// roff text for the man pages (man(7) macros): escapes and the few macros they use.

/** Text as roff shows it literally: backslashes and hyphens escaped, no line read as a request. */
export function roffText(s: string): string {
  return s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join("\n");
}

/** A quoted macro argument: roff text with its double quotes doubled. */
export const roffArg = (s: string) => `"${roffText(s).replace(/"/g, '""')}"`;

/** The header (without hyphenation: option names must not break) and NAME section of a page of section 1. */
export function roffHead(name: string, version: string, summary: string): string {
  return `.TH ${roffArg(name.toUpperCase())} 1 "" ${roffArg(`${name} ${version}`)} "User Commands"\n.nh\n.SH NAME\n${roffText(name)} \\- ${roffText(summary)}\n`;
}

/** A tagged paragraph: the tag in bold (its <placeholders> in italics), then the text. */
export function roffItem(tag: string, text: string): string {
  const parts = tag.split(/(<[^>]+>|\[[^\]]+\])/).filter((p) => p !== "");
  const styled = parts.map((p) => (/^[<[]/.test(p) ? `\\fI${roffText(p)}\\fR` : `\\fB${roffText(p)}\\fR`)).join("");
  return `.TP\n${styled}\n${roffText(text)}\n`;
}
