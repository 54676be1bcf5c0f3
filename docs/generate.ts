// Writes the man pages and shell completions from the programs' definitions:
//   bun docs/generate.ts [folder]   (default dist) → folder/man/{phantom,phantom-relay}.1 and
//   folder/completions/{phantom.bash,_phantom,phantom.fish}. `./build.sh docs` runs it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMPLETIONS } from "../client/cli/completion.ts";
import { phantomManPage } from "../client/cli/manpage.ts";
import { buildProgram, ENVIRONMENT } from "../client/cli/program.ts";
import { describeProgram } from "../client/cli/spec.ts";
import { VERSION } from "../lib/version.ts";
import { relayManPage } from "../relay/man.ts";

/** The completion script's file name per shell, as each shell looks for it. */
export const COMPLETION_FILES = { bash: "phantom.bash", zsh: "_phantom", fish: "phantom.fish" } as const;

export async function generateDocs(out: string): Promise<string[]> {
  const spec = describeProgram(await buildProgram());
  const files: [string, string][] = [
    [join(out, "man", "phantom.1"), phantomManPage(spec, VERSION, ENVIRONMENT)],
    [join(out, "man", "phantom-relay.1"), relayManPage(VERSION)],
    ...Object.entries(COMPLETION_FILES).map(([shell, name]): [string, string] => [
      join(out, "completions", name),
      COMPLETIONS[shell as keyof typeof COMPLETIONS](spec),
    ]),
  ];
  for (const [path, text] of files) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
  return files.map(([path]) => path);
}

if (import.meta.main) for (const f of await generateDocs(process.argv[2] ?? "dist")) console.log(f);
