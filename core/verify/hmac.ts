/**
 * The generic form: each entry of `verifications` is an HMAC over `signature_input`, read from
 * `header_location` by `signature_format`. Every entry must pass; within one entry any of its
 * secrets may match (rotation).
 */
import { decodeBase64, decodeHex } from "../crypto/encoding.ts";
import type { HeaderGetter } from "./headers.ts";
import { type HmacHash, hmacMatches } from "./hmac_key.ts";
import { type GenericConfig, secretsOf, type Verification } from "./signature_config.ts";
import { parseSignatureHeader } from "./signature_format.ts";
import { buildSignatureInput } from "./signature_input.ts";
import { checkWindow, parseTimestamp } from "./timestamp.ts";
import { refuse, type VerifyInput, type VerifyResult } from "./types.ts";

const HASHES: Record<Verification["algorithm"], HmacHash> = {
  "hmac-sha1": "SHA-1",
  "hmac-sha256": "SHA-256",
  "hmac-sha512": "SHA-512",
};

export async function verifyGeneric(
  config: GenericConfig,
  input: VerifyInput,
  header: HeaderGetter,
): Promise<VerifyResult> {
  const tv = config.timestamp_validation;
  let timestamp: number | undefined;
  for (const verification of config.verifications) {
    const value = header(verification.header_location);
    if (value === null) return refuse("missing_header");
    const parsed = parseSignatureHeader(verification.signature_format, value);
    if (parsed === null) return refuse("malformed_header");

    let timestampText: string | null | undefined;
    if (tv?.timestamp_location === "header") {
      timestampText = header(tv.timestamp_header ?? tv.timestamp_variable!);
    } else {
      // the format holds at most one placeholder besides ${signature}: the timestamp
      timestampText = parsed.values[tv?.timestamp_variable ?? "timestamp"] ??
        Object.values(parsed.values)[0];
    }
    if (timestampText === null || timestampText === undefined) {
      if (tv?.required) {
        return refuse(tv.timestamp_location === "header" ? "missing_header" : "malformed_header");
      }
    } else {
      const ms = parseTimestamp(timestampText);
      if (ms === null) return refuse("malformed_header");
      // a signed timestamp is always held to a window, timestamp_validation or not
      const stale = checkWindow(ms, input.now, tv?.max_age ?? config.replay_window);
      if (stale !== null) return refuse(stale);
      timestamp = ms;
    }

    const data = buildSignatureInput(verification.signature_input, {
      body: input.rawBody,
      url: input.url,
      header,
      values: { ...parsed.values, timestamp: timestampText ?? undefined },
    });
    if (data === null) return refuse("missing_header");

    const decode = verification.encoding === "hex" ? decodeHex : decodeBase64;
    const candidates = parsed.signatures.map(decode).filter((s) => s !== null);
    if (candidates.length === 0) return refuse("malformed_header");
    const hash = HASHES[verification.algorithm];
    if (!await hmacMatches(hash, secretsOf(verification), data, candidates)) {
      return refuse("bad_signature");
    }
  }
  return timestamp === undefined ? { ok: true } : { ok: true, timestamp };
}
