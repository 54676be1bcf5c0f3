// The contract of the relay's Store interface (relay/store.ts) as one bun:test suite that every
// implementation runs: `storeContract("SQLite", open, close)` in that backend's test file. It
// sees a store only through the interface, so it holds for any backend. Messages are added with
// a ts that never decreases as seq grows, as the relay's WriteQueue guarantees.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  type FileRecord,
  type InboxEntry,
  type PrekeyUpload,
  type StoredPrekey,
  type PurgeLimits,
  type Store,
  StoreBusyError,
  type UserRecord,
} from "./store.ts";

const ROOM_A = "A".repeat(22);
const ROOM_B = "B".repeat(22);
const UID_1 = "1".repeat(28);
const UID_2 = "2".repeat(28);
const UID_3 = "3".repeat(28);
const all = () => true;
/** The seq of a new row (the ts the caller gives is kept: it never decreases below). */
const seqOf = async (store: Store, roomId: string, ciphertext: string, ts: number) =>
  (await store.addMessage(roomId, ciphertext, ts)).seq;

const user = (uid: string, fill: number): UserRecord => ({
  uid,
  encPub: new Uint8Array(32).fill(fill),
  signPub: new Uint8Array(32).fill(fill + 1),
});
const entry = (from: string, room: string, ts: number): InboxEntry => ({
  from_uid: from,
  pub_key: "k".repeat(44),
  room_id: room,
  ts,
});
const file = (blobId: string, roomId: string, size: number, expires: number): FileRecord => ({
  blobId,
  roomId,
  size,
  expires,
});
/** Purge limits that delete nothing: every bound before any time used below. */
const NOTHING: PurgeLimits = { messagesBefore: 0, inboxBefore: 0, filesExpiredBy: 0, noncesUntil: 0, burnsBefore: 0 };

type Release = () => void | Promise<void>;

export interface ContractOptions {
  /**
   * Holds the store's write lock from elsewhere (as another process would), longer than the
   * store waits; returns the release. Given, the suite checks the StoreBusyError contract.
   */
  lockElsewhere?: (store: Store) => Release | Promise<Release>;
}

