// PROTOCOL-v3 §V8 local history with the compiled client: rows seeded into Alice's state.db (unlocked
// here with her password, as the client does), then `phantom search` and `phantom history clear`:
// output (human and --json), exit codes, and one-line errors for bad input.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { utf8 } from "../lib/encoding.ts";
import { encodeInner, newInnerId } from "../lib/v3/inner.ts";
import { type Direction, listHistory, putHistory } from "../client/state/ratchet-store.ts";
import { stateOf } from "../client/state/state-db.ts";
import { expectOneLineError, PASSWORD, phantom, type Run, userEnv } from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { withHomeState } from "./helpers/state.ts";

setDefaultTimeout(60_000);

const root = tempDir("phantom-history-cli-");
let relay: RunningRelay;
let alice = { home: "", env: {} as Record<string, string>, uid: "" };
let bobUid = "";
let carolUid = "";
const T0 = 1_780_000_000;

async function ok(env: Record<string, string>, args: string[]): Promise<Run> {
  const r = await phantom(env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

const hash = () => new Uint8Array(createHash("sha256").update(randomBytes(16)).digest());

async function seed(rows: Array<{ uid: string; ts: number; direction: Direction; inner: Uint8Array }>): Promise<void> {
  await withHomeState(alice.home, PASSWORD, () => {
    const db = stateOf(alice.home);
    for (const r of rows) putHistory(db, r.uid, { hash: hash(), ts: r.ts, direction: r.direction, inner: r.inner });
  });
}

const text = (body: string) => encodeInner({ t: "text", id: newInnerId(), body });

async function rowsOf(uid: string): Promise<number> {
  return await withHomeState(alice.home, PASSWORD, () => listHistory(stateOf(alice.home), uid).length);
}

beforeAll(async () => {
  relay = await startRelay();
  const user = async (name: string) => {
    const home = join(root, name);
    mkdirSync(home, { mode: 0o700, recursive: true });
    const env = userEnv(home, relay.url, { TZ: "UTC" });
    const uid = (await ok(env, ["init", "--json"])).json()[0]!.uid as string;
    return { home, env, uid };
  };
  alice = await user("alice");
  bobUid = (await user("bob")).uid;
  carolUid = (await user("carol")).uid;
  await ok(alice.env, ["add", bobUid, "--nick", "bob"]);
  await ok(alice.env, ["add", carolUid]);
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe("phantom search and phantom history clear", () => {
  test("seeded history is searched: human lines like read, --json an array, --contact, no match", async () => {
    await seed([
      { uid: bobUid, ts: T0 + 60, direction: "in", inner: text("Lunch at noon?\nor later") },
      { uid: bobUid, ts: T0, direction: "out", inner: text("hello bob") },
      {
        uid: bobUid,
        ts: T0 + 120,
        direction: "in",
        inner: encodeInner({
          t: "file",
          id: newInnerId(),
          name: "lunch-menu.pdf",
          size: 2048,
          mime: "application/pdf",
          url: `${relay.url}/file/x`,
          key: new Uint8Array(32),
        }),
      },
      { uid: carolUid, ts: T0 + 90, direction: "out", inner: text("LUNCH tomorrow, carol?") },
      { uid: carolUid, ts: T0 + 100, direction: "in", inner: new Uint8Array(0) }, // history off: already read
      { uid: carolUid, ts: T0 + 110, direction: "in", inner: utf8.encode('{"t":"poll","id":"x"}') }, // unknown kind
    ]);
    const r = await ok(alice.env, ["search", "lunch"]);
    expect(r.stderr).toBe("");
    const c8 = carolUid.slice(0, 8);
    expect(r.stdout).toBe(
      [
        "[2026-05-28 20:27] bob: Lunch at noon?",
        "                        or later",
        `[2026-05-28 20:28] me → ${c8}: LUNCH tomorrow, carol?`,
        "[2026-05-28 20:28] bob: [file] lunch-menu.pdf (2.0 KB, application/pdf)",
        "",
      ].join("\n"),
    );

    const j = await ok(alice.env, ["--json", "search", "LUNCH"]);
    const list = JSON.parse(j.stdout) as Array<Record<string, unknown>>;
    expect(j.stdout.trim().split("\n")).toHaveLength(1);
    expect(list.map((m) => [m.uid, m.nickname, m.ts, m.from, m.mine, m.body, m.protocol])).toEqual([
      [bobUid, "bob", T0 + 60, bobUid, false, "Lunch at noon?\nor later", 3],
      [carolUid, null, T0 + 90, alice.uid, true, "LUNCH tomorrow, carol?", 3],
      [bobUid, "bob", T0 + 120, bobUid, false, "lunch-menu.pdf", 3],
    ]);
    expect(list[2]!.file).toEqual({ name: "lunch-menu.pdf", size: 2048, mime: "application/pdf" });
    expect(list[0]!.file).toBeUndefined();
    expect(typeof list[0]!.id).toBe("string");
    expect(j.stdout).not.toContain("/file/x"); // no URL (nor key) leaves the session

    const carol = await ok(alice.env, ["--json", "search", "lunch", "--contact", carolUid]);
    expect((JSON.parse(carol.stdout) as unknown[]).length).toBe(1);
    const bob = await ok(alice.env, ["search", "HELLO", "--contact", "bob"]);
    expect(bob.stdout).toBe("[2026-05-28 20:26] me → bob: hello bob\n");

    const none = await ok(alice.env, ["search", "already read"]);
    expect(none.stdout).toBe("no messages match\n");
    expect(none.stderr).toBe("");
    expect((await ok(alice.env, ["--json", "search", "zebra"])).stdout).toBe("[]\n");
  });

  test("bad input is one error line: empty text, unknown contact", async () => {
    expect(expectOneLineError(await phantom(alice.env, ["search", ""]))).toBe("the text to search for is empty");
    expect(expectOneLineError(await phantom(alice.env, ["search", "   "]))).toBe("the text to search for is empty");
    expect(expectOneLineError(await phantom(alice.env, ["search", "x", "--contact", "nobody"]))).toContain("nobody");
    expect(expectOneLineError(await phantom(alice.env, ["history", "clear", "nobody", "--yes"]))).toContain("nobody");
    expect(expectOneLineError(await phantom(alice.env, ["history", "clear"]))).toBe(
      "history clear needs a contact, or --all for every conversation",
    );
    expect(expectOneLineError(await phantom(alice.env, ["history", "clear", "bob", "--all", "--yes"]))).toBe(
      "history clear takes a contact or --all, not both",
    );
    expect(expectOneLineError(await phantom(alice.env, ["history", "wipe", "bob"]))).toContain("clear");
    // No terminal to confirm on: --yes is needed, and nothing is deleted.
    expect(expectOneLineError(await phantom(alice.env, ["history", "clear", "bob"]))).toContain("--yes");
    expect(await rowsOf(bobUid)).toBe(3);
  });

  test("history clear <contact> deletes that conversation's rows only; --all the rest", async () => {
    const r = await ok(alice.env, ["history", "clear", "bob", "--yes"]);
    expect(r.stdout).toBe(
      `deleted 3 messages of local history of the conversation with bob (${bobUid})\n` +
        "the relay's copies are untouched (phantom burn deletes those)\n",
    );
    expect(await rowsOf(bobUid)).toBe(0);
    expect(await rowsOf(carolUid)).toBe(3);
    expect((await ok(alice.env, ["search", "lunch"])).stdout).toContain("LUNCH tomorrow");
    expect((await ok(alice.env, ["--json", "history", "clear", "bob", "--yes"])).json()).toEqual([
      { uid: bobUid, deleted: 0 },
    ]);
    const all = await ok(alice.env, ["history", "clear", "--all", "-y"]);
    expect(all.stdout).toStartWith("deleted 3 messages of local history of every conversation\n");
    expect(await rowsOf(carolUid)).toBe(0);
    expect((await ok(alice.env, ["search", "lunch"])).stdout).toBe("no messages match\n");
  });

  test("history days N: search applies it first, so older messages are gone", async () => {
    const now = Math.floor(Date.now() / 1000);
    await seed([
      { uid: bobUid, ts: now - 3 * 86_400, direction: "in", inner: text("ancient kiwi") },
      { uid: bobUid, ts: now - 86_400, direction: "in", inner: text("recent kiwi") },
    ]);
    expect((await ok(alice.env, ["--json", "search", "kiwi"])).stdout).toContain("ancient kiwi"); // keep: both
    await ok(alice.env, ["settings", "history", "days", "2"]);
    const r = await ok(alice.env, ["--json", "search", "kiwi"]);
    expect((JSON.parse(r.stdout) as Array<{ body: string }>).map((m) => m.body)).toEqual(["recent kiwi"]);
    expect(await rowsOf(bobUid)).toBe(1); // deleted from state.db, not only hidden
    await ok(alice.env, ["settings", "history", "keep"]);
  });
});
