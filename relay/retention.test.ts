import { expect, test } from "bun:test";
import { parseConfig } from "./config.ts";
import { DEFAULTS } from "./defaults.ts";
import { purgeLimits } from "./retention.ts";

function config(env: Record<string, string>) {
  const p = parseConfig([], env);
  if (p.kind !== "run") throw new Error("no config");
  return p.config;
}

test("a purge never deletes a row younger than its limit (PROTOCOL §8)", () => {
  const c = config({ KE_RETENTION_HOURS: "0.0005" }); // 1.8 s
  const now = 1000.5;
  const l = purgeLimits({ config: c }, now);
  // A row stamped ts was made in [ts, ts + 1): deleted (ts < cut-off) only if surely older than 1.8 s.
  for (let ts = 990; ts <= 1001; ts++) {
    const deleted = ts < l.inboxBefore;
    const youngestAge = now - (ts + 1);
    if (deleted) expect(youngestAge).toBeGreaterThanOrEqual(1.8);
  }
  expect(997 < l.inboxBefore).toBe(true); // made before 998: 2.5 s old at least
  expect(998 < l.inboxBefore).toBe(false); // could be 1.5 s old
});

test("defaults: 7 days, 24 h, 24 h", () => {
  const c = config({});
  const now = 2_000_000_000;
  const l = purgeLimits({ config: c }, now);
  expect(l.messagesBefore).toBe(now - DEFAULTS.messageRetentionDays * 86400);
  expect(l.inboxBefore).toBe(now - 24 * 3600);
  expect(l.filesExpiredBy).toBe(now);
  expect(l.noncesUntil).toBe(now - 1);
});
