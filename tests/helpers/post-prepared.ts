// Child process for tests: POSTs prepared (already signed) requests one after another, then
// writes the answers' statuses to a file. It lets a test send while its own event loop is
// blocked (so a WebSocket of the test process stops reading). Usage: bun post-prepared.ts IN OUT
import { readFileSync, renameSync, writeFileSync } from "node:fs";

interface Prepared {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const [input, output] = process.argv.slice(2) as [string, string];
const requests = JSON.parse(readFileSync(input, "utf8")) as Prepared[];
const statuses: number[] = [];
for (const r of requests) {
  const res = await fetch(r.url, { method: "POST", headers: r.headers, body: r.body });
  await res.arrayBuffer();
  statuses.push(res.status);
}
writeFileSync(`${output}.tmp`, JSON.stringify(statuses));
renameSync(`${output}.tmp`, output); // appears whole
