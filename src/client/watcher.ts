import { XsConnectionError } from './errors.js';
import { AsyncQueue } from './events.js';
import type { WatchEvent } from './types.js';

/** What a Watcher needs of its client. */
export interface WatchOwner {
  unwatch(path: string, token: string): Promise<void>;
  forgetWatcher(w: Watcher): void;
}

/**
 * One registered watch. Its events (the initial one included) are buffered from
 * the moment WATCH is sent. Iterate it with `for await`; leaving the loop early
 * (break/return/throw) removes the watch from the daemon.
 */
export class Watcher implements AsyncIterable<WatchEvent> {
  /** @internal */
  readonly queue = new AsyncQueue<WatchEvent>();
  private active = true;

  /** @internal */
  constructor(
    private readonly client: WatchOwner,
    readonly path: string,
    readonly token: string,
  ) {}

  /** Events received and not yet consumed. */
  get pending(): number {
    return this.queue.size;
  }

  /** Whether the watch is still registered (as far as this client knows). */
  get isActive(): boolean {
    return this.active;
  }

  /** The next event; rejects with QueueTimeoutError after `timeoutMs`, or when the connection fails. */
  async nextEvent(timeoutMs?: number): Promise<WatchEvent> {
    const r = await this.queue.next(timeoutMs);
    if (r.done) throw new XsConnectionError(`watch ${this.path} ${this.token} has ended`);
    return r.value;
  }

  /** Take every event buffered right now. */
  drain(): WatchEvent[] {
    return this.queue.drain();
  }

  /** Send UNWATCH and end the iterator. */
  async unwatch(): Promise<void> {
    if (!this.active) return;
    this.detach();
    await this.client.unwatch(this.path, this.token);
  }

  /** Stop delivering events locally, without telling the daemon. */
  close(): void {
    this.detach();
  }

  /** @internal */
  detach(error?: unknown): void {
    if (!this.active) return;
    this.active = false;
    this.client.forgetWatcher(this);
    this.queue.end(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent, undefined> {
    return {
      next: () => this.queue.next(),
      return: async () => {
        if (this.active) await this.unwatch().catch(() => undefined);
        return { value: undefined, done: true };
      },
    };
  }
}

