/**
 * Shared-credential modes for senders that cannot sign: a bearer token, HTTP Basic
 * credentials, or an API key in a named header. Every comparison is constant-time and every
 * configured value is compared, so timing tells nothing about which part differed.
 */
import type { HeaderGetter } from "./headers.ts";
import type { ApiKeyConfig, BasicConfig, BearerConfig } from "./signature_config.ts";
import { timingSafeEqualText } from "./timing_safe.ts";
import { refuse, type VerifyResult } from "./types.ts";

export function verifyBearer(config: BearerConfig, header: HeaderGetter): VerifyResult {
  const credentials = authorization(header, "bearer");
  if (typeof credentials !== "string") return credentials;
  return anyEqual(credentials, listOf(config.token, config.tokens))
    ? { ok: true }
    : refuse("bad_credentials");
}

export function verifyBasic(config: BasicConfig, header: HeaderGetter): VerifyResult {
  const credentials = authorization(header, "basic");
  if (typeof credentials !== "string") return credentials;
  let decoded: string;
  try {
    const binary = atob(credentials);
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    return refuse("malformed_header");
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return refuse("malformed_header");
  // both halves are always compared: no early exit on a wrong username
  const user = timingSafeEqualText(decoded.slice(0, colon), config.username);
  const password = timingSafeEqualText(decoded.slice(colon + 1), config.password);
  return user && password ? { ok: true } : refuse("bad_credentials");
}

export function verifyApiKey(config: ApiKeyConfig, header: HeaderGetter): VerifyResult {
  const value = header(config.header);
  if (value === null) return refuse("missing_header");
  return anyEqual(value.trim(), listOf(config.key, config.keys))
    ? { ok: true }
    : refuse("bad_credentials");
}

/** The credentials after `<scheme> ` in Authorization, or the refusal. */
function authorization(header: HeaderGetter, scheme: string): string | VerifyResult {
  const value = header("Authorization");
  if (value === null) return refuse("missing_header");
  const space = value.indexOf(" ");
  // the scheme name is case-insensitive (RFC 9110 section 11.1)
  if (space < 0 || value.slice(0, space).toLowerCase() !== scheme) {
    return refuse("malformed_header");
  }
  const credentials = value.slice(space + 1).trim();
  return credentials === "" ? refuse("malformed_header") : credentials;
}

function anyEqual(value: string, expected: readonly string[]): boolean {
  let matched = false;
  for (const candidate of expected) {
    if (timingSafeEqualText(value, candidate)) matched = true;
  }
  return matched;
}

function listOf(one: string | undefined, many: string[] | undefined): string[] {
  return one === undefined ? many ?? [] : [one, ...(many ?? [])];
}
