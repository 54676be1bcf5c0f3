// The completion scripts and the man page list every command and option of the program, each
// where its shell (or man) looks for it, and follow a change of the definition.
import { describe, expect, test } from "bun:test";
import { COMPLETIONS } from "./completion.ts";
import { phantomManPage } from "./manpage.ts";
import { buildProgram, ENVIRONMENT, SHELLS } from "./program.ts";
import { describeProgram, type OptionSpec, type ProgramSpec } from "./spec.ts";
import { roffText } from "../../lib/roff.ts";

const spec = describeProgram(await buildProgram());

/** A program with one more command and option than phantom's: the generated text must follow. */
async function extended(): Promise<ProgramSpec> {
  const program = await buildProgram();
  program.command("frobnicate").description("a command added later").option("--zap <path>", "a file");
  return describeProgram(program);
}

const names = (o: OptionSpec) => [o.short, o.long].filter((n) => n !== undefined);

describe("completion scripts", () => {
  test("the definition has what the scripts are checked against", () => {
    const cmds = spec.commands.map((c) => c.name);
    for (const c of ["init", "add", "send", "get", "settings", "completion"]) expect(cmds).toContain(c);
    expect(spec.options.flatMap(names)).toEqual(expect.arrayContaining(["--json", "--relay", "--direct"]));
    expect(spec.commands.find((c) => c.name === "send")?.options.flatMap(names)).toContain("--file");
  });

  test("bash: every command, and each command's own and global options on its case line", () => {
    for (const s of [spec]) {
      const script = COMPLETIONS.bash(s);
      const commandList = /compgen -W '([^']*)' -- "\$cur"\)\)\n {2}else/.exec(script)?.[1]?.split(" ");
      expect(commandList).toEqual(s.commands.map((c) => c.name));
      for (const c of s.commands) {
        const line = script.split("\n").find((l) => l.startsWith(`    '${c.name}') echo `));
        expect(line).toBeDefined();
        for (const o of [...c.options, ...c.globals])
          for (const n of names(o)) expect(line!.split(/[ ']/)).toContain(n);
      }
    }
  });

  test("zsh: every command described, every option in its command's _arguments", () => {
    const script = COMPLETIONS.zsh(spec);
    for (const c of spec.commands) {
      expect(script).toContain(`\n    '${c.name}:`);
      const line = script.split("\n").find((l) => l.startsWith(`      ${c.name}) _arguments `));
      expect(line).toBeDefined();
      for (const o of [...c.options, ...c.globals])
        for (const n of names(o)) expect(line).toMatch(new RegExp(`[{,']${n}[,}[]`));
    }
  });

  test("fish: every command, every option under its command's condition", () => {
    const lines = COMPLETIONS.fish(spec).split("\n");
    for (const c of spec.commands) {
      expect(lines.some((l) => l.includes(`__fish_use_subcommand -a '${c.name}' `))).toBe(true);
      const own = lines.filter((l) => l.includes(`'__fish_seen_subcommand_from ${c.name}'`));
      for (const o of c.options) {
        const flag = o.long ? `-l ${o.long.slice(2)} ` : `-s ${o.short!.slice(1)} `;
        expect(own.some((l) => l.includes(flag))).toBe(true);
      }
    }
    for (const o of spec.options) expect(lines).toContainEqual(expect.stringContaining(`-l ${o.long!.slice(2)} `));
  });

  test("a fixed list of values is completed: completion's shells", () => {
    expect(COMPLETIONS.bash(spec)).toContain(`'completion 0') COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur"))`);
    expect(COMPLETIONS.zsh(spec)).toContain("':shell:(bash zsh fish)'");
    expect(COMPLETIONS.fish(spec)).toContain("'__fish_seen_subcommand_from completion' -a 'bash zsh fish'");
    expect(Object.keys(COMPLETIONS)).toEqual([...SHELLS]);
  });

  test("a command added to the definition appears in every script", async () => {
    const s = await extended();
    for (const shell of SHELLS) {
      const script = COMPLETIONS[shell](s);
      expect(script).toContain("frobnicate");
      expect(script).toMatch(/zap/);
    }
    expect(COMPLETIONS.bash(s)).toContain(`'frobnicate --zap') compopt -o filenames`);
  });
});

describe("phantom(1)", () => {
  const page = phantomManPage(spec, "9.9.9", ENVIRONMENT);

  test("structure: .TH, NAME, SYNOPSIS, OPTIONS, COMMANDS, ENVIRONMENT", () => {
    expect(page).toStartWith('.TH "PHANTOM" 1 "" "phantom 9.9.9"');
    for (const s of ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "ENVIRONMENT"]) {
      expect(page).toContain(`\n.SH ${s}\n`);
    }
    // No line is read as a request by accident: each starts with a macro or plain text.
    for (const l of page.split("\n")) if (/^[.']/.test(l)) expect(l).toMatch(/^\.(TH|nh|SH|TP|RS|RE|B|BR|I|br)( |$)/);
  });

  test("every command with its usage, and every option of each", async () => {
    for (const s of [spec, await extended()]) {
      const p = phantomManPage(s, "9.9.9", ENVIRONMENT);
      for (const o of s.options) expect(p).toContain(roffText(o.long!));
      for (const c of s.commands) {
        expect(p).toContain(`\\fBphantom ${roffText(c.name)} \\fR`);
        for (const o of c.options) for (const n of names(o)) expect(p).toContain(roffText(n));
        for (const a of c.arguments) expect(p).toContain(roffText(a.name));
      }
    }
    for (const [name] of ENVIRONMENT) expect(page).toContain(roffText(name.split("=")[0]!));
  });
});
