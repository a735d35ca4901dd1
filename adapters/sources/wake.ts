/**
 * Waiting in long-lived sources: a sleep that an abort ends early, and a wake-up flag that
 * remembers a notification which arrived while nobody was waiting (new mail announced
 * during a sync is not lost before the next wait starts).
 */

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class Wakeup {
  #pending = false;
  #waiters: (() => void)[] = [];

  notify(): void {
    this.#pending = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves on the next notification, at once if one is pending, or after `ms`. */
  async wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.#pending) {
      const ctl = new AbortController();
      const onAbort = () => ctl.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      let waiter = () => {};
      const woken = new Promise<void>((r) => this.#waiters.push(waiter = r));
      await Promise.race([woken, sleep(ms, ctl.signal)]);
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      ctl.abort();
      signal?.removeEventListener("abort", onAbort);
    }
    const was = this.#pending;
    this.#pending = false;
    return was;
  }
}

/** Runs tasks one at a time, in call order (a poll and the live loop share one cursor). */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => {});
    return next;
  }
}
