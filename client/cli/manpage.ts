// phantom(1), the man page in roff, generated from the program's definition (client/cli/spec.ts).
import { roffHead, roffItem, roffText } from "../../lib/roff.ts";
import type { ProgramSpec } from "./spec.ts";

export function phantomManPage(p: ProgramSpec, version: string, environment: readonly [string, string][]): string {
  const commands = p.commands.map((c) => {
    const args = c.arguments.map((a) =>
      roffItem(`${a.required ? "<" : "["}${a.name}${a.variadic ? "..." : ""}${a.required ? ">" : "]"}`, a.description),
    );
    const opts = c.options.map((o) => roffItem(o.flags, o.description));
    const body = [...args, ...opts];
    return `${roffItem(`${p.name} ${c.usage}`, c.description)}${body.length > 0 ? `.RS\n${body.join("")}.RE\n` : ""}`;
  });
  return `${roffHead(p.name, version, p.description)}.SH SYNOPSIS
.B ${roffText(p.name)}
[\\fIoptions\\fR]
.br
.B ${roffText(p.name)}
\\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]
.SH DESCRIPTION
${roffText(`Run ${p.name} alone for the interactive client (it needs a terminal); the commands below are for scripts and quick use. '${p.name} <command> --help' prints one command's help.`)}
.SH OPTIONS
${p.options.map((o) => roffItem(o.flags, o.description)).join("")}.SH COMMANDS
${commands.join("")}.SH ENVIRONMENT
${environment.map(([name, text]) => roffItem(name, text)).join("")}.SH FILES
.TP
.I ~/.phantom
${roffText("the state folder (PHANTOM_HOME): the encrypted identity, contacts and settings")}
.SH SEE ALSO
.BR phantom\\-relay (1)
`;
}
