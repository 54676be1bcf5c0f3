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

/**
 * The path of a request URL without the query string. PROTOCOL §6: the relay routes, checks
 * the signature and logs on this one path. Bun.serve normalises req.url before the handler
 * sees it (`.`/`..` segments in any %2e spelling resolved, `\` read as `/`), so a request sent
 * to `/a/../fetch` is checked and served as `/fetch`: a client must sign the normalised path.
 * A front proxy must forward the target unchanged or normalised the same way (SECURITY.md).
 */
export function rawPath(url: string): string {
  // Absolute "http://host/path?q", or relative "/path?q" (a request without a Host header).
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
