// Test helper: the README's screenshots are text captures made by the tmux tests. A capture
// lives in docs/screens/<name>.txt and in the code block between `<!-- screen:<name> -->` and
// `<!-- /screen:<name> -->` in README.md. Only `./build.sh screens` (PHANTOM_WRITE_SCREENS=1)
// writes them; every other run compares the capture with both and fails when either is stale,
// so a test run never changes a tracked file.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./relay.ts";

/** Set by `./build.sh screens`: write the captures instead of comparing them. */
const WRITE = process.env.PHANTOM_WRITE_SCREENS === "1";

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** README.md with the block of `name` holding `body`; throws when README.md has no such block. */
function readmeWith(readme: string, name: string, body: string): string {
  const open = `<!-- screen:${name} -->`;
  const close = `<!-- /screen:${name} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md has no ${open} … ${close} block`);
  return `${readme.slice(0, start + open.length)}\n\`\`\`\n${body}\`\`\`\n${readme.slice(end)}`;
}

/**
 * The capture `text` of screen `name`: written to docs/screens/<name>.txt and README.md in
 * write mode; otherwise compared with them, throwing one line naming what is stale.
 */
export function checkScreen(name: string, text: string): void {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  const screenPath = join(ROOT, `docs/screens/${name}.txt`);
  const readmePath = join(ROOT, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const updated = readmeWith(readme, name, body);
  if (WRITE) {
    mkdirSync(join(ROOT, "docs/screens"), { recursive: true });
    writeFileSync(screenPath, body);
    if (updated !== readme) writeFileSync(readmePath, updated);
    return;
  }
  const stale: string[] = [];
  if (readOr(screenPath, "") !== body) stale.push(`docs/screens/${name}.txt`);
  if (updated !== readme) stale.push(`README.md's screen:${name} block`);
  if (stale.length > 0) {
    throw new Error(`${stale.join(" and ")} ${stale.length > 1 ? "are" : "is"} stale: run ./build.sh screens`);
  }
}
