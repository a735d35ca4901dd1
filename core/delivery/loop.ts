/**
 * Runs `step` until `signal` aborts. A step returns how much work it did; after an idle step
 * the loop sleeps `idleMs` or until woken, after a failed one it backs off, so an outage of
 * the store costs no CPU and a burst of events is picked up at once.
 */
import type { Logger } from "../ports.ts";

export interface WorkLoop {
  wake(): void;
  done: Promise<void>;
}

export function startLoop(
  name: string,
  step: () => Promise<number>,
  opts: { idleMs: number; signal: AbortSignal; log: Logger },
): WorkLoop {
  let wakeUp: (() => void) | null = null;
  let pendingWake = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake) return (pendingWake = false, resolve());
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = null;
        opts.signal.removeEventListener("abort", done);
        resolve();
      }
      wakeUp = done;
      opts.signal.addEventListener("abort", done, { once: true });
    });
  const done = (async () => {
    let failures = 0;
    while (!opts.signal.aborted) {
      try {
        const n = await step();
        failures = 0;
        if (n === 0) await sleep(opts.idleMs);
      } catch (e) {
        failures++;
        opts.log.error(`${name} step failed`, { error: String(e), failures });
        await sleep(Math.min(30_000, 100 * 2 ** Math.min(failures, 9)));
      }
    }
  })();
  return {
    wake() {
      if (wakeUp) wakeUp();
      else pendingWake = true;
    },
    done,
  };
}
