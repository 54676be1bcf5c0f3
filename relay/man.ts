// phantom-relay(1), the man page in roff, from the option table (relay/options.ts OPTIONS) that
// parseConfig reads and relay/help.ts lists: every option and variable, with its default.
import { roffHead, roffItem, roffText } from "../lib/roff.ts";
import { type Option, OPTIONS, type Section } from "./options.ts";

function item(o: Option): string {
  const where = o.shown === undefined ? o.env : `${o.env}, default ${o.shown}`;
  if (o.flag !== undefined) return roffItem(`${o.flag} <${o.arg ?? "value"}>`, `${o.help} (${where})`);
  return roffItem(o.env, `${o.shown === undefined ? "" : `default ${o.shown} `}${o.help}`.trim());
}

const section = (s: Section) =>
  OPTIONS.filter((o) => o.section === s)
    .map(item)
    .join("");

export function relayManPage(version: string): string {
  return `${roffHead("phantom-relay", version, "the Phantom relay (protocols v2 and v3)")}.SH SYNOPSIS
.B phantom\\-relay
[\\fIoptions\\fR]
.SH DESCRIPTION
${roffText("The relay stores end-to-end encrypted messages and files for Phantom clients until they fetch them; it never sees a plaintext. Each option is also an environment variable; a flag wins over its variable.")}
.SH OPTIONS
${section("options")}${roffItem("-V, --version", "print the version")}${roffItem("-h, --help", "print the help")}.SH LIMITS
${roffText("Whole numbers; a quota of 0 means no limit.")}
${section("limits")}.SH ENVIRONMENT
${section("environment")}.SH SEE ALSO
.BR phantom (1)
`;
}
