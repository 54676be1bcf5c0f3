// DeliveryLog over many live rounds: nothing delivered twice, nothing lost, memory bounded.
import { describe, expect, test } from "bun:test";
import { DeliveryLog, RESUME_MARGIN_S } from "./delivery-log.ts";

const PER_SECOND = 5;

/** A room on a simulated relay: rows stamped in whole seconds, as §7.6 stores them. */
class FakeRoom {
  rows: { id: string; ts: number }[] = [];
  store(ts: number) {
    for (let i = 0; i < PER_SECOND; i++) this.rows.push({ id: `${ts}:${this.rows.length}`, ts });
  }
  since(ts: number) {
    return this.rows.filter((r) => r.ts >= ts);
  }
}

describe("DeliveryLog", () => {
  test("2,000 rounds of a busy room: each row once, rows stored between rounds caught up, memory bounded", () => {
    const log = new DeliveryLog();
    const room = new FakeRoom();
    const delivered = new Map<string, number>();
    const deliver = (r: { id: string; ts: number }) => {
      if (log.accept("R", r.id, r.ts)) delivered.set(r.id, (delivered.get(r.id) ?? 0) + 1);
    };
    let now = 1_000_000;
    room.store(now - 1); // history before listening: never delivered
    log.follow("R", now, -Infinity);
    let most = 0;
    for (let round = 0; round < 2000; round++) {
      // A restart fetches again from the resume point; the first round has a silent baseline instead.
      if (round > 0) for (const r of room.since(log.resume("R"))) deliver(r);
      for (let s = 0; s < 7; s++) {
        now++;
        room.store(now);
        for (const r of room.rows.slice(-PER_SECOND)) deliver(r); // live frames
      }
      now++;
      room.store(now); // stored while the round restarts: no live frame
      most = Math.max(most, log.size);
    }
    for (const r of room.since(log.resume("R"))) deliver(r);
    const expected = room.rows.filter((r) => r.ts >= 1_000_000);
    expect(delivered.size).toBe(expected.length);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    // At most the rows within the margin of the newest, whatever the length of the run (16,000 s here).
    expect(most).toBeLessThanOrEqual((RESUME_MARGIN_S + 1) * PER_SECOND);
    expect(room.rows.length).toBeGreaterThan(10 * most);
  });

  test("a room that joins later delivers from its own start; a followed room keeps its log", () => {
    const log = new DeliveryLog();
    log.follow("N", 500);
    expect(log.resume("N")).toBe(500);
    expect(log.accept("N", "a", 499)).toBe(false); // before the new contact's minute
    expect(log.accept("N", "b", 500)).toBe(true);
    expect(log.accept("N", "b", 500)).toBe(false);
    log.follow("N", 900); // already followed: unchanged
    expect(log.accept("N", "c", 1000)).toBe(true);
    expect(log.resume("N")).toBe(1000 - RESUME_MARGIN_S);
    expect(log.size).toBe(1); // "b" is older than the resume point: forgotten
    expect(log.accept("N", "b", 500)).toBe(false); // and not fetched again, nor delivered if it were
    expect(() => log.accept("X", "d", 1)).toThrow("not followed");
  });
});
