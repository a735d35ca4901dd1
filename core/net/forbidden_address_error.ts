/**
 * Thrown when an outbound connection is refused by the address guard. `host` is what the
 * caller asked for; `reason` names the offending address and its range.
 */
export class ForbiddenAddressError extends Error {
  override name = "ForbiddenAddressError";
  constructor(readonly host: string, readonly reason: string) {
    super(`refusing to connect to ${host}: ${reason}`);
  }
}

/** True for a ForbiddenAddressError, also one from another copy of this module. */
export function isForbiddenAddressError(e: unknown): e is ForbiddenAddressError {
  return e instanceof ForbiddenAddressError ||
    (e instanceof Error && e.name === "ForbiddenAddressError");
}
