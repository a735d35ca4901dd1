/**
 * The consume loop of brokers where the consumer asks for messages and holds each one for a
 * while (SQS ReceiveMessage + visibility timeout, Pub/Sub Pull + ack deadline):
 *
 * - `receivers` calls in flight at once fill one buffer, up to `cap` messages held (flow
 *   control); what they brought while the previous commit ran is committed as one batch and
 *   acknowledged (deleted) only after the commit;
 * - while the store refuses events the receivers stop once the buffer is full, and the held
 *   messages' hold is renewed when half of it has passed, so they do not reappear meanwhile;
 * - when the loop ends (stop, failure) the messages received and not committed are handed
 *   back at once (hold 0), so the next run or another consumer gets them without waiting.
 * A receive or ack failure ends the loop with that error (the supervisor reconnects).
 */
import type { SourceContext, SourceEvent } from "../../../core/ports.ts";
import { errorMessage } from "../../brokers/errors.ts";
import { commitBatch } from "./commit.ts";
import { MessageBuffer } from "./message_buffer.ts";

export interface PullBroker<M> {
  /** "sqs", "pubsub": the first word of log lines. */
  name: string;
  receivers: number;
  /** Messages held (received, not acknowledged) at most (flow control). */
  cap: number;
  /** Most messages in one commit (default `cap`). */
  maxBatch?: number;
  /** Seconds the broker holds a received message for this consumer. */
  holdSeconds: number;
  /** One receive of at most `max` messages; resolves [] when there was nothing. */
  receive(max: number, signal: AbortSignal): Promise<M[]>;
  toEvent(m: M): SourceEvent;
  /** Acknowledges (deletes) committed messages. */
  ack(msgs: M[], signal: AbortSignal): Promise<void>;
  /** Holds `msgs` for `seconds` more (0: hand them back now). */
  hold(msgs: M[], seconds: number, signal: AbortSignal): Promise<void>;
  /** Bound on the final hand-back when stopping (ms). */
  timeoutMs: number;
}

/** Runs until `signal` aborts (resolves) or a receive/ack fails (rejects). */
export async function pullLoop<M>(
  ctx: SourceContext,
  signal: AbortSignal,
  b: PullBroker<M>,
): Promise<void> {
  // Ends the receivers when the loop ends, whatever the reason.
  const session = new AbortController();
  const stop = AbortSignal.any([signal, session.signal]);
  const buffer = new MessageBuffer<M>();
  let held: M[] = [];
  const receive = async () => {
    while (!stop.aborted) {
      await buffer.whenBelow(b.cap, stop);
      if (stop.aborted) return;
      try {
        const got = await b.receive(b.cap - buffer.size, stop);
        // Received while stopping: hand them straight back below.
        for (const m of got) buffer.push(m);
      } catch (e) {
        if (!stop.aborted) buffer.fail(e as Error);
        return;
      }
    }
  };
  const receivers = Array.from({ length: b.receivers }, receive);
  try {
    let renewedAt = Date.now();
    const renew = async () => {
      if (Date.now() - renewedAt < b.holdSeconds * 500) return;
      renewedAt = Date.now();
      await b.hold([...held, ...buffer.peek()], b.holdSeconds, stop);
    };
    while (!signal.aborted) {
      const batch = await buffer.take(b.maxBatch ?? b.cap, signal);
      if (batch.length === 0) break;
      held = batch;
      renewedAt = Date.now();
      ctx.report({ outstanding: batch.length + buffer.size });
      const r = await commitBatch(ctx, batch.map((m) => b.toEvent(m)), signal, {
        whilePaused: renew,
      });
      if (!r) break; // stopping before the commit: handed back below
      await b.ack(batch, stop);
      held = [];
      ctx.report({ outstanding: buffer.size });
    }
  } finally {
    session.abort();
    await Promise.allSettled(receivers);
    const left = [...held, ...buffer.drain()];
    if (left.length) {
      await b.hold(left, 0, AbortSignal.timeout(b.timeoutMs)).catch((e) =>
        ctx.log.warn(`${b.name}: could not hand back received messages`, {
          count: left.length,
          error: errorMessage(e),
        })
      );
    }
  }
}
