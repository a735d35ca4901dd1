/**
 * Helpers the broker publishers share: config parsing with errors that name the field,
 * failure results, error classification, bounded waits and reconnect backoff.
 *
 * Classification rule used by every broker here: a failure is **permanent** when sending the
 * same message again with the same destination config cannot succeed without a person acting
 * (bad credentials, missing exchange/queue/topic, unroutable message, message too large,
 * malformed config). Those go to the dead-letter queue at once, where they can be retried
 * after the fix. Everything else (connection refused/reset, timeouts, broker restarting,
 * nacks, throttling) is **retriable** and goes back to the dispatcher's backoff.
 */
import type { z } from "zod";
import type { PublishResult } from "../../core/ports.ts";

/** Thrown by `parseConfig`; the message names each bad field: `kafka config: brokers: ...`. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  }
  return out || "(config)";
}

/** Parses `input` with `schema`; throws a ConfigError naming every failing field. */
export function parseConfigWith<S extends z.ZodType>(
  type: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const detail = r.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`).join("; ");
  throw new ConfigError(`${type} config: ${detail}`);
}

/** An error with a verdict attached; the publishers throw these internally. */
export class PublishError extends Error {
  override name = "PublishError";
  constructor(message: string, readonly permanent: boolean, readonly retryAfterMs?: number) {
    super(message);
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** A failed PublishResult. */
export function failure(error: string, permanent: boolean, retryAfterMs?: number): PublishResult {
  return retryAfterMs === undefined
    ? { ok: false, permanent, error }
    : { ok: false, permanent, error, retryAfterMs };
}

/** The same failure for every message of a batch. */
export function failAll(n: number, error: unknown, classify = classifyNetwork): PublishResult[] {
  const r = toResult(error, classify);
  return Array.from({ length: n }, () => r);
}

/** Turns a thrown value into a failed result, using `classify` when it is not a PublishError. */
export function toResult(e: unknown, classify = classifyNetwork): PublishResult {
  if (e instanceof PublishError) return failure(e.message, e.permanent, e.retryAfterMs);
  return failure(errorMessage(e), classify(e));
}

/** Default classification: permanent only for PublishError(permanent); unknown errors retry. */
export function classifyNetwork(e: unknown): boolean {
  if (e instanceof PublishError) return e.permanent;
  return false;
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * Waits for `p`, but at most `ms` and never past `signal`. The loser keeps running; callers
 * that abandon work (a late connection) clean it up through `onLate`.
 */
export function bounded<T>(
  p: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
  onLate?: (value: T) => void,
): Promise<T> {
  if (signal?.aborted) {
    p.then((v) => onLate?.(v), () => {});
    return Promise.reject(new PublishError(`${what}: aborted`, false));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      reject(new TimeoutError(`${what}: timed out after ${ms} ms`));
    }, ms);
    const onAbort = () => {
      if (done) return;
      finish();
      reject(new PublishError(`${what}: aborted`, false));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        if (done) return onLate?.(v);
        finish();
        resolve(v);
      },
      (e) => {
        if (done) return;
        finish();
        reject(e);
      },
    );
  });
}

/**
 * Reconnect backoff: after a failed connect, the next attempt is allowed only after an
 * exponentially growing pause (base doubling up to max, jittered between half and all of it). Publishing inside the pause
 * fails fast (retriable, with retryAfterMs) instead of hammering the broker.
 */
export class Backoff {
  #failures = 0;
  #notBefore = 0;
  constructor(readonly baseMs = 200, readonly maxMs = 5_000, readonly now = () => Date.now()) {}

  /** Milliseconds to wait before the next attempt is allowed; 0 when it may go now. */
  wait(): number {
    return Math.max(0, this.#notBefore - this.now());
  }

  failed(): number {
    this.#failures++;
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#failures - 1, 16));
    const pause = Math.round(cap / 2 + Math.random() * cap / 2);
    this.#notBefore = this.now() + pause;
    return pause;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#notBefore = 0;
  }

  get failures(): number {
    return this.#failures;
  }
}

/**
 * The reconnect state of a publisher that keeps one connection: a Backoff plus why the last
 * connection failed or dropped. Inside the pause a publish fails fast, retriable, with the
 * remaining wait as retryAfterMs and the cause in the message, so the broker is not hammered
 * and the dead-letter trail still says what went wrong.
 */
export class Reconnector {
  #lastError = "";
  /** `broker` prefixes the fail-fast message: `kafka: not reconnecting for ...`. */
  constructor(readonly broker: string, readonly backoff: Backoff = new Backoff()) {}

  /** Throws the fail-fast PublishError while the pause after a failure lasts. */
  check(): void {
    const wait = this.backoff.wait();
    if (wait > 0) {
      throw new PublishError(
        `${this.broker}: not reconnecting for ${wait} ms after: ${this.#lastError}`,
        false,
        wait,
      );
    }
  }

  /**
   * Records a connection lost after it was up. `pause` false (the caller's abort, a close the
   * broker announced) keeps the cause for messages but lets the next attempt go at once.
   */
  dropped(why: string, pause = true): void {
    this.#lastError = why;
    if (pause) this.backoff.failed();
  }

  /** Records a failed connect and starts the pause; returns the error to throw. */
  failed(message: string, permanent: boolean): PublishError {
    this.#lastError = message;
    const pause = this.backoff.failed();
    return new PublishError(message, permanent, permanent ? undefined : pause);
  }

  /** A connection is up (or the publisher closed): the next failure starts from the base pause. */
  succeeded(): void {
    this.backoff.succeeded();
  }
}

/** Host names of `host:port` strings and URLs, for the private-address guard. */
export function hostOf(hostPort: string): string {
  const s = hostPort.trim();
  if (s.startsWith("[")) return s.slice(1, s.indexOf("]"));
  const i = s.lastIndexOf(":");
  return i > 0 && s.indexOf(":") === i ? s.slice(0, i) : s;
}
