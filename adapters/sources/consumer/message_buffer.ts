/**
 * Where a push-style client (RabbitMQ's consume callback, Pub/Sub's message events, SQS
 * receivers) leaves messages for the consumer's commit loop. `take` hands over everything that
 * arrived while the previous commit ran (up to a maximum): batches grow by themselves under
 * load and stay small when traffic is light, with no timer adding latency (group commit's
 * rule). The broker's own flow control (prefetch, max outstanding messages) bounds the size.
 */
export class MessageBuffer<T> {
  #items: T[] = [];
  #wake: (() => void) | null = null;
  #room: (() => void)[] = [];
  #failure: Error | null = null;

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#notify();
  }

  /** The connection failed: `take` rejects with `e` from now on. */
  fail(e: Error): void {
    this.#failure ??= e;
    this.#notify();
    this.#freed();
  }

  /**
   * Waits for at least one message, then takes up to `max` in arrival order. Resolves []
   * when `signal` aborts; rejects once `fail` was called.
   */
  async take(max: number, signal: AbortSignal): Promise<T[]> {
    while (this.#items.length === 0 && !this.#failure && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#wake = null;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    if (this.#failure) throw this.#failure;
    if (signal.aborted) return [];
    const taken = this.#items.splice(0, max);
    this.#freed();
    return taken;
  }

  /**
   * Resolves once fewer than `n` messages wait (or on abort/failure): pull-style producers
   * (SQS receivers) wait here, so a stalled commit stops them from fetching more.
   */
  async whenBelow(n: number, signal: AbortSignal): Promise<void> {
    while (this.#items.length >= n && !this.#failure && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.#room.push(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** The messages waiting, without taking them (to extend their hold at the broker). */
  peek(): readonly T[] {
    return this.#items;
  }

  /** Everything not taken yet (to hand back to the broker when stopping). */
  drain(): T[] {
    const all = this.#items.splice(0);
    this.#freed();
    return all;
  }

  #freed() {
    const waiting = this.#room;
    this.#room = [];
    for (const w of waiting) w();
  }

  #notify() {
    this.#wake?.();
  }
}
