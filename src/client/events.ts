/** An unbounded push queue consumed as an async iterator (watch events). */

export class QueueTimeoutError extends Error {
  constructor(ms: number) {
    super(`no event within ${ms} ms`);
    this.name = 'QueueTimeoutError';
  }
}

interface Waiter<T> {
  resolve: (r: IteratorResult<T, undefined>) => void;
  reject: (e: unknown) => void;
}

export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private first = 0;
  private waiters: Waiter<T>[] = [];
  private ended = false;
  private failure: unknown = undefined;

  /** Items pushed and not yet taken. */
  get size(): number {
    return this.items.length - this.first;
  }

  get closed(): boolean {
    return this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  /** No more items. Waiting consumers get done, or `error` once the buffer is drained. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Take everything buffered now. */
  drain(): T[] {
    const out = this.items.slice(this.first);
    this.items = [];
    this.first = 0;
    return out;
  }

  private shiftItem(): T {
    const item = this.items[this.first]!;
    this.first++;
    if (this.first > 64 && this.first * 2 > this.items.length) {
      this.items = this.items.slice(this.first);
      this.first = 0;
    }
    return item;
  }

  /** The next item; done when ended. With `timeoutMs`, rejects with QueueTimeoutError. */
  next(timeoutMs?: number): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) return Promise.resolve({ value: this.shiftItem(), done: false });
    if (this.ended) {
      return this.failure !== undefined
        ? Promise.reject(this.failure)
        : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject };
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new QueueTimeoutError(timeoutMs));
        }, timeoutMs);
        waiter.resolve = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        waiter.reject = (e) => {
          clearTimeout(timer);
          reject(e);
        };
      }
      this.waiters.push(waiter);
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
