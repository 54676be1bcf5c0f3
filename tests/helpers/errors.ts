// Test helper: the PhantomError a call throws (anything else, or no error, fails the test).
import { expect } from "bun:test";
import { PhantomError, WireError } from "../../lib/errors.ts";

export function errorOf(f: () => unknown): PhantomError {
  try {
    f();
  } catch (e) {
    if (e instanceof PhantomError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

export async function rejectionOf(p: Promise<unknown>): Promise<PhantomError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PhantomError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

/** `fn` throws a WireError with this code (no error, or another one, fails the test). */
export function expectWireError(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WireError);
  expect((err as WireError).code).toBe(code);
}
