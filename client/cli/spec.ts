// The command line as plain data, read from the commander program (client/cli/program.ts):
// what the completion scripts and the man page are generated from, so neither can list a
// command or option the program lacks, nor miss one it has.
import type { Command, Option } from "commander";

/** What a value can be completed with: a fixed list, a file name, or nothing. */
export type Values = { kind: "choices"; choices: string[] } | { kind: "file" } | { kind: "none" };

export interface OptionSpec {
  /** As the help shows it, e.g. "-y, --yes" or "--file <path>". */
  flags: string;
  long: string | undefined;
  short: string | undefined;
  description: string;
  /** Whether the option takes a value, and what completes it. */
  takesValue: boolean;
  values: Values;
}

export interface ArgumentSpec {
  name: string;
  required: boolean;
  variadic: boolean;
  description: string;
  values: Values;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** The usage line after the program's name, e.g. "add [options] <uid>". */
  usage: string;
  arguments: ArgumentSpec[];
  options: OptionSpec[];
  /** The program's options it accepts too, as its --help lists them. */
  globals: OptionSpec[];
}

export interface ProgramSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/** File names complete values and arguments named "path"; the rest (UIDs, text) complete nothing. */
function values(name: string, choices: readonly string[] | undefined): Values {
  if (choices && choices.length > 0) return { kind: "choices", choices: [...choices] };
  return name === "path" ? { kind: "file" } : { kind: "none" };
}

function options(list: readonly Option[]): OptionSpec[] {
  return list.map((o) => {
    const valueName = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
    return {
      flags: o.flags,
      long: o.long,
      short: o.short,
      description: o.description,
      takesValue: o.required || o.optional,
      values: values(valueName?.[1] ?? valueName?.[2] ?? "", o.argChoices),
    };
  });
}

export function describeProgram(program: Command): ProgramSpec {
  const help = program.createHelp();
  return {
    name: program.name(),
    description: program.description(),
    options: options(help.visibleOptions(program)),
    commands: help.visibleCommands(program).map((c) => ({
      name: c.name(),
      description: c.description(),
      usage: `${c.name()} ${c.usage()}`,
      arguments: c.registeredArguments.map((a) => ({
        name: a.name(),
        required: a.required,
        variadic: a.variadic,
        description: a.description,
        values: values(a.name(), a.argChoices),
      })),
      options: options(help.visibleOptions(c)),
      globals: options(help.visibleGlobalOptions(c)),
    })),
  };
}
