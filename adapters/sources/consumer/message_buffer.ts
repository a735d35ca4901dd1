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
    return this.#items.splice(0, max);
  }

  /** Everything not taken yet (to hand back to the broker when stopping). */
  drain(): T[] {
    return this.#items.splice(0);
  }

  #notify() {
    this.#wake?.();
  }
}
