/**
 * The life of a long-lived broker consumer: connect, consume until the connection fails, wait
 * a backoff pause, connect again, until the trigger stops. The state the trigger shows
 * (`starting`, `connected`, `reconnecting`, `error`, `stopped`, with `last_error`) is reported
 * here, so every consumer reports it the same way.
 */
import type { SourceContext } from "../../../core/ports.ts";
import { Backoff, errorMessage } from "../../brokers/errors.ts";
import { sleep } from "../wake.ts";

/** One connection's life: resolves when `signal` aborts, rejects when the connection fails. */
export type Session = (
  signal: AbortSignal,
  up: (status?: Record<string, unknown>) => void,
) => Promise<void>;

export interface SuperviseOptions {
  /** "rabbitmq", "kafka", ...: the first word of messages. */
  broker: string;
  /** True for errors a person must fix (bad credentials, missing queue, refused host): the
   * state is `error` instead of `reconnecting` (the consumer still retries, more slowly). */
  permanent(e: unknown): boolean;
  backoff?: Backoff;
}

/** A connection up for this long counts as a success: the next failure pauses briefly again. */
const STABLE_MS = 10_000;

/** Runs `session` again and again until `signal` aborts; never throws. */
export async function supervise(
  ctx: SourceContext,
  signal: AbortSignal,
  opts: SuperviseOptions,
  session: Session,
): Promise<void> {
  const backoff = opts.backoff ?? new Backoff(500, 10_000);
  ctx.report({ state: "starting" });
  while (!signal.aborted) {
    let upAt = 0;
    const up = (status: Record<string, unknown> = {}) => {
      upAt = Date.now();
      ctx.report({ state: "connected", last_error: null, connected_at: upAt, ...status });
    };
    let failure: unknown = null;
    try {
      await session(signal, up);
      if (signal.aborted) break;
      failure = new Error("the consumer stopped without an error");
    } catch (e) {
      if (signal.aborted) break;
      failure = e;
    }
    if (upAt && Date.now() - upAt >= STABLE_MS) backoff.succeeded();
    const permanent = opts.permanent(failure);
    // Something to fix waits longer: the broker is not hammered with a login that fails.
    let wait = backoff.failed();
    if (permanent) wait = Math.max(wait, 5_000);
    const text = errorMessage(failure);
    const message = text.startsWith(`${opts.broker}:`) ? text : `${opts.broker}: ${text}`;
    ctx.report({
      state: permanent ? "error" : "reconnecting",
      last_error: message,
      retry_at: Date.now() + wait,
    });
    ctx.log.warn(`${opts.broker} consumer: ${message}; connecting again in ${wait} ms`);
    await sleep(wait, signal);
  }
  ctx.report({ state: "stopped" });
}
