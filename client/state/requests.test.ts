// Contact requests (state.db; requests.json in 2.x): requests from notices, the cap (oldest dropped), blocked UIDs never a request again.
import { afterAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/helpers/inproc-relay.ts";
import { makeUser } from "../../tests/helpers/signer.ts";
import { unlockHome } from "../../tests/helpers/state.ts";
import { stateOf } from "./state-db.ts";
import {
  loadRequests,
  observeRequest,
  requestList,
  type RequestsFile,
  requestsPath,
  trimRequests,
  updateRequests,
} from "./requests.ts";

const root = tempDir("phantom-requests-state-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ROOM = "AAAAAAAAAAAAAAAAAAAAAA";
const empty = (): RequestsFile => ({ requests: Object.create(null), blocked: Object.create(null) });

test("a notice is a request once; a blocked UID's never is", () => {
  const f = empty();
  const [a, b] = [makeUser(), makeUser()];
  expect(observeRequest(f, a.uid, { pub_key: a.pubB64, room_id: ROOM }, 10)).toBe("new");
  expect(observeRequest(f, a.uid, { pub_key: a.pubB64, room_id: ROOM }, 20)).toBe("same");
  expect(f.requests[a.uid]!.first_seen).toBe(10);
  f.blocked[b.uid] = { blocked_at: 1, contact: null, request: null };
  expect(observeRequest(f, b.uid, { pub_key: b.pubB64, room_id: ROOM }, 30)).toBe("blocked");
  expect(Object.keys(f.requests)).toEqual([a.uid]);
});

test("the cap keeps the newest: the oldest by first seen are dropped and named", () => {
  const f = empty();
  const users = Array.from({ length: 5 }, () => makeUser());
  users.forEach((u, i) => observeRequest(f, u.uid, { pub_key: u.pubB64, room_id: ROOM }, 100 + i));
  expect(trimRequests(f, 3)).toEqual([users[0]!.uid, users[1]!.uid]);
  expect(requestList(f).map((r) => r.uid)).toEqual(users.slice(2).map((u) => u.uid));
  expect(trimRequests(f, 3)).toEqual([]);
});

test("updateRequests writes only when something changed; an empty state has none; no requests.json", () => {
  const home = unlockHome(join(root, "h"));
  const db = stateOf(home);
  expect(loadRequests(home)).toEqual({ requests: {}, blocked: {} });
  updateRequests(home, () => {});
  expect(db.revision("requests")).toBe(0);
  const u = makeUser();
  updateRequests(home, (f) => observeRequest(f, u.uid, { pub_key: u.pubB64, room_id: ROOM }, 5));
  expect(db.revision("requests")).toBe(1);
  expect(existsSync(requestsPath(home))).toBe(false);
  expect(Object.keys(loadRequests(home).requests)).toEqual([u.uid]);
});
