// Shared by the tests/v3-*.test.ts files: the v3 vector file (PHANTOM_V3_VECTORS or
// tests/vectors/v3.json) behind a Proxy that records every leaf read, det() of the generator,
// and a view of a ratchet state in the vector file's shape.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hexencode } from "../../lib/encoding.ts";
import type { Draw, DrawWhat, RatchetState } from "../../lib/v3/ratchet.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const VECTORS_PATH = process.env.PHANTOM_V3_VECTORS ?? join(ROOT, "tests/vectors/v3.json");
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export const RAW: Json = JSON.parse(readFileSync(VECTORS_PATH, "utf8"));

export function leafPaths(value: Json, path = ""): string[] {
  if (value === null || typeof value !== "object") return [path];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) return [path]; // an empty list or object is a leaf too
  return entries.flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
}

export const SEEN = new Set<string>();
function tracked(value: Json, path = ""): any {
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as Json;
      if (typeof key !== "string") return v;
      if (Array.isArray(target) && key === "length") {
        if (target.length === 0) SEEN.add(path);
        return v;
      }
      if (!Object.hasOwn(target, key)) return v;
      const p = path ? `${path}.${key}` : key;
      if (v !== null && typeof v === "object") {
        if (Object.keys(v).length === 0) SEEN.add(p);
        return tracked(v, p);
      }
      SEEN.add(p);
      return v;
    },
  });
}
export const V: any = tracked(RAW);

/** det(label, n) of the vector generator (see det_definition). */
export function det(seed: string, label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0, o = 0; o < n; i++) {
    const h = createHash("sha256").update(`${seed}|${label}|${i}`).digest();
    out.set(h.subarray(0, Math.min(32, n - o)), o);
    o += 32;
  }
  return out;
}

/** A Draw that serves det(label) for the given labels in order, checking each label names its purpose. */
export function queuedDraw(seed: string, labels: string[], log: string[] = []): Draw & { left: () => number } {
  const q = labels.slice();
  const f = ((n: number, what: DrawWhat) => {
    const label = q.shift();
    if (!label) throw new Error(`unexpected draw ${what}`);
    const suffix = what.startsWith("handshake-")
      ? what.replace("handshake-", "handshake-").replace("pq-m", "pq-m")
      : what;
    if (!label.endsWith(suffix)) throw new Error(`draw ${what} but the vectors drew ${label}`);
    log.push(label);
    return det(seed, label, n);
  }) as Draw & { left: () => number };
  f.left = () => q.length;
  return f;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const hx = (b: Uint8Array | null) => (b ? hexencode(b) : null);

/** A RatchetState in the vectors' shape. */
export function stateView(s: RatchetState): Record<string, unknown> {
  return {
    RK_hex: hexencode(s.rk),
    DHs_priv_hex: hexencode(s.dhs.priv),
    DHs_pub_hex: hexencode(s.dhs.pub),
    DHr_hex: hx(s.dhr),
    CKs_hex: hx(s.cks),
    CKr_hex: hx(s.ckr),
    Ns: s.ns,
    Nr: s.nr,
    PN: s.pn,
    KEMs_seed_hex: s.kems ? hexencode(s.kems.seed) : null,
    KEMs_ek_sha256_hex: s.kems ? sha(s.kems.ek) : null,
    KEMr_ek_sha256_hex: s.kemr ? sha(s.kemr) : null,
    sendCt_sha256_hex: s.sendCt ? sha(s.sendCt) : null,
    skipped_keys: s.skipped.map((k) => ({ dh_pub_hex: hexencode(k.dh), n: k.n, mk_hex: hexencode(k.mk) })),
  };
}

/** A vector state object read through the Proxy (so every leaf counts as read). */
export function vecState(v: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    out[k] =
      k === "skipped_keys"
        ? (v[k] as any[]).length === 0
          ? []
          : Array.from({ length: v[k].length }, (_, i) => ({
              dh_pub_hex: v[k][i].dh_pub_hex,
              n: v[k][i].n,
              mk_hex: v[k][i].mk_hex,
            }))
        : v[k];
  }
  return out;
}
export { sha };
