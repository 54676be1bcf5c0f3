// phantom listen's delivery cursor (cursors.json): what was never delivered to a listener is
// printed first (the backlog), then new messages as they come; across SIGINT, SIGTERM, a
// closed stdout and runs back to back every message is printed exactly once; --from now
// skips the backlog.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { nextJson, ok, runProgram, startListen } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { cliUser, peerOf, restOf } from "./helpers/listen-world.ts";
import { CLIENT_BIN, lines, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(180_000);

let relay: RunningRelay;
let root: string;

beforeAll(async () => {
  relay = await startRelay();
  root = tempDir("phantom-listen-cursor-");
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function world(name: string) {
  const bob = await cliUser(join(root, name), relay.url);
  const alice = await peerOf(relay.url, bob);
  await ok(bob, ["contacts"]); // bob learns alice from his inbox
  await ok(bob, ["accept", alice.user.uid]);
  await ok(bob, ["nick", alice.user.uid, "alice"]);
  return { bob, alice };
}

test("backlog once, then streamed; SIGINT, SIGTERM, a closed stdout and back-to-back runs print each once", async () => {
  const { bob, alice } = await world("bob1");
  const printed: Record<string, unknown>[] = [];
  const expectBody = async (out: AsyncGenerator<string>, body: string) => {
    const line = await nextJson(out, body);
    printed.push(line);
    expect(line).toMatchObject({ from: alice.user.uid, nick: "alice", body });
  };

  await alice.send("backlog 1");
  await alice.send("backlog 2");
  // Run 1: the backlog, then a live message; ended by SIGINT.
  let l = await startListen(bob.env);
  await expectBody(l.out, "backlog 1");
  await expectBody(l.out, "backlog 2");
  await alice.send("live 1");
  await expectBody(l.out, "live 1");
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });

  // Run 2: what came while nobody listened, then live; ended by SIGTERM.
  await alice.send("gap 1");
  l = await startListen(bob.env);
  await expectBody(l.out, "gap 1");
  await alice.send("live 2");
  await expectBody(l.out, "live 2");
  l.proc.kill("SIGTERM");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });

  // Run 3, back to back: nothing again; the first line is the next new message.
  l = await startListen(bob.env);
  await alice.send("live 3");
  await expectBody(l.out, "live 3");
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });

  // Run 4: stdout closes after one line (`| head -n 1`); the message written into the closed
  // pipe was not delivered, so it is the first line of run 5.
  await alice.send("closed 1");
  // The shell says on stderr when head has exited (its end of the pipe is closed).
  const sh = Bun.spawn(["sh", "-c", `"${CLIENT_BIN}" listen --json | { head -n 1; echo head-done >&2; }`], {
    env: bob.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const errs = lines(sh.stderr);
  const stderrSeen: string[] = [];
  const headDone = async () => {
    for await (const e of errs) {
      if (e === "head-done") return;
      stderrSeen.push(e);
    }
    throw new Error(`the pipeline ended before head did: ${stderrSeen.join("\n")}`);
  };
  await within(headDone(), 30_000, () => `head did not finish; stderr:\n${stderrSeen.join("\n")}`);
  // Written into the closed pipe: not delivered; listen stops there.
  await alice.send("closed 2");
  expect(
    await within(sh.exited, 30_000, () => `listen did not stop on the closed pipe: ${stderrSeen.join("\n")}`),
  ).toBe(0);
  const first = JSON.parse((await new Response(sh.stdout).text()).trim()) as Record<string, unknown>;
  printed.push(first);
  expect(first).toMatchObject({ body: "closed 1", nick: "alice" });
  l = await startListen(bob.env);
  await expectBody(l.out, "closed 2");
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });

  const bodies = printed.map((m) => m.body);
  expect(bodies).toEqual(["backlog 1", "backlog 2", "live 1", "gap 1", "live 2", "live 3", "closed 1", "closed 2"]);
  expect(new Set(printed.map((m) => m.id)).size).toBe(printed.length);
});

test("--from now skips the backlog, and later runs go on from there", async () => {
  const { bob, alice } = await world("bob2");
  await alice.send("old 1");
  let l = await startListen(bob.env, 20_000, ["--from", "now"]);
  await alice.send("new 1");
  expect(await nextJson(l.out, "new 1")).toMatchObject({ body: "new 1" });
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });
  await alice.send("new 2");
  l = await startListen(bob.env);
  expect(await nextJson(l.out, "new 2")).toMatchObject({ body: "new 2" });
  l.proc.kill("SIGINT");
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });
});

test("--from takes only now", async () => {
  const { bob } = await world("bob3");
  const r = await runProgram([CLIENT_BIN, "listen", "--from", "yesterday"], bob.env);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('phantom: error: --from takes "now" (got yesterday)\n');
});
