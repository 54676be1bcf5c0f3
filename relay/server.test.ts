// The relay's last-resort error answers (relay/server.ts): errors Bun reports after a
// handler returned, while it sends the response.
import { expect, test } from "bun:test";
import { Log } from "./log.ts";
import { sendError } from "./server.ts";

test("a blob that vanished before Bun opened it (a burn or purge at that moment) is the §7.8 404, not a 500", async () => {
  const lines: string[] = [];
  const log = new Log("info", (t) => void lines.push(t));
  const gone = Object.assign(new Error("ENOENT: no such file or directory, open '/data/blobs/0123'"), {
    code: "ENOENT",
    syscall: "open",
  });
  const res = sendError(gone, log);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: "not_found", message: "not found" });
  const other = sendError(new Error("boom"), log);
  expect(other.status).toBe(500);
  expect(JSON.stringify(await other.json())).not.toContain("boom");
});
