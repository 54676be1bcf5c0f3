// The compiled client's completion scripts in real shells, and the generated man pages read by
// groff (or checked for their structure where groff is missing). zsh and fish are used when
// installed; the tests' tools do not include them.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOneLineError, phantom, runProgram } from "./helpers/cli.ts";
import { ROOT, tempDir } from "./helpers/relay.ts";

const dir = tempDir("phantom-completion-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
const has = (tool: string) => Bun.which(tool) !== null;

async function script(shell: string): Promise<string> {
  const r = await phantom(env, ["completion", shell]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const file = join(dir, `phantom.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

describe("phantom completion", () => {
  test("bash: the script sources, registers phantom and completes commands, options and values", async () => {
    const file = await script("bash");
    // What bash does on Tab: set COMP_WORDS and COMP_CWORD, call the function, read COMPREPLY.
    const probe = `source ${file} && complete -p phantom &&
      tab() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _phantom; echo "[\${COMPREPLY[*]}]"; }
      tab phantom re; tab phantom --relay http://x re; tab phantom panic --; tab phantom completion ''; tab phantom nick a ''`;
    const r = await runProgram(["bash", "--norc", "--noprofile", "-c", probe], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 6)).toEqual([
      "complete -F _phantom phantom",
      "[remove read]",
      "[remove read]",
      "[--yes --finish --help --version --json --relay --direct --no-daemon]",
      "[bash zsh fish]",
      "[]",
    ]);
  });

  test.skipIf(!has("zsh"))("zsh: the script loads under compinit", async () => {
    const file = await script("zsh");
    const r = await runProgram(
      ["zsh", "-f", "-c", `autoload -U compinit && compinit -u -D && source ${file} && print -r -- $_comps[phantom]`],
      env,
    );
    expect(r.stdout.trim()).toBe("_phantom");
  });

  test.skipIf(!has("fish"))("fish: the script loads and completes commands", async () => {
    const file = await script("fish");
    const r = await runProgram(["fish", "--no-config", "-c", `source ${file}; complete -C'phantom compl'`], env);
    expect(r.stdout).toContain("completion");
  });

  test("an unknown shell is one error line", async () => {
    expect(expectOneLineError(await phantom(env, ["completion", "ksh"]))).toContain("bash, zsh, fish");
  });
});

describe("docs/generate.ts (./build.sh docs)", () => {
  test("writes the man pages and completions; groff reads the pages without a warning", async () => {
    const out = join(dir, "docs");
    const gen = await runProgram([process.execPath, join(ROOT, "docs/generate.ts"), out], env);
    expect(gen.code).toBe(0);
    const bash = await phantom(env, ["completion", "bash"]);
    expect(readFileSync(join(out, "completions/phantom.bash"), "utf8")).toBe(bash.stdout);
    for (const name of ["_phantom", "phantom.fish"])
      expect(readFileSync(join(out, "completions", name), "utf8")).not.toBe("");
    for (const [page, title, words] of [
      ["phantom.1", "PHANTOM(1)", ["--relay", "phantom completion [options] <shell>", "[text...]", "PHANTOM_HOME"]],
      ["phantom-relay.1", "PHANTOM-RELAY(1)", ["--port", "--burn-window", "MESSAGE_RETENTION_DAYS"]],
    ] as const) {
      const roff = readFileSync(join(out, "man", page), "utf8");
      for (const s of [".TH ", "\n.SH NAME\n", "\n.SH SYNOPSIS\n", "\n.SH OPTIONS\n"]) expect(roff).toContain(s);
      if (!has("groff")) continue;
      const r = await runProgram(["groff", "-man", "-Tutf8", "-ww", "-P-cbou", join(out, "man", page)], env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(title);
      for (const w of words) expect(r.stdout).toContain(w);
    }
  });
});
