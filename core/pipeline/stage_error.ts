/**
 * Whether a stage's failure is permanent: the same event through the same route config cannot
 * succeed without a person acting (the delivery rule, ../../adapters/brokers/errors.ts). Such a
 * failure dead-letters the event at once; any other is retried on the delivery schedule.
 */
import { isForbiddenAddressError } from "../net/forbidden_address_error.ts";

/** A stage failure that says whether retrying can help. */
export class StageError extends Error {
  override name = "StageError";
  constructor(message: string, readonly permanent: boolean) {
    super(message);
  }
}

/** Permanent: a StageError that says so, or an address the guard refuses. */
export function isPermanentStageError(e: unknown): boolean {
  if (e instanceof StageError) return e.permanent;
  return isForbiddenAddressError(e);
}

/** An HTTP answer's verdict: 408, 425, 429 and 5xx may pass; other 4xx will not by themselves. */
export function permanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}
