/**
 * Hands one batch of messages to the store and waits until it is committed, however long the
 * store refuses (backpressure): the consumer keeps the messages unacknowledged meanwhile and
 * reads nothing new, so the broker holds the backlog. An emit that fails for another reason
 * (its outcome unknown) is retried the same way; the dedup keys turn a batch committed twice
 * into one set of events.
 */
import {
  EmitRefusedError,
  type EmitResult,
  type SourceContext,
  type SourceEvent,
} from "../../../core/ports.ts";
import { Backoff, errorMessage } from "../../brokers/errors.ts";
import { sleep } from "../wake.ts";

export interface CommitOptions {
  /** Runs before each wait while the store refuses: keeps the broker's hold on the messages
   * alive (Kafka heartbeat, SQS visibility extension). Its errors are logged, not thrown. */
  whilePaused?(): Promise<void>;
}

/**
 * Resolves with the emit's result once the batch is committed, or null when `signal` aborted
 * first (then nothing may be acknowledged: the broker redelivers).
 */
export async function commitBatch(
  ctx: SourceContext,
  events: SourceEvent[],
  signal: AbortSignal,
  opts: CommitOptions = {},
): Promise<EmitResult | null> {
  if (events.length === 0) return { ids: [], accepted: 0, duplicates: 0 };
  let paused = false;
  const backoff = new Backoff(200, 10_000);
  while (!signal.aborted) {
    try {
      const r = await ctx.emit(events);
      if (paused) {
        ctx.report({ paused: false, last_error: null });
        ctx.log.info("store accepts events again: consuming");
      }
      return r;
    } catch (e) {
      const refused = e instanceof EmitRefusedError;
      const wait = refused ? e.retryAfterMs : backoff.failed();
      const why = refused
        ? `store refused new events: ${errorMessage(e)}`
        : `emit failed: ${errorMessage(e)}`;
      if (!paused) {
        ctx.log.warn(`consumption paused: ${why}`, { messages: events.length });
      }
      paused = true;
      ctx.report({ paused: true, last_error: why });
      try {
        await opts.whilePaused?.();
      } catch (err) {
        ctx.log.warn("keeping the broker's hold on paused messages failed", {
          error: errorMessage(err),
        });
      }
      await sleep(wait, signal);
    }
  }
  return null;
}
