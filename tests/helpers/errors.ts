// Test helper: the PhantomError a call throws (anything else, or no error, fails the test).
import { PhantomError } from "../../lib/errors.ts";

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
