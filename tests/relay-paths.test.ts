// PROTOCOL §6 path: Bun hands the handler a normalised URL (`/a/../fetch`
// and `/%2e%2e/fetch` arrive as `/fetch`). The relay sign-checks and routes on that one path:
// a signature over the target as sent is refused (401) when normalising changed it, and a
// signature over the normalised path serves exactly that route. Other spellings (`//fetch`,
// `/%66etch`, …) reach no route (404). Raw TCP requests against the real compiled relay.
// Build first: ./build.sh
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signHeaders, type TestUser } from "./helpers/signer.ts";

let relay: RunningRelay;
let p: Awaited<ReturnType<typeof pair>>;

beforeAll(async () => {
  relay = await startRelay({ args: ["--log-level", "warn"] });
  p = await pair(relay.url);
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

/** One request on a raw connection: `target` exactly as sent, signed over `signedPath`. */
async function rawSigned(u: TestUser, method: string, target: string, signedPath: string, body = "") {
  const bytes = new TextEncoder().encode(body);
  const headers: Record<string, string> = {
    host: "relay",
    connection: "close",
    "content-length": String(bytes.length),
    ...signHeaders(u, method, signedPath, bytes),
  };
  if (body) headers["content-type"] = "application/json";
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  const text = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: relay.port }, () => sock.write(head + body));
    let got = "";
    sock.on("data", (d) => (got += d));
    sock.on("close", () => resolve(got));
    sock.on("error", reject);
  });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

const fetchBody = () => JSON.stringify({ room_id: p.roomId });

test("the normal path is served: /fetch, and /fetch with a query string (not signed, PROTOCOL §6)", async () => {
  expect((await rawSigned(p.a, "POST", "/fetch", "/fetch", fetchBody())).status).toBe(200);
  expect((await rawSigned(p.a, "POST", "/fetch?x=1", "/fetch", fetchBody())).status).toBe(200);
});

const DOT_SPELLINGS = [
  "/a/../fetch",
  "/%2e%2e/fetch",
  "/%2E%2E/fetch",
  "/a/%2e%2e/fetch",
  "/a/.%2e/fetch",
  "/./fetch",
  "/%2e/fetch",
  "/../fetch",
  "/x\\..\\fetch",
];

test("dot segments in any spelling, and backslashes: checked and routed on the normalised path, never on two", async () => {
  for (const target of DOT_SPELLINGS) {
    // Signed over the target as sent: the signature is checked over the path that is routed.
    const asSent = await rawSigned(p.a, "POST", target, target, fetchBody());
    expect({ target, status: asSent.status }).toEqual({ target, status: 401 });
    expect(JSON.parse(asSent.body)).toEqual({ error: "unauthorized", message: "bad signature" });
    // Signed over the normalised path: served as that path, and only that route.
    const normal = await rawSigned(p.a, "POST", target, "/fetch", fetchBody());
    expect({ target, status: normal.status }).toEqual({ target, status: 200 });
    expect(JSON.parse(normal.body)).toHaveProperty("messages");
  }
});

test("other spellings of a route reach no route (404), whatever was signed", async () => {
  for (const target of [
    "//fetch",
    "/fetch/",
    "/%66etch",
    "/f%65tch",
    "/fetch%2f..",
    "/fetch%2F..%2Ffetch",
    "/fetch#x",
    "/FETCH",
    "/a//../fetch",
  ]) {
    for (const signedPath of ["/fetch", target]) {
      const r = await rawSigned(p.a, "POST", target, signedPath, fetchBody());
      expect({ target, signedPath, status: r.status }).toEqual({ target, signedPath, status: 404 });
    }
  }
});

test("dot segments around a parameter: the normalised path is the one checked and routed (/ke/pop/:uid, /pubkey/:uid, /file/:id)", async () => {
  const uid = p.a.uid;
  expect((await rawSigned(p.a, "GET", `/ke/pop/${uid}`, `/ke/pop/${uid}`)).status).toBe(200);
  expect((await rawSigned(p.a, "GET", `/ke/pop/x/../${uid}`, `/ke/pop/x/../${uid}`)).status).toBe(401);
  expect((await rawSigned(p.a, "GET", `/ke/pop/x/../${uid}`, `/ke/pop/${uid}`)).status).toBe(200);
  expect((await rawSigned(p.a, "GET", `/ke/pop/%2e%2e/pop/${uid}`, `/ke/pop/${uid}`)).status).toBe(200);
  // Another user's inbox is never reached through dot segments: the normalised path names it.
  expect((await rawSigned(p.a, "GET", `/ke/pop/${uid}/../${p.b.uid}`, `/ke/pop/${p.b.uid}`)).status).toBe(403);
  expect((await rawSigned(p.a, "GET", `/pubkey/${uid}`, "")).status).toBe(200);
  expect((await rawSigned(p.a, "GET", `/pubkey/${uid}/.`, "")).status).toBe(404); // "/pubkey/<uid>/"
  // A parameter that is itself a dot segment never reaches another route.
  expect((await rawSigned(p.a, "GET", "/file/%2e%2e", "/file/%2e%2e")).status).toBe(404);
});
