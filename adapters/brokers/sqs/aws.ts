/**
 * What the SQS and SNS publishers share: connection config, client options, message
 * attributes, body encoding, chunking, FIFO ids and the mapping of AWS errors to
 * retriable/permanent results. (SNS imports it from here; both speak the same AWS dialect.)
 */
import { z } from "zod";
import type { Outgoing, PublishResult } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import type { GuardedAgents } from "../../net/agents.ts";
import { ConfigError, parseConfigWith } from "../errors.ts";

/** Connection fields of every AWS client here: SQS and SNS destinations, SQS triggers. */
export const awsConnectionShape = {
  /** AWS region; inferred from queue_url / topic_arn when absent. */
  region: z.string().regex(/^[a-z0-9-]+$/, "must look like us-east-1").optional(),
  /** Custom endpoint (moto, LocalStack, VPC endpoint); AWS's own when absent. */
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  access_key_id: z.string().min(1).optional(),
  secret_access_key: z.string().min(1).optional(),
  session_token: z.string().min(1).optional(),
  /** Bound on one API call, including connecting (ms). */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
};

/** The connection fields plus what the SQS and SNS publishers add. */
export const awsPublisherShape = {
  ...awsConnectionShape,
  /** Upper bound on the bytes of one batch request (bodies + attributes). */
  max_batch_bytes: z.number().int().min(1024).max(1_048_576).default(262_144),
};

export interface AwsConnection {
  region?: string;
  endpoint?: string;
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
  timeout_ms: number;
}

/** Runs a zod schema; throws a ConfigError naming every failing field (`sqs config: x: ...`). */
export function parseWith<T>(type: string, schema: z.ZodType<T>, config: unknown): T {
  return parseConfigWith(type, schema, config) as T;
}

/** The credential pair must come together, or not at all (then the SDK's default chain). */
export function checkCredentialPair(c: AwsConnection, ctx: z.RefinementCtx): void {
  if (!!c.access_key_id !== !!c.secret_access_key) {
    ctx.addIssue({
      code: "custom",
      path: [c.access_key_id ? "secret_access_key" : "access_key_id"],
      message: "access_key_id and secret_access_key must be given together",
    });
  }
}

/**
 * SDK client options: explicit endpoint/credentials, bounded connect/request, no SDK retries,
 * and the guarded agents (adapters/net/agents.ts): every connection the SDK opens, to the
 * endpoint or to the host of `queue_url`, dials only an address the Outbound checked.
 */
export function clientOptions(
  c: AwsConnection,
  region: string,
  agents: GuardedAgents,
  requestTimeoutMs = c.timeout_ms,
) {
  return {
    region,
    endpoint: c.endpoint,
    credentials: c.access_key_id && c.secret_access_key
      ? {
        accessKeyId: c.access_key_id,
        secretAccessKey: c.secret_access_key,
        sessionToken: c.session_token,
      }
      : undefined,
    // The dispatcher owns retries (backoff, circuit breaker); one attempt keeps calls bounded.
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: Math.min(c.timeout_ms, 3_000),
      requestTimeout: requestTimeoutMs,
      httpAgent: agents.httpAgent,
      httpsAgent: agents.httpsAgent,
    },
  };
}

/**
 * A factory for destinations (or triggers, `what`) of tenants: the same, but a config without
 * access keys is refused. Without keys the SDK would fall back to the node's own credentials
 * (environment, shared files, instance role), and a tenant must never act as the node.
 */
export function requireCredentials<
  F extends { type: string; parseConfig(config: unknown): AwsConnection },
>(factory: F, what = "destination"): F {
  return {
    ...factory,
    parseConfig(config: unknown) {
      const c = factory.parseConfig(config);
      if (!c.access_key_id || !c.secret_access_key) {
        throw new ConfigError(
          `${factory.type} config: access_key_id: required (with secret_access_key) for a ` +
            `${what} not owned by an admin: the node's own AWS credentials are not lent out`,
        );
      }
      return c;
    },
  };
}

