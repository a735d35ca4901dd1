/**
 * Reads of events through a store whose writes may still be on their way (the ingest journal's
 * asynchronous import): each such read first waits for `barrier`, so an event acknowledged with
 * a 202 is visible to the API call that follows. Everything else passes straight through.
 */
import type { Store } from "../store.ts";

/** Store methods that read or change events and deliveries the journal may still hold. */
const EVENT_READS = [
  "getEvent",
  "listEvents",
  "eventDeliveries",
  "replayEvent",
  "listDead",
  "deadStats",
  "retryDead",
  "discardDead",
  "stats",
  "timeseries",
  "purgeDelivered",
] as const satisfies readonly (keyof Store)[];

export function withReadBarrier(store: Store, barrier: () => Promise<void>): Store {
  const wrapped: Partial<Record<keyof Store, unknown>> = {};
  for (const name of EVENT_READS) {
    const fn = store[name] as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      await barrier();
      return fn.apply(store, args);
    };
  }
  return Object.assign(Object.create(store), wrapped) as Store;
}
