// Contact requests and blocking in a Session against the relay (started in this process):
// a key-exchange notice (PROTOCOL §7.5) from someone unknown is a request, never a contact; a
// blocked UID's notices are dropped; at most MAX_REQUESTS are kept; remove does not let them back in.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pairKeys } from "../../lib/crypto.ts";
import { torConfigFromEnv } from "../../lib/tor.ts";
import { client } from "../../tests/helpers/clients.ts";
import { startRelay, tempDir, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import { makeUser, register, type TestUser } from "../../tests/helpers/signer.ts";
import { MAX_REQUESTS } from "../state/requests.ts";
import { stateOf } from "../state/state-db.ts";
import { type RequestView, Session } from "./session.ts";

setDefaultTimeout(60_000);

const root = tempDir("phantom-requests-");
let relay: RunningRelay;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
async function session(o: { warnings?: string[]; requests?: RequestView[] } = {}): Promise<Session> {
  return await Session.create(
    {
      home: join(root, `s${++n}`),
      password: "correct horse battery",
      relayUrl: relay.url,
      tor: torConfigFromEnv({ PHANTOM_TOR: "never" }),
      direct: false,
    },
    { onWarning: (m) => o.warnings?.push(m), onRequest: (r) => o.requests?.push(r) },
  );
}

/** A registered stranger that pushed a key-exchange notice to `s` (PROTOCOL §7.4). */
async function notice(s: Session, u: TestUser = makeUser()): Promise<TestUser> {
  await register(relay.url, u); // 409 for one already registered
  const { roomId } = pairKeys(u, s.id.encPub);
  await client(relay.url, u).kePush({ from_uid: u.uid, to_uid: s.uid, pub_key: u.pubB64, room_id: roomId });
  return u;
}

describe("contact requests", () => {
  test("a notice from someone unknown is a request (reported once), not a contact; accept makes it one", async () => {
    const requests: RequestView[] = [];
    const s = await session({ requests });
    const carol = await notice(s);
    expect(await s.processInbox()).toEqual([]);
    expect(s.contacts()).toEqual([]);
    expect(s.requests()).toEqual([
      {
        uid: carol.uid,
        fingerprint: expect.any(String),
        firstSeen: expect.any(Number),
        roomId: pairKeys(carol, s.id.encPub).roomId,
      },
    ]);
    expect(requests.map((r) => r.uid)).toEqual([carol.uid]);
    await notice(s, carol); // again: still one request, not reported again
    await s.processInbox();
    expect(s.requests().map((r) => r.uid)).toEqual([carol.uid]);
    expect(requests).toHaveLength(1);
    await expect(s.send(carol.uid, "hi")).rejects.toThrow("accept first");
    expect(s.accept(carol.uid)).toMatchObject({ uid: carol.uid, isNew: true });
    expect(s.requests()).toEqual([]);
    expect(s.contacts().map((c) => c.uid)).toEqual([carol.uid]);
    s.close();
  });

  test("removing a contact does not let their next notice make them one again", async () => {
    const s = await session();
    const carol = await notice(s);
    await s.processInbox();
    s.accept(carol.uid);
    await s.removeContact(carol.uid);
    await notice(s, carol);
    await s.processInbox();
    expect(s.contacts()).toEqual([]);
    expect(s.requests().map((r) => r.uid)).toEqual([carol.uid]);
    s.close();
  });

  test("a blocked UID's notices are dropped: no request, no contact, not reported", async () => {
    const requests: RequestView[] = [];
    const s = await session({ requests });
    const mallory = makeUser();
    await register(relay.url, mallory);
    expect(s.block(mallory.uid)).toEqual({ uid: mallory.uid, was: "unknown" });
    await notice(s, mallory);
    expect(await s.processInbox()).toEqual([]);
    expect(s.requests()).toEqual([]);
    expect(s.contacts()).toEqual([]);
    expect(requests).toEqual([]);
    expect(s.blocked().map((b) => b.uid)).toEqual([mallory.uid]);
    s.close();
  });

  test(`at most ${MAX_REQUESTS} requests are kept: the oldest dropped, and said`, async () => {
    const warnings: string[] = [];
    const s = await session({ warnings });
    const first = await notice(s);
    await s.processInbox();
    const rest: TestUser[] = [];
    for (let i = 0; i < MAX_REQUESTS; i += 20) {
      rest.push(...(await Promise.all(Array.from({ length: 20 }, () => notice(s)))));
    }
    // The first request is older by its first_seen (whole seconds): wait for the clock to move.
    await Bun.sleep(1100);
    await s.processInbox();
    const kept = s.requests().map((r) => r.uid);
    expect(kept).toHaveLength(MAX_REQUESTS);
    expect(kept).not.toContain(first.uid);
    expect(new Set(kept)).toEqual(new Set(rest.map((u) => u.uid)));
    expect(warnings).toEqual([
      `1 older contact request(s) were dropped: at most ${MAX_REQUESTS} are kept (see phantom contacts --requests)`,
    ]);
    expect(stateOf(s.home).revision("requests")).toBeGreaterThan(0);
    expect(existsSync(join(s.home, "requests.json"))).toBe(false); // sealed in state.db
    s.close();
  });
});
