// docs/deploy.md (issue 13) says what the tests run: its haproxy configuration is the one
// tests/helpers/haproxy.ts starts (there with TLS, here on loopback), haproxy itself accepts it,
// and every relay flag and variable it names exists.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPTIONS } from "../relay/options.ts";
import { haproxyBin, haproxyConfig, NO_HAPROXY } from "./helpers/haproxy.ts";
import { ROOT } from "./helpers/relay.ts";

const DOC = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
const block = (lang: string) => {
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(DOC);
  if (!m) throw new Error(`no ${lang} block in docs/deploy.md`);
  return m[1]!;
};
const SERVERS = ["127.0.0.1:8801", "127.0.0.1:8802", "127.0.0.1:8803"];

test("the haproxy configuration of docs/deploy.md is the one the scale tests run", () => {
  expect(block("haproxy")).toBe(haproxyConfig(":443 ssl crt /etc/haproxy/relay.example.org.pem", SERVERS));
});

test.skipIf(NO_HAPROXY !== null)(`haproxy -c accepts it${NO_HAPROXY ? ` (skipped: ${NO_HAPROXY})` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "phantom-deploy-doc-"));
  try {
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(cfg, haproxyConfig("127.0.0.1:8787", SERVERS)); // no certificate here: the same without TLS
    const r = Bun.spawnSync([haproxyBin()!, "-c", "-f", cfg]);
    expect(r.exitCode, r.stderr.toString() + r.stdout.toString()).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every relay flag and PHANTOM_RELAY_ variable the page names exists", () => {
  const flags = new Set(OPTIONS.map((o) => o.flag).filter(Boolean));
  const vars = new Set(OPTIONS.map((o) => o.env));
  const named = [...DOC.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)].map((m) => m[0]);
  const migrate = new Set(["--from", "--to"]); // phantom-relay migrate's own
  const other = new Set(["--pwprompt", "--owner", "--now"]); // createuser, createdb, systemctl
  for (const f of named) if (!migrate.has(f) && !other.has(f)) expect(flags.has(f as `--${string}`), f).toBe(true);
  for (const v of DOC.matchAll(/PHANTOM_RELAY_[A-Z_]+/g)) expect(vars.has(v[0]), v[0]).toBe(true);
});
