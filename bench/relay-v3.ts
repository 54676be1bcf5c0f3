#!/usr/bin/env bun
// PROTOCOL-v3 §V3/§V11 on the compiled relay, sequential, one client: a full prekey publication
// (SPK, PQSPK, 100 OPKs, 10 OPQKs: 112 signatures checked), a bundle fetch, and a signed GET
// with a v2 signature, a v3 one under the first origin and one under the second (two verifies).
// Not a test: it prints, it does not assert. BENCH_USERS (50).
import { randomBytes, sha256 } from "../lib/crypto.ts";
import { b64encode, b64uencode, utf8 } from "../lib/encoding.ts";
import { PREKEY_KIND, type PrekeyKind, signPrekey } from "../lib/v3/prekey.ts";
import { H_SIGV, signRequestV3 } from "../lib/v3/request-sig.ts";
import { H_NONCE, H_SIG, H_TS, H_UID } from "../lib/wire.ts";
import { startRelay } from "../tests/helpers/relay.ts";
import { makeUser, register, signed, type TestUser } from "../tests/helpers/signer.ts";

const N = Number(process.env.BENCH_USERS ?? "50");
const relay = await startRelay({ args: ["--log-level", "error"] });
const base = relay.url;
let id = 1;
const key = (u: TestUser, kind: PrekeyKind) => {
  const pub = randomBytes(kind === PREKEY_KIND.SPK || kind === PREKEY_KIND.OPK ? 32 : 1184);
  const i = id++;
  return { id: i, pub: b64encode(pub), sig: b64uencode(signPrekey(u.signSeed, kind, i, pub)) };
};
function v3(u: TestUser, method: string, path: string, origin: string, body?: string) {
  const bytes = utf8.encode(body ?? "");
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = b64uencode(randomBytes(12));
  const sig = signRequestV3(u.signSeed, origin, method, path, u.uid, ts, nonce, sha256(bytes));
  const headers = { [H_UID]: u.uid, [H_TS]: ts, [H_NONCE]: nonce, [H_SIG]: b64uencode(sig), [H_SIGV]: "3" };
  return fetch(base + path, { method, headers, body: method === "GET" ? undefined : bytes });
}
const time = async (label: string, n: number, f: (i: number) => Promise<Response>) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await f(i);
    if (r.status !== 200) throw new Error(`${label}: ${r.status} ${await r.text()}`);
  }
  console.log(`${label.padEnd(44)} ${((performance.now() - t) / n).toFixed(2)} ms/request (n=${n})`);
};

const users: TestUser[] = [];
for (let i = 0; i < N; i++) {
  const u = makeUser();
  await register(base, u);
  users.push(u);
}
const bodies = users.map((u) =>
  JSON.stringify({
    spk: key(u, PREKEY_KIND.SPK),
    pqspk: key(u, PREKEY_KIND.PQSPK),
    opks: Array.from({ length: 100 }, () => key(u, PREKEY_KIND.OPK)),
    opqks: Array.from({ length: 10 }, () => key(u, PREKEY_KIND.OPQK)),
  }),
);
const o1 = `http://127.0.0.1:${relay.port}`;
const o2 = `http://localhost:${relay.port}`;
console.log(`full publication body: ${bodies[0]!.length} bytes`);
await time("POST /v3/prekeys, full (112 keys)", N, (i) => v3(users[i]!, "POST", "/v3/prekeys", o1, bodies[i]));
await time("POST /v3/bundle (one-time keys handed out)", N, (i) =>
  v3(users[0]!, "POST", "/v3/bundle", o1, JSON.stringify({ uid: users[(i % (N - 1)) + 1]!.uid })),
);
const m = Math.min(N * 10, 500);
await time("GET /v3/prekeys, v2 signature", m, (i) => signed(base, users[i % N]!, "GET", "/v3/prekeys"));
await time("GET /v3/prekeys, v3, first origin", m, (i) => v3(users[i % N]!, "GET", "/v3/prekeys", o1));
await time("GET /v3/prekeys, v3, second origin", m, (i) => v3(users[i % N]!, "GET", "/v3/prekeys", o2));
await relay.stop();
relay.cleanup();
