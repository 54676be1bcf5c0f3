// Route table → handler, with 404 for unknown paths and 405 for a wrong method
// (PROTOCOL §7). Templates such as "/file/:id" are what the log shows.
import type { Handler } from "./context.ts";

export interface Route {
  template: string;
  methods: Partial<Record<string, Handler>>;
}

interface Compiled {
  route: Route;
  parts: string[]; // literal segment, or "" for a :param
}

export interface Match {
  route: Route;
  params: string[];
}

export class Router {
  private readonly routes: Compiled[];

  /** Earlier routes win, so list literal paths (/file/upload) before parametric ones (/file/:id). */
  constructor(routes: Route[]) {
    this.routes = routes.map((route) => ({
      route,
      parts: route.template
        .slice(1)
        .split("/")
        .map((p) => (p.startsWith(":") ? "" : p)),
    }));
  }

  match(path: string): Match | null {
    const segs = path.slice(1).split("/");
    outer: for (const c of this.routes) {
      if (c.parts.length !== segs.length) continue;
      const params: string[] = [];
      for (let i = 0; i < segs.length; i++) {
        const want = c.parts[i]!;
        const seg = segs[i]!;
        if (want === "") {
          if (seg === "") continue outer;
          params.push(seg);
        } else if (want !== seg) continue outer;
      }
      return { route: c.route, params };
    }
    return null;
  }
}

/** The path of an absolute request URL, as sent, without the query string. */
export function rawPath(url: string): string {
  // Absolute "http://host/path?q", or relative "/path?q" (a request without a Host header).
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * PROTOCOL §6: the signature covers the path, and the relay checks it and routes on one and
 * the same path: the normalised one of req.url (Bun resolves `.`/`..` segments, their `%2e`
 * spellings and backslashes before the handler sees the URL). A request whose target was not
 * already in that form (`/a/../fetch`, `/%2e%2e/fetch`, `/x\\..\\fetch`, `/file/%2e%2e`) is
 * refused (400), so what a front proxy or a log saw is what was signed and served.
 * Bun.serve gives no raw target, but matches its `routes` on it: `sent` is the template whose
 * route Bun matched (null: none), and a request is in normal form when that is the template
 * its normalised path matches. (If Bun ever matches routes on the normalised path, this
 * accepts what it accepted before; tests/relay-paths.test.ts then fails.)
 */
export function sentAsTemplate(match: Match, sent: string | null): boolean {
  return match.route.template === sent;
}
