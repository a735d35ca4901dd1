/** The save-time address guard for API bodies: literal forbidden addresses answer 400. */
import type { AppDeps } from "../app_deps.ts";
import {
  type ConfigPath,
  describeAddressProblems,
  literalAddressProblems,
} from "../net/literal_address.ts";
import { ApiError } from "./errors.ts";

/**
 * Throws a 400 naming every field of `value` (a tenant's config, at `root` in the body) that
 * names a forbidden address literally. Names that need DNS are checked when connecting.
 */
export function checkLiteralAddresses(
  deps: Pick<AppDeps, "addressPolicy">,
  value: unknown,
  root: ConfigPath,
): void {
  const problems = literalAddressProblems(value, deps.addressPolicy, root);
  if (problems.length) {
    throw new ApiError(400, "forbidden_address", describeAddressProblems(problems));
  }
}
