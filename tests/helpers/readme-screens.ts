// Test helper: the README's screenshots are text captures written by the tmux
// tests. Each capture goes to docs/screens/<name>.txt and replaces the code
// block between `<!-- screen:<name> -->` and `<!-- /screen:<name> -->` in
// README.md, so the pictures are never older than the last test run.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./relay.ts";

export function writeScreen(name: string, text: string): void {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  mkdirSync(join(ROOT, "docs/screens"), { recursive: true });
  writeFileSync(join(ROOT, `docs/screens/${name}.txt`), body);
  const readmePath = join(ROOT, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const open = `<!-- screen:${name} -->`;
  const close = `<!-- /screen:${name} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md has no ${open} … ${close} block`);
  const updated = `${readme.slice(0, start + open.length)}\n\`\`\`\n${body}\`\`\`\n${readme.slice(end)}`;
  if (updated !== readme) writeFileSync(readmePath, updated);
}
