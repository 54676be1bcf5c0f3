// phantom completion <shell>: print the completion script, generated from the program itself.
import { writeSync } from "node:fs";
import type { Command } from "commander";
import { COMPLETIONS } from "../completion.ts";
import { describeProgram } from "../spec.ts";

export async function run(program: Command, shell: string): Promise<void> {
  writeSync(1, COMPLETIONS[shell as keyof typeof COMPLETIONS](describeProgram(program)));
}
