import { expect, test } from "bun:test";
import { MAX_CONCURRENT_REQUESTS, RequestSlots } from "./request-slots.ts";

test("at most `size` run at once; the rest wait in order and each runs once a slot is free", async () => {
  const slots = new RequestSlots(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const runs = gates.map((g, i) =>
    slots.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await g.promise;
      running--;
      return i;
    }),
  );
  await Bun.sleep(0);
  expect(order).toEqual([0, 1]);
  expect(slots.queued).toBe(3);
  for (const g of gates) g.resolve();
  expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
  expect(order).toEqual([0, 1, 2, 3, 4]);
  expect(peak).toBe(2);
});

test("a failing request gives its slot back", async () => {
  const slots = new RequestSlots(1);
  await expect(slots.run(() => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
  expect(await slots.run(async () => "next")).toBe("next");
  expect(slots.queued).toBe(0);
});

test("the default stays well below the relay's default in-flight limit per identity (32)", () => {
  expect(MAX_CONCURRENT_REQUESTS).toBeLessThanOrEqual(16);
  expect(() => new RequestSlots(0)).toThrow(RangeError);
});