export function storeContract(
  name: string,
  open: () => Promise<Store> | Store,
  close: (store: Store) => Promise<void> | void,
  options: ContractOptions = {},
): void {
  const { lockElsewhere } = options;
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await close(store);
    });

    describe("users (PROTOCOL §7.2, §7.3)", () => {
      test("create-only: the first registration of a UID is kept, a second is refused", async () => {
        expect(await store.getUser(UID_1)).toBeNull();
        expect(await store.addUser(user(UID_1, 1), 1000)).toBe(true);
        expect(await store.addUser(user(UID_1, 9), 2000)).toBe(false);
        expect(await store.getUser(UID_1)).toEqual(user(UID_1, 1));
        expect(await store.getUser(UID_2)).toBeNull();
      });
    });

    describe("rooms (PROTOCOL §7.4)", () => {
      test("two members, never changed", async () => {
        expect(await store.getRoom(ROOM_A)).toBeNull();
        await store.addRoom(ROOM_A, UID_1, UID_2);
        expect(await store.getRoom(ROOM_A)).toEqual([UID_1, UID_2]);
        try {
          await store.addRoom(ROOM_A, UID_1, UID_3);
        } catch {
          // refusing the second creation is as good as ignoring it
        }
        expect(await store.getRoom(ROOM_A)).toEqual([UID_1, UID_2]);
        expect(await store.getRoom(ROOM_B)).toBeNull();
      });
    });

    describe("key-exchange inbox (PROTOCOL §7.4, §7.5)", () => {
      test("pop returns the UID's entries once; one entry per sender, the newest push wins", async () => {
        await store.putInbox(UID_1, entry(UID_2, ROOM_A, 10));
        await store.putInbox(UID_1, entry(UID_2, ROOM_B, 11)); // replaces the first
        await store.putInbox(UID_1, entry(UID_3, ROOM_A, 12));
        await store.putInbox(UID_2, entry(UID_1, ROOM_A, 13));
        const popped = (await store.popInbox(UID_1)).sort((a, b) => a.ts - b.ts);
        expect(popped).toEqual([entry(UID_2, ROOM_B, 11), entry(UID_3, ROOM_A, 12)]);
        expect(await store.popInbox(UID_1)).toEqual([]);
        expect(await store.popInbox(UID_2)).toEqual([entry(UID_1, ROOM_A, 13)]);
        expect(await store.popInbox(UID_3)).toEqual([]);
      });
    });

    describe("messages (PROTOCOL §7.6, §7.6.1)", () => {
      test("seq increases across rooms and is never reused, even after the newest row is burned", async () => {
        const s1 = await seqOf(store, ROOM_A, "AAAA", 5);
        const s2 = await seqOf(store, ROOM_B, "BBBB", 5);
        expect(s2).toBeGreaterThan(s1);
        await store.burnRoom(ROOM_B); // deletes the row with the largest seq
        const s3 = await seqOf(store, ROOM_A, "CCCC", 5);
        expect(s3).toBeGreaterThan(s2); // a counter taken from the largest stored seq would hand out s2 again
      });

      test("fetchMessages: the newest `limit` rows with ts ≥ since, oldest first, of that room only", async () => {
        const seqs: number[] = [];
        for (const [i, ts] of [1, 2, 2, 3, 4].entries()) seqs.push(await seqOf(store, ROOM_A, `a${i}`, ts));
        await seqOf(store, ROOM_B, "b0", 4);
        expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toEqual([
          { ts: 1, ciphertext: "a0", seq: seqs[0]! },
          { ts: 2, ciphertext: "a1", seq: seqs[1]! },
          { ts: 2, ciphertext: "a2", seq: seqs[2]! },
          { ts: 3, ciphertext: "a3", seq: seqs[3]! },
          { ts: 4, ciphertext: "a4", seq: seqs[4]! },
        ]);
        expect((await store.fetchMessages(ROOM_A, 2, 200, all)).map((r) => r.ciphertext)).toEqual([
          "a1",
          "a2",
          "a3",
          "a4",
        ]);
        expect((await store.fetchMessages(ROOM_A, 0, 2, all)).map((r) => r.ciphertext)).toEqual(["a3", "a4"]);
        expect(await store.fetchMessages(ROOM_A, 5, 200, all)).toEqual([]);
        expect((await store.fetchMessages(ROOM_B, 0, 200, all)).map((r) => r.ciphertext)).toEqual(["b0"]);
      });

      test("fetchMessages: rows are offered newest first and the first refused ends the answer", async () => {
        for (let i = 0; i < 4; i++) await seqOf(store, ROOM_A, `r${i}`, 7);
        const offered: string[] = [];
        const rows = await store.fetchMessages(ROOM_A, 0, 200, (row) => {
          offered.push(row.ciphertext);
          return offered.length <= 2;
        });
        expect(offered).toEqual(["r3", "r2", "r1"]);
        expect(rows.map((r) => r.ciphertext)).toEqual(["r2", "r3"]);
      });

      test("fetchAfter: the oldest `limit` rows after the cursor, `more` at and past the limit and the budget", async () => {
        const seqs: number[] = [];
        for (let i = 0; i < 5; i++) seqs.push(await seqOf(store, ROOM_A, `row${i}`, 9)); // one second
        expect((await store.fetchAfter(ROOM_A, 0, 5, all)).more).toBe(false); // exactly `limit` left
        const page = await store.fetchAfter(ROOM_A, 0, 4, all);
        expect(page.rows.map((r) => r.seq)).toEqual(seqs.slice(0, 4));
        expect(page.more).toBe(true);
        expect(await store.fetchAfter(ROOM_A, seqs[3]!, 4, all)).toEqual({
          rows: [{ ts: 9, ciphertext: "row4", seq: seqs[4]! }],
          more: false,
        });
        let n = 0;
        const two = () => n++ < 2;
        const capped = await store.fetchAfter(ROOM_A, 0, 200, two);
        expect(capped.rows.map((r) => r.ciphertext)).toEqual(["row0", "row1"]);
        expect(capped.more).toBe(true);
        n = 0;
        // Without a cursor the newest rows that fit, oldest first (PROTOCOL §7.6.1).
        expect((await store.fetchMessages(ROOM_A, 0, 200, two)).map((r) => r.ciphertext)).toEqual(["row3", "row4"]);
      });

      test("fetchAfter: rows of other rooms and a burned or purged cursor row do not stop paging", async () => {
        const a1 = await seqOf(store, ROOM_A, "a1", 10);
        const b1 = await seqOf(store, ROOM_B, "b1", 11);
        const a2 = await seqOf(store, ROOM_A, "a2", 12);
        expect(await store.fetchAfter(ROOM_A, a1, 10, all)).toEqual({
          rows: [{ ts: 12, ciphertext: "a2", seq: a2 }],
          more: false,
        });
        await store.burnRoom(ROOM_B);
        expect((await store.fetchAfter(ROOM_A, b1, 10, all)).rows.map((r) => r.seq)).toEqual([a2]);
        expect(await store.fetchAfter(ROOM_A, a2, 10, all)).toEqual({ rows: [], more: false });
      });

      test("newestMessageTs: 0 when empty, then the greatest ts stored in any room", async () => {
        expect(await store.newestMessageTs()).toBe(0);
        await seqOf(store, ROOM_A, "AAAA", 100);
        await seqOf(store, ROOM_B, "BBBB", 250);
        expect(await store.newestMessageTs()).toBe(250);
      });
    });

    describe("files (PROTOCOL §7.8) and room bytes", () => {
      test("a file is found by its blob id until burned", async () => {
        expect(await store.getFile("blob1")).toBeNull();
        expect(await store.hasBlob("blob1")).toBe(false);
        await store.addFile(file("blob1", ROOM_A, 123, 5000), 1000);
        expect(await store.getFile("blob1")).toEqual(file("blob1", ROOM_A, 123, 5000));
        expect(await store.hasBlob("blob1")).toBe(true);
        expect(await store.hasBlob("blob2")).toBe(false);
      });

      test("roomBytes: stored ciphertext text plus file sizes, per room, kept exact by writes", async () => {
        expect(await store.roomBytes(ROOM_A)).toBe(0);
        await seqOf(store, ROOM_A, "AAAA", 1);
        expect(await store.roomBytes(ROOM_A)).toBe(4);
        await store.addFile(file("blob1", ROOM_A, 100, 5000), 1);
        await seqOf(store, ROOM_A, "BBBBBBBB", 2);
        await seqOf(store, ROOM_B, "CC", 2);
        expect(await store.roomBytes(ROOM_A)).toBe(112);
        expect(await store.roomBytes(ROOM_B)).toBe(2);
      });
    });

    describe("burn (PROTOCOL §7.7)", () => {
      test("burnRoom deletes the room's messages and files, answers their count and blob ids, and leaves other rooms", async () => {
        await seqOf(store, ROOM_A, "AAAA", 1);
        await seqOf(store, ROOM_A, "BBBB", 2);
        await seqOf(store, ROOM_B, "CCCC", 3);
        await store.addFile(file("blobA", ROOM_A, 10, 5000), 1);
        await store.addFile(file("blobB", ROOM_B, 20, 5000), 1);
        const result = await store.burnRoom(ROOM_A);
        expect(result.messages).toBe(2);
        expect(result.blobIds).toEqual(["blobA"]);
        expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toEqual([]);
        expect(await store.getFile("blobA")).toBeNull();
        expect(await store.roomBytes(ROOM_A)).toBe(0);
        expect((await store.fetchMessages(ROOM_B, 0, 200, all)).map((r) => r.ciphertext)).toEqual(["CCCC"]);
        expect(await store.hasBlob("blobB")).toBe(true);
        expect(await store.roomBytes(ROOM_B)).toBe(24);
        expect(await store.burnRoom(ROOM_A)).toEqual({ messages: 0, blobIds: [] });
      });

      test("burnsSince: count and oldest time of one UID's burns at or after `since`", async () => {
        expect(await store.burnsSince(UID_1, 0)).toEqual({ count: 0, oldest: null });
        await store.addBurn(UID_1, 100);
        await store.addBurn(UID_1, 200);
        await store.addBurn(UID_1, 300);
        await store.addBurn(UID_2, 150);
        expect(await store.burnsSince(UID_1, 0)).toEqual({ count: 3, oldest: 100 });
        expect(await store.burnsSince(UID_1, 200)).toEqual({ count: 2, oldest: 200 });
        expect(await store.burnsSince(UID_1, 301)).toEqual({ count: 0, oldest: null });
        expect(await store.burnsSince(UID_2, 0)).toEqual({ count: 1, oldest: 150 });
      });
    });

    describe("replay cache (PROTOCOL §6)", () => {
      test("liveNonces: the entries that expire after `now`", async () => {
        await store.addNonce("k1", 100);
        await store.addNonce("k2", 200);
        await store.addNonce("k3", 300);
        const live = [...(await store.liveNonces(200))].sort((a, b) => a.expires - b.expires);
        expect(live).toEqual([{ key: "k3", expires: 300 }]);
        expect([...(await store.liveNonces(0))].length).toBe(3);
      });
    });

    describe("retention (PROTOCOL §8)", () => {
      test("purgeStep deletes only what is past its limit and answers the blob ids of deleted files", async () => {
        await seqOf(store, ROOM_A, "old", 100);
        await seqOf(store, ROOM_A, "new", 200);
        await store.putInbox(UID_1, entry(UID_2, ROOM_A, 100));
        await store.putInbox(UID_2, entry(UID_1, ROOM_A, 200));
        await store.addFile(file("old", ROOM_A, 10, 150), 100);
        await store.addFile(file("new", ROOM_A, 10, 250), 100);
        await store.addNonce("old", 150);
        await store.addNonce("new", 250);
        await store.addBurn(UID_1, 100);
        await store.addBurn(UID_1, 200);
        expect(await store.purgeStep(NOTHING, 1000)).toEqual({ rows: 0, blobIds: [] });
        const limits: PurgeLimits = {
          messagesBefore: 200,
          inboxBefore: 200,
          filesExpiredBy: 150,
          noncesUntil: 150,
          burnsBefore: 200,
        };
        expect(await store.purgeStep(limits, 1000)).toEqual({ rows: 5, blobIds: ["old"] });
        expect((await store.fetchMessages(ROOM_A, 0, 200, all)).map((r) => r.ciphertext)).toEqual(["new"]);
        expect(await store.popInbox(UID_1)).toEqual([]);
        expect(await store.popInbox(UID_2)).toEqual([entry(UID_1, ROOM_A, 200)]);
        expect([await store.hasBlob("old"), await store.hasBlob("new")]).toEqual([false, true]);
        expect([...(await store.liveNonces(0))].map((n) => n.key)).toEqual(["new"]);
        expect(await store.burnsSince(UID_1, 0)).toEqual({ count: 1, oldest: 200 });
        expect(await store.roomBytes(ROOM_A)).toBe(13);
        expect(await store.purgeStep(limits, 1000)).toEqual({ rows: 0, blobIds: [] });
      });

      test("purgeStep deletes at most `maxRows` of each kind; repeated, it finishes", async () => {
        for (let i = 0; i < 5; i++) await seqOf(store, ROOM_A, `m${i}`, 100);
        const limits = { ...NOTHING, messagesBefore: 200 };
        expect((await store.purgeStep(limits, 2)).rows).toBe(2);
        expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toHaveLength(3);
        let steps = 1;
        while ((await store.purgeStep(limits, 2)).rows > 0) steps++;
        expect(steps).toBe(3);
        expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toEqual([]);
        expect(await store.roomBytes(ROOM_A)).toBe(0);
      });
    });

    describe("prekeys (PROTOCOL-v3 §V3)", () => {
      const key = (id: number, fill: number, len = 32): StoredPrekey => ({
        id,
        pub: new Uint8Array(len).fill(fill),
        sig: new Uint8Array(64).fill(fill + 1),
      });
      const up = (o: Partial<PrekeyUpload>): PrekeyUpload => ({ opks: [], opqks: [], ...o });
      const DAY = 86_400;

      test("spk and pqspk are replaced, one-time keys added; status counts them", async () => {
        expect(await store.prekeyStatus(UID_1)).toEqual({ spkId: null, pqspkId: null, opks: 0, opqks: 0 });
        await store.putPrekeys(UID_1, up({ spk: key(1, 1), opks: [key(2, 2), key(3, 3)] }));
        await store.putPrekeys(UID_1, up({ spk: key(4, 4), pqspk: key(5, 5, 1184), opqks: [key(6, 6, 1184)] }));
        expect(await store.prekeyStatus(UID_1)).toEqual({ spkId: 4, pqspkId: 5, opks: 2, opqks: 1 });
        expect(await store.prekeyStatus(UID_2)).toEqual({ spkId: null, pqspkId: null, opks: 0, opqks: 0 });
      });

      test("every id ever published stays used, across kinds and after a clear", async () => {
        await store.putPrekeys(UID_1, up({ spk: key(1, 1), opks: [key(2, 2)] }));
        await store.putPrekeys(UID_1, up({ spk: key(3, 3) })); // replaces id 1
        expect(await store.prekeyIdsUsed(UID_1, [1])).toBe(true);
        expect(await store.prekeyIdsUsed(UID_1, [9, 2])).toBe(true);
        expect(await store.prekeyIdsUsed(UID_1, [9, 10])).toBe(false);
        expect(await store.prekeyIdsUsed(UID_2, [1, 2, 3])).toBe(false);
        await store.clearPrekeys(UID_1);
        expect(await store.prekeyStatus(UID_1)).toEqual({ spkId: null, pqspkId: null, opks: 0, opqks: 0 });
        expect(await store.prekeyIdsUsed(UID_1, [3])).toBe(true);
      });

      test("a bundle needs an spk and a pqspk; one-time keys go once, oldest first, one per signer per window", async () => {
        await store.putPrekeys(UID_1, up({ spk: key(1, 1), opks: [key(2, 2), key(3, 3)], opqks: [key(4, 4, 1184)] }));
        expect(await store.takeBundle(UID_2, UID_1, 1000, 1000 - DAY + 1)).toBeNull();
        expect(await store.prekeyStatus(UID_1)).toMatchObject({ opks: 2, opqks: 1 }); // nothing taken
        await store.putPrekeys(UID_1, up({ pqspk: key(5, 5, 1184) }));
        expect(await store.takeBundle(UID_2, UID_1, 1000, 1000 - DAY + 1)).toEqual({
          spk: key(1, 1),
          pqspk: key(5, 5, 1184),
          opk: key(2, 2),
          opqk: key(4, 4, 1184),
        });
        // Same signer, just inside the window: none; at the window's end: the next OPK.
        const inside = 1000 + DAY - 1;
        expect(await store.takeBundle(UID_2, UID_1, inside, inside - DAY + 1)).toMatchObject({ opk: null, opqk: null });
        expect(await store.prekeyStatus(UID_1)).toMatchObject({ opks: 1, opqks: 0 });
        expect(await store.takeBundle(UID_3, UID_1, inside, inside - DAY + 1)).toMatchObject({
          opk: key(3, 3),
          opqk: null,
        });
        const end = 1000 + DAY;
        expect(await store.takeBundle(UID_2, UID_1, end, end - DAY + 1)).toMatchObject({ opk: null, opqk: null }); // none left
        await store.putPrekeys(UID_1, up({ opks: [key(6, 6)] }));
        expect(await store.takeBundle(UID_2, UID_1, end, end - DAY + 1)).toMatchObject({ opk: key(6, 6) });
        await store.clearPrekeys(UID_1);
        expect(await store.takeBundle(UID_3, UID_1, end, end - DAY + 1)).toBeNull();
      });

      test("bundle requests are counted per signer from a time on, and purged", async () => {
        for (const ts of [100, 150, 200]) await store.addBundleRequest(UID_1, ts);
        await store.addBundleRequest(UID_2, 300);
        expect(await store.bundleRequestsSince(UID_1, 150)).toEqual({ count: 2, oldest: 150 });
        expect(await store.bundleRequestsSince(UID_1, 201)).toEqual({ count: 0, oldest: null });
        await store.putPrekeys(UID_1, up({ spk: key(1, 1), pqspk: key(2, 2, 1184), opks: [key(3, 3), key(4, 4)] }));
        await store.takeBundle(UID_2, UID_1, 100, 100 - DAY + 1);
        while ((await store.purgeStep({ ...NOTHING, bundleRequestsBefore: 200, grantsBefore: 101 }, 1)).rows > 0);
        expect(await store.bundleRequestsSince(UID_1, 0)).toEqual({ count: 1, oldest: 200 });
        // The grant at 100 was purged: the signer may take another OPK although inside 24 h.
        expect(await store.takeBundle(UID_2, UID_1, 200, 0)).toMatchObject({ opk: key(4, 4) });
      });
    });

    describe("atomic read+write methods: two at once, exactly one wins", () => {
      const key = (id: number, fill: number, len = 32): StoredPrekey => ({
        id,
        pub: new Uint8Array(len).fill(fill),
        sig: new Uint8Array(64).fill(fill + 1),
      });
      const up = (o: Partial<PrekeyUpload>): PrekeyUpload => ({ opks: [], opqks: [], ...o });
      const oks = (rs: { ok: boolean }[]) => rs.filter((r) => r.ok).length;

      test("burn (PROTOCOL §7.7): the rate and the burn", async () => {
        await seqOf(store, ROOM_A, "AAAA", 1);
        await store.addBurn(UID_1, 50);
        const rs = await Promise.all([store.burn(UID_1, ROOM_A, 100, 0, 2), store.burn(UID_1, ROOM_A, 100, 0, 2)]);
        expect(oks(rs)).toBe(1);
        expect(rs).toContainEqual({ ok: true, messages: 1, blobIds: [] });
        expect(rs).toContainEqual({ ok: false, count: 2, oldest: 50 });
        expect(await store.burnsSince(UID_1, 0)).toEqual({ count: 2, oldest: 50 });
        expect(await store.burn(UID_1, ROOM_A, 200, 101, 2)).toEqual({ ok: true, messages: 0, blobIds: [] });
      });

      test("pushKe (PROTOCOL §7.4): a new room is created once, with exactly two members", async () => {
        let created = 0;
        const count = () => void created++;
        const rs = await Promise.all([
          store.pushKe(UID_2, entry(UID_1, ROOM_A, 10), count),
          store.pushKe(UID_3, entry(UID_1, ROOM_A, 10), count),
        ]);
        expect(rs.sort()).toEqual(["not-member", "ok"]);
        expect(created).toBe(1);
        const members = await store.getRoom(ROOM_A);
        expect(members?.[0]).toBe(UID_1);
        const to = members![1];
        expect((await store.popInbox(to)).length).toBe(1);
        expect(await store.popInbox(to === UID_2 ? UID_3 : UID_2)).toEqual([]);
        // The other member answers in the room: no creation; a refused creation writes nothing.
        expect(await store.pushKe(UID_1, entry(to, ROOM_A, 11), count)).toBe("ok");
        expect(created).toBe(1);
        const refused = store.pushKe(UID_2, entry(UID_1, ROOM_B, 12), () => {
          throw new Error("rate");
        });
        await expect(refused).rejects.toThrow("rate");
        expect(await store.getRoom(ROOM_B)).toBeNull();
        expect(await store.popInbox(UID_2)).toEqual([]); // the refused push left no entry
      });

      test("publishPrekeys (PROTOCOL-v3 §V3.1): the limits and the used ids", async () => {
        const rs = await Promise.all([
          store.publishPrekeys(UID_1, up({ opks: [key(1, 1), key(2, 2)] }), 3, 3),
          store.publishPrekeys(UID_1, up({ opks: [key(3, 3), key(4, 4)] }), 3, 3),
        ]);
        expect(oks(rs)).toBe(1);
        expect(rs).toContainEqual({ ok: true, status: { spkId: null, pqspkId: null, opks: 2, opqks: 0 } });
        expect(rs).toContainEqual({ ok: false, reason: "opks" });
        expect((await store.prekeyStatus(UID_1)).opks).toBe(2);
        const q = (id: number) => up({ opqks: [key(id, id, 1184)] });
        expect(await store.publishPrekeys(UID_1, q(9), 3, 0)).toEqual({ ok: false, reason: "opqks" });
        const again = await Promise.all([
          store.publishPrekeys(UID_1, up({ spk: key(7, 7) }), 3, 3),
          store.publishPrekeys(UID_1, up({ pqspk: key(7, 7, 1184) }), 3, 3),
        ]);
        expect(oks(again)).toBe(1);
        expect(again).toContainEqual({ ok: false, reason: "id-used" });
      });

      test("requestBundle (PROTOCOL-v3 §V3.3): the hourly rate, and a one-time key handed out once", async () => {
        await store.putPrekeys(UID_1, up({ spk: key(1, 1), pqspk: key(2, 2, 1184), opks: [key(3, 3)] }));
        const rated = await Promise.all([
          store.requestBundle(UID_2, UID_1, 100, 0, 1, 0),
          store.requestBundle(UID_2, UID_1, 100, 0, 1, 0),
        ]);
        expect(oks(rated)).toBe(1);
        expect(rated).toContainEqual({ ok: false, count: 1, oldest: 100 });
        await store.putPrekeys(UID_1, up({ opks: [key(4, 4)] }));
        const two = await Promise.all([
          store.requestBundle(UID_3, UID_1, 100, 0, 5, 0),
          store.requestBundle(UID_3, UID_1, 100, 0, 5, 0),
        ]);
        const opks = two.map((r) => (r.ok ? (r.bundle?.opk?.id ?? null) : "refused"));
        expect(opks.sort()).toEqual([4, null]); // one per (signer, target) per window
        expect(await store.requestBundle(UID_3, null, 100, 0, 5, 0)).toEqual({ ok: true, bundle: null });
        expect(await store.bundleRequestsSince(UID_3, 0)).toEqual({ count: 3, oldest: 100 });
      });

      test("addMessageWithin / addFileWithin: the room quota", async () => {
        const rs = await Promise.all([
          store.addMessageWithin(ROOM_A, "AAAA", 1, 6),
          store.addMessageWithin(ROOM_A, "BBBB", 1, 6),
        ]);
        expect(rs.filter((r) => r === null).length).toBe(1);
        expect(await store.roomBytes(ROOM_A)).toBe(4);
        const fs = await Promise.all([
          store.addFileWithin(file("f1", ROOM_B, 10, 5000), 1, 15),
          store.addFileWithin(file("f2", ROOM_B, 10, 5000), 1, 15),
        ]);
        expect(fs.sort()).toEqual([false, true]);
        expect(await store.roomBytes(ROOM_B)).toBe(10);
        expect((await store.addMessageWithin(ROOM_B, "CC", 2, 0))?.seq).toBeGreaterThan(0); // 0: no quota
      });

      test("inside two transactions at once, too", async () => {
        const rs = await Promise.all([
          store.transaction((tx) => tx.burn(UID_1, ROOM_A, 100, 0, 1)),
          store.transaction((tx) => tx.burn(UID_1, ROOM_A, 100, 0, 1)),
        ]);
        expect(oks(rs)).toBe(1);
      });
    });

    describe("transaction", () => {
      test("all of it commits, or none of it: a throw rolls back every write", async () => {
        expect((await store.transaction((tx) => tx.addMessage(ROOM_A, "kept", 1))).seq).toBeGreaterThan(0);
        expect(await store.roomBytes(ROOM_A)).toBe(4);
        const boom = new Error("boom");
        const failed = store.transaction(async (tx) => {
          await tx.addMessage(ROOM_A, "gone", 2);
          await tx.addRoom(ROOM_B, UID_1, UID_2);
          await tx.addFile(file("blob", ROOM_A, 10, 5000), 2);
          throw boom;
        });
        await expect(failed).rejects.toBe(boom);
        expect((await store.fetchMessages(ROOM_A, 0, 200, all)).map((r) => r.ciphertext)).toEqual(["kept"]);
        expect(await store.getRoom(ROOM_B)).toBeNull();
        expect(await store.hasBlob("blob")).toBe(false);
        expect(await store.roomBytes(ROOM_A)).toBe(4);
      });

      test("calls on the store wait until a transaction in progress ends: none sees or joins it", async () => {
        let inside: (v?: unknown) => void = () => {};
        const gate = new Promise((r) => (inside = r));
        const tx = store.transaction(async (t) => {
          await t.addMessage(ROOM_A, "tx", 1);
          await gate; // the transaction stays open across other requests' turns
          return "done";
        });
        await Bun.sleep(5);
        const order: string[] = [];
        const read = store.fetchMessages(ROOM_A, 0, 200, all).then((rows) => {
          order.push("read");
          return rows.map((r) => r.ciphertext);
        });
        const write = store.addMessage(ROOM_A, "outside", 2).then(() => order.push("write"));
        await Bun.sleep(20);
        expect(order).toEqual([]); // both still waiting
        inside();
        expect(await tx).toBe("done");
        expect(await read).toEqual(["tx"]);
        await write;
        expect(order).toEqual(["read", "write"]);
        const late: Store[] = [];
        await store.transaction(async (t) => void late.push(t));
        await expect(late[0]!.getRoom(ROOM_A)).rejects.toThrow(); // a view is dead once its transaction ended
      });

      test.skipIf(!lockElsewhere)(
        "a lock held elsewhere: StoreBusyError, nothing written, and the store works again",
        async () => {
          await store.addRoom(ROOM_A, UID_1, UID_2);
          const release = await lockElsewhere!(store);
          let err: unknown;
          try {
            await store.transaction((tx) => tx.addMessage(ROOM_A, "gone", 1));
          } catch (e) {
            err = e;
          } finally {
            await release();
          }
          expect(err).toBeInstanceOf(StoreBusyError);
          expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toEqual([]);
          await store.transaction((tx) => tx.addMessage(ROOM_A, "kept", 2));
          expect((await store.fetchMessages(ROOM_A, 0, 200, all)).map((r) => r.ciphertext)).toEqual(["kept"]);
          expect(await store.getRoom(ROOM_A)).toEqual([UID_1, UID_2]);
        },
      );
    });
  });
}