/** Aborts on the caller's signal or after `ms`. */
export function boundedSignal(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

// ---- message shape -------------------------------------------------------------------------

/** Attribute names the adapter sets itself; they win over headers of the same name. */
export const DELIVERY_ID_ATTR = "delivery_id";
export const EVENT_ID_ATTR = "event_id";
export const BODY_ENCODING_ATTR = "body_encoding";
/** SQS and SNS (raw delivery) carry at most 10 message attributes. */
export const MAX_ATTRIBUTES = 10;

export interface StringAttribute {
  DataType: "String";
  StringValue: string;
}

// Characters SQS/SNS accept in bodies and attribute values (XML 1.0 chars).
// deno-lint-ignore no-control-regex
const INVALID_TEXT = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTR_NAME = /^(?!\.)(?!.*\.\.)(?!(aws|amazon)\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;
const fatal = new TextDecoder("utf-8", { fatal: true });

/** The body as text: UTF-8 when it is valid text for AWS, else base64 (flagged). */
export function encodeBody(body: Uint8Array): { text: string; base64: boolean } {
  try {
    const text = fatal.decode(body);
    if (!INVALID_TEXT.test(text)) return { text, base64: false };
  } catch {
    // not UTF-8: fall through to base64
  }
  let bin = "";
  for (let i = 0; i < body.length; i += 0x8000) {
    bin += String.fromCharCode(...body.subarray(i, i + 0x8000));
  }
  return { text: btoa(bin), base64: true };
}

/**
 * Message attributes: `delivery_id` and `event_id` always, `body_encoding=base64` when the body
 * was not text, then headers in name order while fewer than 10 attributes are set. Headers whose
 * name or value AWS would refuse (empty value, `AWS.` prefix, other characters) are left out,
 * as are headers past the limit; `dropped` lists them.
 */
export function messageAttributes(
  m: Outgoing,
  base64: boolean,
): { attrs: Record<string, StringAttribute>; dropped: string[] } {
  const attrs: Record<string, StringAttribute> = {
    [DELIVERY_ID_ATTR]: { DataType: "String", StringValue: m.id },
    [EVENT_ID_ATTR]: { DataType: "String", StringValue: m.eventId },
  };
  if (base64) attrs[BODY_ENCODING_ATTR] = { DataType: "String", StringValue: "base64" };
  const dropped: string[] = [];
  for (const name of Object.keys(m.headers).sort()) {
    const value = m.headers[name];
    if (name in attrs) continue;
    if (
      Object.keys(attrs).length >= MAX_ATTRIBUTES || !ATTR_NAME.test(name) || value === "" ||
      INVALID_TEXT.test(value)
    ) {
      dropped.push(name);
      continue;
    }
    attrs[name] = { DataType: "String", StringValue: value };
  }
  return { attrs, dropped };
}

const utf8 = new TextEncoder();

/** Bytes AWS counts for a message: body plus attribute names, types and values. */
export function messageBytes(text: string, attrs: Record<string, StringAttribute>): number {
  let n = utf8.encode(text).length;
  for (const [k, v] of Object.entries(attrs)) {
    n += utf8.encode(k).length + v.DataType.length + utf8.encode(v.StringValue).length;
  }
  return n;
}

/** Groups indexes into requests of at most `maxCount` entries and `maxBytes` bytes. */
export function chunk(sizes: number[], maxCount: number, maxBytes: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (cur.length && (cur.length >= maxCount || bytes + size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += size;
  });
  if (cur.length) out.push(cur);
  return out;
}

const FIFO_ID = /^[\x21-\x7E]{1,128}$/;

/** A FIFO group/dedup id: the value when AWS accepts it, else its SHA-256 in hex. */
export async function fifoId(value: string): Promise<string> {
  if (FIFO_ID.test(value)) return value;
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(value));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- errors --------------------------------------------------------------------------------

/** Errors that are about the target or the caller, not about one message. */
const TARGET_ERRORS = new Set([
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
  "NotFound",
  "NotFoundException",
  "AccessDenied",
  "AccessDeniedException",
  "AuthorizationError",
  "AuthorizationErrorException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "InvalidSecurity",
  "MissingAuthenticationToken",
  "ExpiredToken",
  "KMSAccessDenied",
  "KMSDisabled",
  "KMSNotFound",
  "KMSInvalidState",
  "EndpointDisabled",
  "InvalidAddress",
  "QueueDeletedRecently",
  "UnsupportedOperation",
]);

/** Names AWS uses for throttling and transient server trouble. */
const RETRIABLE_NAMES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "Throttled",
  "RequestThrottled",
  "TooManyRequestsException",
  "KMSThrottling",
  "KMSThrottlingException",
  "KmsThrottled",
  "RequestLimitExceeded",
  "OverLimit",
  "ServiceUnavailable",
  "InternalError",
  "InternalFailure",
]);

export interface ErrorClass {
  permanent: boolean;
  /** True when the error is about the queue/topic or credentials, not one message. */
  target: boolean;
  message: string;
  retryAfterMs?: number;
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $fault?: "client" | "server";
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** Maps an error thrown by an AWS SDK call to retriable/permanent. */
export function classifyAwsError(
  err: unknown,
  what: string,
  timeoutMs: number,
  callerSignal: AbortSignal,
): ErrorClass {
  const e = (err ?? {}) as SdkErrorLike;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const text = `${what}: ${name}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? String(err)}`;
  if (callerSignal.aborted) {
    return { permanent: false, target: true, message: `${what}: aborted by the caller` };
  }
  const refused = [err, e.cause].find(isForbiddenAddressError);
  if (refused) return { permanent: true, target: true, message: `${what}: ${refused.message}` };
  if (name === "AbortError" || name === "TimeoutError" || e.code === "ETIMEDOUT") {
    return { permanent: false, target: true, message: `${what}: no answer within ${timeoutMs}ms` };
  }
  if (RETRIABLE_NAMES.has(name) || e.$retryable?.throttling || status === 429) {
    return { permanent: false, target: true, message: text, retryAfterMs: 1_000 };
  }
  if (status === undefined) {
    // No HTTP answer at all: connection refused/reset, DNS, TLS. The network may come back.
    return { permanent: false, target: true, message: text };
  }
  if (status >= 500 || status === 408 || e.$retryable) {
    return { permanent: false, target: true, message: text };
  }
  return {
    permanent: true,
    target: TARGET_ERRORS.has(name) || status === 401 || status === 403 || status === 404,
    message: text,
  };
}

/** The result for every message of a request that failed as a whole. */
export function failAll(n: number, c: ErrorClass): PublishResult[] {
  const r: PublishResult = c.retryAfterMs === undefined
    ? { ok: false, permanent: c.permanent, error: c.message }
    : { ok: false, permanent: c.permanent, error: c.message, retryAfterMs: c.retryAfterMs };
  return Array.from({ length: n }, () => ({ ...r }));
}

/** A per-entry failure from a batch answer (Failed[]: Code, Message, SenderFault). */
export function entryFailure(
  what: string,
  f: { Code?: string; Message?: string; SenderFault?: boolean },
): PublishResult {
  const permanent = f.SenderFault === true && !RETRIABLE_NAMES.has(f.Code ?? "");
  return {
    ok: false,
    permanent,
    error: `${what}: ${f.Code ?? "Failed"}: ${f.Message ?? "no message"}`,
  };
}
