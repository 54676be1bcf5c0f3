// phantom-relay --help, written from the option table (relay/options.ts OPTIONS): every option
// the relay reads is listed, with its variable and default, and nothing else is.
import { type Option, OPTIONS, type Section } from "./options.ts";
import { UPDATE_USAGE } from "./update.ts";

/** Lines longer than this put the variable and default on a line of their own. */
const WIDTH = 120;
/** The column where descriptions start, per section. */
const COLUMN: Record<Section, number> = { options: 25, limits: 30, environment: 27 };

function line(key: string, text: string, column: number): string {
  const head = key.length + 2 > column ? `${key}  ` : key.padEnd(column);
  return `${head}${text}`;
}

function flagLine(o: Option, column: number): string {
  const key = `  ${o.flag} ${o.arg}`;
  const where = `(${o.env}${o.shown === undefined ? "" : `, default ${o.shown}`})`;
  const one = line(key, `${o.help} ${where}`, column);
  return one.length <= WIDTH ? one : `${line(key, o.help, column)}\n${" ".repeat(column)}${where}`;
}

function envLine(o: Option): string {
  const text = o.shown === undefined ? o.help : `default ${o.shown}`.padEnd(14) + o.help;
  return line(`  ${o.env}`, text, COLUMN.environment).trimEnd();
}

const section = (s: Section, fmt: (o: Option) => string) =>
  OPTIONS.filter((o) => o.section === s)
    .map(fmt)
    .join("\n");

export function relayHelp(version: string): string {
  return `phantom-relay ${version} — the Phantom relay (protocols v2 and v3)

Usage: phantom-relay [options]
       ${UPDATE_USAGE}

Options (each also an environment variable):
${section("options", (o) => flagLine(o, COLUMN.options))}
  -V, --version          print the version
  -h, --help             print this help

Limits (PROTOCOL §7.10, README "Running a relay"; whole numbers, a quota of 0 means no limit):
${section("limits", (o) => flagLine(o, COLUMN.limits))}

Environment (PROTOCOL §9):
${section("environment", envLine)}
`;
}
