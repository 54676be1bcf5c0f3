// Interoperability with a Python protocol v2 client (PROTOCOL.md): tests/py/phantom_v2.py is an
// independent implementation written from the spec with pyca/cryptography and requests, the
// libraries of the Phantom 2.2.x client. It talks to the real compiled relay while our compiled
// client (dist/phantom) talks to it: contacts both ways, text, files, identity files, burn with
// and without the relay's auth key, legacy plaintexts. No TypeScript crypto is used here.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nextJson, phantom, startListen, type User, userEnv } from "./helpers/cli.ts";
import { type Json, NO_PYTHON, PYTHON, py as pyJson, pyRun as runPy } from "./helpers/python.ts";
import { ROOT, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(60_000); // bunfig's [test] timeout is not applied by this Bun; scrypt is ~0.5 s per command

const VECTORS = join(ROOT, "tests/vectors/v2.json");

/** Every vault here uses a non-ASCII password: scrypt takes its UTF-8 bytes (PROTOCOL §3). */
const PW = "p\u00e4ssw\u00f6rd \u{1F47B} \u00c5";

/** The Python client with this file's password unless another is given. */
const pyRun = (home: string, relayUrl: string, args: string[], password = PW) => runPy(home, relayUrl, args, password);
const py = (home: string, relayUrl: string, args: string[], password = PW) => pyJson(home, relayUrl, args, password);

let relay: RunningRelay;
let authRelay: RunningRelay;
const root = tempDir("phantom-interop-");
const pat = { home: join(root, "pat"), uid: "", fingerprint: "" }; // Python user we add
const carol = { home: join(root, "carol"), uid: "", fingerprint: "" }; // Python user who adds us
const us = { home: join(root, "us") } as User;
let ourFingerprint = "";
let ourPub = "";

beforeAll(async () => {
  [relay, authRelay] = await Promise.all([
    startRelay(),
    startRelay({ env: { PHANTOM_AUTH_PRIV_B64: randomBytes(32).toString("base64") } }),
  ]);
  us.env = userEnv(us.home, relay.url, { PHANTOM_PASSWORD: PW });
});

afterAll(async () => {
  await Promise.all([relay?.stop(), authRelay?.stop()]);
  relay?.cleanup();
  authRelay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function ok(args: string[], o: { stdin?: string; env?: Record<string, string> } = {}) {
  const r = await phantom(o.env ?? us.env, args, o);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

const pairs = (msgs: Json[]) => msgs.map((m) => [m.from, m.body]);

test("a python3 with cryptography and requests is there, and the Python client reproduces the v2 vectors", async () => {
  expect(PYTHON, NO_PYTHON).not.toBeNull();
  expect(await py(root, relay.url, ["selfcheck", VECTORS])).toEqual({ ok: true });
});

describe("identity files (§3)", () => {
  test("Python init and our init; register", async () => {
    const [p, c, o] = await Promise.all([
      py(pat.home, relay.url, ["init"]),
      py(carol.home, relay.url, ["init"]),
      ok(["init", "--json"]),
    ]);
    [pat.uid, pat.fingerprint, carol.uid, carol.fingerprint] = [p.uid, p.fingerprint, c.uid, c.fingerprint];
    us.uid = o.json()[0]!.uid as string;
    ourFingerprint = (await ok(["whoami", "--json"])).json()[0]!.fingerprint as string;
    expect(pat.uid).toMatch(/^[A-Za-z0-9_-]{28}$/);
    await Promise.all([py(pat.home, relay.url, ["register"]), py(carol.home, relay.url, ["register"])]);
    // Python's json.dumps default separators, 0600 (PROTOCOL §3).
    const file = join(pat.home, "identity.json");
    expect(readFileSync(file, "utf8")).toMatch(/^\{"salt": "[^"]{44}", "nonce": "[^"]{16}", "ct": "[^"]+"\}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("the identity.json written by Python opens in our client with the UID Python computed", async () => {
    const home = join(root, "ours-with-py-identity");
    mkdirSync(home, { mode: 0o700 });
    copyFileSync(join(pat.home, "identity.json"), join(home, "identity.json"));
    const who = (await ok(["whoami", "--json"], { env: userEnv(home, relay.url, { PHANTOM_PASSWORD: PW }) })).json();
    expect(who[0]).toMatchObject({ uid: pat.uid, fingerprint: pat.fingerprint });
  });

  test("a Python identity with a 2-character password opens too (our 8-character minimum is for new ones)", async () => {
    const home = join(root, "short-password");
    const made = await py(home, relay.url, ["init"], "pw");
    const who = (await ok(["whoami", "--json"], { env: userEnv(home, relay.url, { PHANTOM_PASSWORD: "pw" }) })).json();
    expect(who[0]).toMatchObject({ uid: made.uid, fingerprint: made.fingerprint });
  });

  test("the identity.json written by our init opens in the Python client (same UID and fingerprint)", async () => {
    const home = join(root, "py-with-our-identity");
    mkdirSync(home, { mode: 0o700 });
    copyFileSync(join(us.home, "identity.json"), join(home, "identity.json"));
    // The script also checks that the stored public keys are those of the stored private keys.
    const who = await py(home, relay.url, ["whoami"]);
    expect(who).toMatchObject({ uid: us.uid, fingerprint: ourFingerprint });
    ourPub = who.pub as string;
  });
});

describe("contacts (§7.4, §7.5)", () => {
  test("we add the Python user: it pops our key-exchange entry with the room id it derives itself", async () => {
    const added = (await ok(["add", pat.uid, "--nick", "pat", "--json"])).json();
    expect(added).toEqual([{ uid: pat.uid, nickname: "pat", fingerprint: pat.fingerprint, verified: false }]);
    const popped = await py(pat.home, relay.url, ["pop"]);
    expect(popped.entries).toEqual([
      { from_uid: us.uid, pub_key: ourPub, room_id: expect.any(String), ts: expect.any(Number) },
    ]);
  });

  test("a Python user adds us: our contacts show it as new, with its fingerprint", async () => {
    await py(carol.home, relay.url, ["add", us.uid]);
    await ok(["accept", carol.uid]); // accept step: someone who adds you is a contact request
    const seen = (await ok(["contacts", "--json"])).json();
    expect(seen.find((c) => c.uid === carol.uid)).toEqual({
      uid: carol.uid,
      nickname: null,
      fingerprint: carol.fingerprint,
      verified: false,
      key_changed: false,
      new: true,
      protocol: 2,
    });
  });
});

describe("messages (§5.1, §5.2, §7.6)", () => {
  const fromPy = ["h\u00e9llo w\u00f6rld \u2713 \u{1F47B} \u65e5\u672c", 'she said "hi"\n\tthen \\left\n', "plain"];
  const fromUs = ["r\u00e9ponse \u{1F600}", 'quotes "x" and\nnew lines \u00e9\n\u{1F680}'];

  test("text both ways: non-ASCII, emoji, quotes, backslashes and new lines", async () => {
    for (const t of fromPy) await py(pat.home, relay.url, ["send", us.uid, t]);
    const spaced = 'spaced {"json"} \u00fc \u{1F47B}'; // envelope with spaces, keys reversed, raw UTF-8
    await py(pat.home, relay.url, ["send", us.uid, spaced, "--spaced"]);
    await ok(["send", "pat", fromUs[0]!]);
    await ok(["send", "pat"], { stdin: fromUs[1]! + "\n" }); // stdin drops one final new line
    const expected = [...[...fromPy, spaced].map((b) => [pat.uid, b]), ...fromUs.map((b) => [us.uid, b])];
    const ours = (await ok(["read", "pat", "--json"])).json();
    expect(pairs(ours)).toEqual(expected);
    expect(pairs((await py(pat.home, relay.url, ["read", us.uid])).messages)).toEqual(expected);
  });

  test("with the Python user who added us", async () => {
    await py(carol.home, relay.url, ["send", us.uid, "hi from carol \u{1F40D}"]);
    await ok(["send", carol.uid, "hi carol"]);
    const expected = [
      [carol.uid, "hi from carol \u{1F40D}"],
      [us.uid, "hi carol"],
    ];
    expect(pairs((await ok(["read", carol.uid, "--json"])).json())).toEqual(expected);
    expect(pairs((await py(carol.home, relay.url, ["read", us.uid])).messages)).toEqual(expected);
  });

  test("the largest ciphertext (65,536 bytes decoded) from Python is stored and read; one byte more is 413", async () => {
    // 0x01 + nonce (12) + tag (16) around the envelope: 29 bytes of overhead (PROTOCOL §5.1).
    const envelope = (body: string) => `PHANTOM_MSG_V1:{"from":"${pat.uid}","body":"${body}"}`;
    const n = 65_536 - 29 - envelope("").length;
    await py(pat.home, relay.url, ["send", us.uid, "x".repeat(n)]);
    const over = await pyRun(pat.home, relay.url, ["send", us.uid, "x".repeat(n + 1)]);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain("/send -> 413");
    const last = (await ok(["read", "pat", "--json", "--limit", "1"])).json();
    expect(pairs(last)).toEqual([[pat.uid, "x".repeat(n)]]);
  });

  test("our listen gets a message from the Python client live", async () => {
    // --from now: earlier tests' messages are the backlog; this one is about live delivery.
    const { proc, out } = await startListen(us.env, 20_000, ["--from", "now"]);
    try {
      await py(pat.home, relay.url, ["send", us.uid, "live \u{1F40D}"]);
      expect(await nextJson(out, "the message", 20_000)).toEqual({
        ts: expect.any(Number),
        from: pat.uid,
        body: "live \u{1F40D}",
        protocol: 2,
        nick: "pat",
        id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("a legacy plaintext (no PHANTOM_MSG_V1 prefix) with sender_id in /send", async () => {
    await py(pat.home, relay.url, ["send", us.uid, "legacy plain body", "--legacy"]);
    // §7.6: the relay stores (room_id, ciphertext, ts), not sender_id, so its rows carry no sender
    // and §5.2's "sender_id of the relay row, if any" is none: our client shows the body with an
    // unknown sender (null in --json, "?" on screen); so does the Python client.
    expect((await ok(["read", "pat", "--json", "--limit", "1"])).json()).toEqual([
      { ts: expect.any(Number), from: null, body: "legacy plain body", protocol: 2 },
    ]);
    expect((await ok(["read", "pat", "--limit", "1"])).stdout).toContain("?: legacy plain body");
    const theirs = (await py(pat.home, relay.url, ["read", us.uid])).messages as Json[];
    expect(theirs.at(-1)).toEqual({ ts: expect.any(Number), from: null, body: "legacy plain body" });
  });
});

describe("files (§5.3, §7.8)", () => {
  const src = join(root, "src");
  const dl = join(root, "dl");
  const name = "r\u00e9sum\u00e9 \u{1F47B}.txt";
  const pyData = randomBytes(200_000);
  const ourData = randomBytes(150_000);

  test("Python uploads with requests multipart and announces; our get saves the same bytes", async () => {
    mkdirSync(src);
    mkdirSync(dl);
    writeFileSync(join(src, name), pyData);
    const sent = await py(pat.home, relay.url, ["send-file", us.uid, join(src, name)]);
    expect(sent.upload.url).toMatch(/^\/file\/[A-Za-z0-9_-]+$/);
    expect(sent.file.url).toBe(relay.url + sent.upload.url);
    const last = (await ok(["read", "pat", "--json", "--limit", "1"])).json();
    expect(last).toEqual([
      {
        ts: expect.any(Number),
        from: pat.uid,
        body: name,
        file: { n: 1, name, size: pyData.length, mime: "text/plain" },
        protocol: 2,
      },
    ]);
    expect((await ok(["get", "pat", "1", dl, "--json"])).json()).toEqual([{ path: join(dl, name) }]);
    expect(readFileSync(join(dl, name)).equals(pyData)).toBe(true);
  });

  test("our send --file; Python downloads only the URL's path and decrypts", async () => {
    writeFileSync(join(src, "ours.bin"), ourData);
    await ok(["send", "pat", "--file", join(src, "ours.bin")]);
    const out = join(dl, "from-us.bin");
    const got = await py(pat.home, relay.url, ["get-file", us.uid, "2", out]);
    expect(got).toMatchObject({ name: "ours.bin", size: ourData.length });
    expect(got.downloaded_path).toMatch(/^\/file\/[A-Za-z0-9_-]+$/);
    expect(readFileSync(out).equals(ourData)).toBe(true);
  });
});

test("the identity from our init, used by the Python client, reads our conversation (same keys)", async () => {
  // Signed /fetch proves the signing key, decryption proves the encryption key.
  const home = join(root, "py-with-our-identity");
  await py(home, relay.url, ["add", pat.uid, "--no-push"]);
  const msgs = (await py(home, relay.url, ["read", pat.uid])).messages as Json[];
  expect(msgs[0]).toMatchObject({ from: pat.uid, body: "h\u00e9llo w\u00f6rld \u2713 \u{1F47B} \u65e5\u672c" });
  expect(msgs.at(-1)!.file).toMatchObject({ name: "ours.bin", size: 150_000 });
});

describe("burn (§7.7)", () => {
  test("without a relay auth key, a Python burn deletes the room", async () => {
    const health = (await (await fetch(`${relay.url}/health`)).json()) as Json;
    // PROTOCOL §7.10 fields (max_file_size, retention, limits) come too; the 2.2.x client ignores them.
    expect(health).toMatchObject({ status: "ok", version: expect.any(String), auth_required: false, auth_pub: null });
    const r = await py(pat.home, relay.url, ["burn", us.uid]);
    expect(r.status).toBe(200);
    expect(r.answer.deleted).toBeGreaterThanOrEqual(8);
    expect((await ok(["read", "pat", "--json"])).json()).toEqual([]);
  });

  test("with PHANTOM_AUTH_PRIV_B64: a correct HMAC burns; one over another ts/nonce (2.2.x) is 401", async () => {
    const base = authRelay.url;
    const health = (await (await fetch(`${base}/health`)).json()) as Json;
    expect(health).toMatchObject({ auth_required: true, auth_pub: expect.any(String) });
    await Promise.all([py(pat.home, base, ["register"]), py(carol.home, base, ["register"])]);
    await py(pat.home, base, ["add", carol.uid]);
    await py(carol.home, base, ["pop"]);
    await py(pat.home, base, ["send", carol.uid, "to be burned"]);
    const quirk = await py(pat.home, base, ["burn", carol.uid, "--quirk"]);
    expect(quirk.status).toBe(401);
    expect(quirk.answer).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect(pairs((await py(carol.home, base, ["read", pat.uid])).messages)).toEqual([[pat.uid, "to be burned"]]);
    const good = await py(pat.home, base, ["burn", carol.uid]);
    expect(good).toEqual({ status: 200, answer: { ok: true, deleted: 1 } });
    expect((await py(carol.home, base, ["read", pat.uid])).messages).toEqual([]);
  });
});
