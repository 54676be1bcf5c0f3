// The same tests through a running daemon (issue 14: "output is identical either way"): these
// files of CLI tests run again with PHANTOM_TEST_DAEMON=1 (tests/helpers/daemon.ts), where every
// CLI user gets `phantom daemon` right after `phantom init` and loses PHANTOM_PASSWORD, so each of
// their commands must be served by the daemon, with the output the test expects of a command
// that unlocks itself.
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tail } from "./helpers/deadline.ts";
import { ROOT, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(240_000);

/**
 * send, read, listen (cursor, contact and burn events), contacts, accept, nick, search, history, whoami.
 * (tests/requests-cli.test.ts passes this way too — PHANTOM_TEST_DAEMON=1 bun test it — but costs the
 * suite a minute on two cores.)
 */
const FILES = [
  "tests/listen-events.test.ts",
  "tests/listen-cursor.test.ts",
  "tests/history-cli.test.ts",
  "tests/small-cli.test.ts",
];

for (const file of FILES) {
  test(`${file}, through a daemon`, async () => {
    const dir = tempDir("phantom-daemon-mode-");
    const count = join(dir, "daemons");
    try {
      const proc = Bun.spawn([join(ROOT, "node_modules/.bin/bun"), "test", "--timeout", "120000", file], {
        cwd: ROOT,
        env: { ...process.env, PHANTOM_TEST_DAEMON: "1", PHANTOM_TEST_DAEMON_COUNT: count },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      if (code !== 0) throw new Error(`${file} failed through a daemon (exit ${code}):\n${tail(out + err, 60)}`);
      expect(err).toMatch(/ 0 fail/);
      // Daemons were started (and the commands had no password without them).
      expect(
        readFileSync(count, "utf8")
          .split("\n")
          .filter((l) => l === "1").length,
      ).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
