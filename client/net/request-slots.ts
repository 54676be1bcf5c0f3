// A bound on the requests one RelayClient has at the relay at once. The relay answers 429 past
// its per-identity limit of requests in flight (PROTOCOL §7.10; 32 by default): a client that
// listens to many rooms would otherwise fetch them all at once and be refused some of them.

/** Requests one RelayClient sends at once; well below the relay's default of 32 per identity. */
export const MAX_CONCURRENT_REQUESTS = 8;

export class RequestSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size = MAX_CONCURRENT_REQUESTS) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`expected a slot count ≥ 1, got ${size}`);
    this.free = size;
  }

  /** Run `fn` once a slot is free; the slot is given back however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }

  /** Requests waiting for a slot (tests). */
  get queued(): number {
    return this.waiting.length;
  }
}
