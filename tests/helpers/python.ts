// Test helper: the Phantom 2.2.x Python client (tests/py/phantom_v2.py), an implementation of
// protocol v2 independent of ours, run by the first python3 that has its two libraries.
import { join } from "node:path";
import { runProgram } from "./cli.ts";
import { ROOT } from "./relay.ts";

const SCRIPT = join(ROOT, "tests/py/phantom_v2.py");

/** The first python3 that imports cryptography and requests, as an absolute path; null if none. */
function findPython(): string | null {
  for (const cand of [process.env.PHANTOM_PYTHON, "python3", "/usr/bin/python3", "/usr/local/bin/python3"]) {
    if (!cand) continue;
    try {
      const r = Bun.spawnSync([cand, "-c", "import sys, cryptography, requests; print(sys.executable)"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" },
      });
      if (r.exitCode === 0) return r.stdout.toString().trim();
    } catch {
      // not installed under this name
    }
  }
  return null;
}
export const PYTHON = findPython();
export const NO_PYTHON =
  "no python3 that imports both cryptography and requests: run ./build.sh tools (it installs them) " +
  "or set PHANTOM_PYTHON";

/** The Python client answers with plain JSON objects. */
export type Json = Record<string, any>;

/**
 * argparse reads a word beginning with "-" as an option, and 1 UID in 64 begins with "-"
 * (b64u): the subcommand's flags go first, then "--", then its positional arguments.
 */
function argparseOrder([sub, ...rest]: string[]): string[] {
  const flags = rest.filter((a) => /^--[a-z-]+$/.test(a));
  const positional = rest.filter((a) => !flags.includes(a));
  return positional.length ? [sub!, ...flags, "--", ...positional] : [sub!, ...flags];
}

/** Run the Python client. */
export async function pyRun(home: string, relayUrl: string, args: string[], password: string) {
  if (PYTHON === null) throw new Error(NO_PYTHON);
  const argv = [PYTHON, SCRIPT, "--home", home, "--relay", relayUrl, ...argparseOrder(args)];
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, PHANTOM_PASSWORD: password, PYTHONUTF8: "1" };
  return await runProgram(argv, env);
}

/** Run the Python client; returns its JSON answer, or throws with its stderr. */
export async function py(home: string, relayUrl: string, args: string[], password: string): Promise<Json> {
  const { code, stdout, stderr } = await pyRun(home, relayUrl, args, password);
  if (code !== 0) throw new Error(`phantom_v2.py ${args[0]} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as Json;
}
