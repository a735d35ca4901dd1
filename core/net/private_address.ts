/**
 * The outbound address guard's public face: classify an address, match CIDRs, build the
 * policy an admin configures. See ranges.ts for the table and policy.ts for the rules.
 */
export { cidrContains, formatIp, isIp, parseCidr, parseInetAton, parseIp } from "./ip.ts";
export { type Classification, classifyAddress, isForbiddenAddress } from "./ranges.ts";
export {
  type AddressPolicy,
  type AddressPolicyOptions,
  type AllowedHost,
  createAddressPolicy,
  normalizeHost,
  parseAllowedHost,
} from "./policy.ts";
export {
  type AddressProblem,
  describeAddressProblems,
  literalAddressProblems,
  literalHostProblem,
} from "./literal_address.ts";
export { ForbiddenAddressError, isForbiddenAddressError } from "./forbidden_address_error.ts";
