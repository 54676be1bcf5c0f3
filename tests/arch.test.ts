// The import rules of ARCHITECTURE.md, checked on the source tree (no binaries needed):
// no import cycle (type-only imports included), no import against the layer order, and
// process.env read only by the client's entry (phantom.ts, client/cli/) and the relay's.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./helpers/relay.ts";
import { findCycle, importSpecifiers, layerOf, layerViolation } from "./helpers/arch.ts";

/** Every .ts file of the two programs (tests are outside the layers: they may import anything). */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(p);
    }
  };
  for (const d of ["lib", "client", "relay"]) walk(d);
  return [...out, "phantom.ts", "relay.ts"].sort();
}

/** The repository-relative files a source imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return importSpecifiers(text)
    .filter((spec) => spec.endsWith(".ts")) // package.json (lib/version.ts) is data, not a layer
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)));
}

const graph = new Map(sources().map((f) => [f, importsOf(f)]));

describe("architecture", () => {
  test("every source file belongs to a layer", () => {
    expect([...graph.keys()].filter((f) => layerOf(f) === null)).toEqual([]);
  });

  test("imports only go down the layers", () => {
    const bad: string[] = [];
    for (const [from, tos] of graph) for (const to of tos) if (layerViolation(from, to)) bad.push(`${from} → ${to}`);
    expect(bad).toEqual([]);
  });

  test("no import cycle, type-only imports included", () => {
    expect(findCycle(graph)).toBeNull();
  });

  test("process.env is read only by phantom.ts, client/cli/ and the relay's entry and config", () => {
    const allowed = (f: string) =>
      f === "phantom.ts" || f.startsWith("client/cli/") || f === "relay.ts" || f === "relay/config.ts";
    const readers = [...graph.keys()].filter(
      (f) => !allowed(f) && /process\.env\b/.test(readFileSync(join(ROOT, f), "utf8").replace(/^\s*\/\/.*$/gm, "")),
    );
    expect(readers).toEqual([]);
  });

  test("the checks catch what they are for", () => {
    // An upward import, an import between net and state, a cycle through a type-only import.
    expect(layerViolation("client/core/session.ts", "client/cli/commands/send.ts")).toBeTruthy();
    expect(layerViolation("client/net/route.ts", "client/state/settings.ts")).toBeTruthy();
    expect(layerViolation("lib/wire.ts", "relay/store.ts")).toBeTruthy();
    expect(layerViolation("client/tui/menu.ts", "client/core/session.ts")).toBeNull();
    const cyclic = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(findCycle(cyclic)).toEqual(["a.ts", "b.ts", "c.ts", "a.ts"]);
    const text = [
      'import type { Session } from "./session.ts";',
      'export { FETCH_LIMIT } from "../../lib/wire.ts";',
      'const m = await import("../net/live.ts");',
      '// import { x } from "./commented-out.ts";',
    ].join("\n");
    expect(importSpecifiers(text)).toEqual(["./session.ts", "../../lib/wire.ts", "../net/live.ts"]);
  });
});
