// phantom-relay migrate (issue 13) with the compiled binaries: a SQLite relay that served real
// clients is stopped, migrated into a real PostgreSQL, and started again on it with the same
// data folder; every message comes back with its seq and ts, a cursor taken before the move pages
// on, the file still downloads, a replayed request stays refused, and our client reads its
// conversation unchanged.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { b64encode } from "../lib/encoding.ts";
import { ok, runProgram, type User, userEnv } from "./helpers/cli.ts";
import { restartOnSamePort } from "./helpers/clients.ts";
import { NO_POSTGRES, type Postgres, startPostgres } from "./helpers/pg-server.ts";
import { RELAY_BIN, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { pair, signed, signHeaders } from "./helpers/signer.ts";

setDefaultTimeout(60_000);

let pg: Postgres;
const root = tempDir("phantom-migrate-e2e-");

type Row = { ts: number; ciphertext: string; seq: number };

async function allRows(base: string, u: Parameters<typeof signed>[1], roomId: string, after = 0): Promise<Row[]> {
  const rows: Row[] = [];
  for (let more = true; more;) {
    const r = await signed(base, u, "POST", "/fetch", { room_id: roomId, after_seq: after });
    expect(r.status).toBe(200);
    const page = (await r.json()) as { messages: Row[]; more: boolean };
    rows.push(...page.messages);
    more = page.more;
    after = page.messages.at(-1)?.seq ?? after;
  }
  return rows;
}

function multipart(roomId: string, file: Uint8Array) {
  const b = "b" + randomBytes(8).toString("hex");
  const head = `--${b}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${b}--\r\n`)]);
  return { body: new Uint8Array(body), type: `multipart/form-data; boundary=${b}` };
}

describe.skipIf(NO_POSTGRES !== null)(`SQLite → PostgreSQL${NO_POSTGRES ? ` (skipped: ${NO_POSTGRES})` : ""}`, () => {
  beforeAll(async () => {
    pg = await startPostgres();
  }, 30_000);
  afterAll(async () => {
    await pg?.stop();
  });

  test("nothing is lost: rows, seqs, cursors, files, the replay cache, and the client's view", async () => {
    let relay: RunningRelay = await startRelay();
    const dataDir = relay.dataDir;
    // Protocol level: a pair, 250 messages (two pages), a burned room, a file.
    const { a, b, roomId } = await pair(relay.url);
    for (let i = 0; i < 250; i++) {
      const ciphertext = b64encode(new TextEncoder().encode(`row ${i}`));
      expect((await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext })).status).toBe(200);
    }
    const gone = await pair(relay.url);
    await signed(relay.url, gone.a, "POST", "/send", { room_id: gone.roomId, ciphertext: "QUFBQQ==" });
    expect((await signed(relay.url, gone.a, "POST", "/burn", { room_id: gone.roomId })).status).toBe(200);
    const file = new Uint8Array(randomBytes(100_000));
    const { body, type } = multipart(roomId, file);
    const up = await signed(relay.url, a, "POST", "/file/upload", body, { headers: { "content-type": type } });
    expect(up.status).toBe(200);
    const { url: fileUrl } = (await up.json()) as { url: string };
    const fetchBody = new TextEncoder().encode(JSON.stringify({ room_id: roomId }));
    const replay = { ...signHeaders(b, "POST", "/fetch", fetchBody), "content-type": "application/json" };
    expect((await fetch(`${relay.url}/fetch`, { method: "POST", headers: replay, body: fetchBody })).status).toBe(200);
    // Our client's conversation, v3 between two of ours.
    const alice = { home: join(root, "alice"), env: userEnv(join(root, "alice"), relay.url) } as User;
    const bob = { home: join(root, "bob"), env: userEnv(join(root, "bob"), relay.url) } as User;
    alice.uid = (await ok(alice, ["init", "--json"])).json()[0]!.uid as string;
    bob.uid = (await ok(bob, ["init", "--json"])).json()[0]!.uid as string;
    await ok(alice, ["add", bob.uid, "--nick", "bob"]);
    await ok(bob, ["accept", alice.uid]);
    await ok(alice, ["send", "bob", "before the move"]);
    const before = await allRows(relay.url, b, roomId);
    const cursor = before[99]!.seq;
    expect(await relay.stop()).toBe(0);

    const db = new Database(join(dataDir, "relay.db"), { readonly: true });
    const { n } = db.query("SELECT count(*) AS n FROM messages").get() as { n: number };
    db.close();
    const url = await pg.newDatabase();
    const moved = await runProgram(
      [RELAY_BIN, "migrate", "--from", `sqlite:${join(dataDir, "relay.db")}`, "--to", url],
      { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    );
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`messages: ${n} rows`);
    expect(moved.stdout.trim().split("\n").at(-1)).toMatch(/^migrated to postgres:\/\//);

    // The same port (the client's relay URL) and the same folder (its file-id key).
    relay = await restartOnSamePort(relay, ["--store", url]);
    try {
      expect(await allRows(relay.url, b, roomId)).toEqual(before);
      expect(await allRows(relay.url, b, roomId, cursor)).toEqual(before.slice(100)); // a cursor pages on
      const d = await signed(relay.url, b, "GET", fileUrl);
      expect(d.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await d.arrayBuffer()), file)).toBe(0);
      const again = await fetch(`${relay.url}/fetch`, { method: "POST", headers: replay, body: fetchBody });
      expect(again.status).toBe(401); // the replay cache moved too
      expect(await allRows(relay.url, gone.a, gone.roomId)).toEqual([]);
      const next = await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext: "QkJCQg==" });
      expect(next.status).toBe(200);
      const last = (await allRows(relay.url, b, roomId, before.at(-1)!.seq))[0]!;
      expect(last.ciphertext).toBe("QkJCQg==");
      expect(last.ts).toBeGreaterThanOrEqual(before.at(-1)!.ts);
      const read = (await ok(bob, ["read", alice.uid!, "--json"])).json();
      expect(read.map((m) => m.body)).toEqual(["before the move"]);
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  });
});
