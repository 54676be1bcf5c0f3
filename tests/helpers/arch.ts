// The layers of ARCHITECTURE.md as data, for tests/arch.test.ts. A file's layer is its
// program (client, relay, or lib shared by both), a rank (higher imports lower, never the
// reverse) and a group: two groups of the same rank (net and state) never import each other.

export interface Layer {
  program: "client" | "relay" | "lib";
  rank: number;
  group: string;
}

const LAYERS: [prefix: string, layer: Layer][] = [
  ["phantom.ts", { program: "client", rank: 6, group: "entry" }],
  ["client/cli/", { program: "client", rank: 5, group: "cli" }],
  ["client/tui/", { program: "client", rank: 4, group: "tui" }],
  ["client/daemon/", { program: "client", rank: 4, group: "daemon" }],
  ["client/core/", { program: "client", rank: 3, group: "core" }],
  ["client/net/", { program: "client", rank: 2, group: "net" }],
  ["client/state/", { program: "client", rank: 2, group: "state" }],
  ["client/text/", { program: "client", rank: 1, group: "text" }],
  ["relay.ts", { program: "relay", rank: 4, group: "entry" }],
  ["relay/server.ts", { program: "relay", rank: 3, group: "server" }],
  ["relay/routes/", { program: "relay", rank: 2, group: "routes" }],
  ["relay/", { program: "relay", rank: 1, group: "core" }],
  ["lib/", { program: "lib", rank: 0, group: "lib" }],
];

export function layerOf(file: string): Layer | null {
  for (const [prefix, layer] of LAYERS)
    if (file === prefix || (prefix.endsWith("/") && file.startsWith(prefix))) return layer;
  return null;
}

/** Why `from` may not import `to`, or null when it may. */
export function layerViolation(from: string, to: string): string | null {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b) return `${!a ? from : to} is in no layer`;
  if (b.program !== "lib" && a.program !== b.program) return `${a.program} imports ${b.program}`;
  if (a.group === b.group) return null;
  if (b.rank < a.rank) return null;
  return b.rank === a.rank
    ? `${a.group} and ${b.group} never import each other`
    : `${a.group} imports ${b.group} above it`;
}

/** The first import cycle found, as a path that ends where it starts, or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === "done") return null;
    if (state.get(f) === "open") return [...path.slice(path.indexOf(f)), f];
    state.set(f, "open");
    path.push(f);
    for (const to of graph.get(f) ?? []) {
      const c = visit(to);
      if (c) return c;
    }
    path.pop();
    state.set(f, "done");
    return null;
  };
  for (const f of [...graph.keys()].sort()) {
    const c = visit(f);
    if (c) return c;
  }
  return null;
}

const IMPORT_RE =
  /(?:^|[^\w.$])(?:import|export)\s*(?:type\s+)?(?:[^"'`;]*?\sfrom\s*)?\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The relative specifiers a source text imports: static, dynamic, type-only and re-exports. */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/^\s*\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
  return [...code.matchAll(IMPORT_RE)].map((m) => m[1]!);
}
