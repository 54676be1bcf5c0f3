// relay/log.ts: a failing or stuck stdout drops lines and counts them; it never throws,
// never blocks and never holds more than LOG_BUFFER_MAX.
import { expect, test } from "bun:test";
import { Log, LOG_BUFFER_MAX, type LogSink } from "./log.ts";

const turn = () => new Promise((r) => setImmediate(r));

test("failed writes are dropped and counted; the next write that gets through reports them", async () => {
  const written: string[] = [];
  let fail = true;
  const sink: LogSink = (text, done) => {
    if (fail) return done(Object.assign(new Error("EPIPE"), { code: "EPIPE" }));
    written.push(text);
    done(null);
  };
  const log = new Log("info", sink);
  log.info("one");
  log.info("two");
  await turn();
  log.warn("three");
  await turn();
  expect(log.dropped).toBe(3);
  expect(written).toEqual([]);
  fail = false;
  log.info("four");
  await turn();
  expect(written.join("")).toBe("warn: 3 log lines dropped (stdout failed or fell behind)\ninfo: four\n");
  expect(log.dropped).toBe(3);
});

test("a stuck stdout holds at most LOG_BUFFER_MAX; what does not fit is dropped and counted", async () => {
  let pendingDone: ((e: Error | null) => void) | null = null;
  const chunks: string[] = [];
  const log = new Log("info", (text, done) => {
    chunks.push(text);
    pendingDone = done;
  });
  log.info("first");
  await turn(); // the first write is under way and never completes
  const line = "x".repeat(99);
  const n = Math.ceil((LOG_BUFFER_MAX * 2) / (line.length + 7));
  for (let i = 0; i < n; i++) log.info(line);
  await turn();
  expect(chunks.length).toBe(1);
  expect(log.dropped).toBeGreaterThan(n / 3);
  expect(log.dropped).toBeLessThan(n);
  pendingDone!(null); // the reader catches up: what was kept goes out, with the count
  await turn();
  expect(chunks.length).toBeGreaterThan(1);
  expect(chunks.slice(1).join("").length).toBeLessThanOrEqual(LOG_BUFFER_MAX + 200);
  expect(chunks[1]).toStartWith(`warn: ${log.dropped} log lines dropped`);
});
