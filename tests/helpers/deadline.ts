// Test helper: every wait in a helper has its own deadline, shorter than the test's timeout,
// and fails with what it got so far, never with a bare test timeout.

/**
 * `p`, or after `ms` a rejection with the message `what()` (called then, so that it can say
 * what arrived meanwhile). `onTimeout` runs first, e.g. to kill a child that hangs.
 */
export async function within<T>(p: Promise<T>, ms: number, what: () => string, onTimeout?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(what()));
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last `n` lines of `text`, for error messages. */
export function tail(text: string, n = 15): string {
  const lines = text.replace(/\n+$/, "").split("\n");
  return (lines.length > n ? ["…", ...lines.slice(-n)] : lines).join("\n");
}
