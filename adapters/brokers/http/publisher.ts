/**
 * Publisher of type `http`: one request per message, over a keep-alive undici pool whose every
 * connection is dialled through the address guard (adapters/net/dispatcher.ts).
 *
 * Each request carries the message's headers (minus hop-by-hop ones), then the configured
 * headers, then the Standard Webhooks headers: `webhook-id` (the stable delivery id, so
 * receivers can drop duplicates), `webhook-timestamp` (seconds) and, with a secret,
 * `webhook-signature`. A URL's `user:password@` goes as Basic authorization. Verdicts: 2xx
 * delivered; 408, 429, 5xx, network errors and timeouts retriable (Retry-After honoured); other
 * statuses permanent, as is a refused address.
 */
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { STATUS_CODES } from "node:http";
import type { Dispatcher } from "undici";
import { guardedDispatcher } from "../../net/dispatcher.ts";
import { errorMessage, failure } from "../errors.ts";
import {
  type HttpConfig,
  httpConfigSchema,
  parseHttpConfig,
  RESERVED_HEADERS,
  secretKeyBytes,
  TOKEN,
  urlCredentials,
} from "./config.ts";
import { importSigningKey, signWebhook } from "../../../core/verify/standard_webhooks_sign.ts";

const HOP_BY_HOP = new Set([
  ...RESERVED_HEADERS,
  "proxy-authenticate",
  "proxy-connection",
  "trailers",
]);
const EXCERPT_CHARS = 200;

/** A field value without CR, LF, NUL or characters beyond one byte (fetch's rule). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

class HttpPublisher implements Publisher {
  #key: Promise<CryptoKey> | null = null;
  /** Opened on first use, again after a close (a publisher may be reconnected). */
  #http: Dispatcher | null = null;
  readonly #origin: string;
  readonly #path: string;
  /** `Authorization` from the URL's `user:password@` (undici would drop them silently). */
  readonly #basic: string | null;
  /** Requests under way, aborted together when a batch's signal fires. */
  readonly #inFlight = new Set<AbortController>();

  constructor(readonly config: HttpConfig, readonly ctx: PublisherContext) {
    const url = new URL(config.url);
    this.#origin = url.origin;
    this.#path = url.pathname + url.search;
    this.#basic = urlCredentials(config.url);
  }

  #signingKey(): Promise<CryptoKey> | null {
    if (!this.config.secret) return null;
    this.#key ??= importSigningKey(secretKeyBytes(this.config.secret));
    return this.#key;
  }

  async connect(_signal: AbortSignal): Promise<void> {
    // Nothing to open: the pool connects on demand. Importing the key early surfaces a bad
    // secret.
    await this.#signingKey();
  }

  async publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    const out: PublishResult[] = new Array(batch.length);
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const i = next++;
        try {
          out[i] = await this.#send(batch[i], signal);
        } catch (e) {
          out[i] = failure(`http: ${errorMessage(e)}`, false);
        }
      }
    };
    // One listener per batch, not one linked signal per request (AbortSignal.any is costly).
    const abortAll = () => {
      for (const c of this.#inFlight) c.abort(signal.reason);
    };
    signal.addEventListener("abort", abortAll, { once: true });
    try {
      const workers = Math.min(this.config.concurrency, batch.length);
      await Promise.all(Array.from({ length: workers }, worker));
    } finally {
      signal.removeEventListener("abort", abortAll);
    }
    return out;
  }

  /** The request's headers, lower-cased: the message's own that HTTP allows (hop-by-hop ones
   * and invalid ones left out), the configured ones, then Standard Webhooks'. */
  async #headers(m: Outgoing): Promise<Record<string, string>> {
    const h: Record<string, string> = {};
    const connection = m.headers["connection"] ?? m.headers["Connection"];
    const dropped = connection
      ? new Set(connection.split(",").map((t) => t.trim().toLowerCase()))
      : null;
    for (const k in m.headers) {
      const name = k.toLowerCase();
      if (HOP_BY_HOP.has(name) || dropped?.has(name) || !TOKEN.test(k)) continue;
      const v = m.headers[k].trim();
      if (FIELD_VALUE.test(v)) h[name] = v;
    }
    h["content-type"] ??= "application/octet-stream";
    h["user-agent"] ??= "event-router";
    if (this.#basic) h["authorization"] = this.#basic;
    for (const k in this.config.headers) h[k.toLowerCase()] = this.config.headers[k];
    const ts = Math.floor(Date.now() / 1000);
    h["webhook-id"] = m.id;
    h["webhook-timestamp"] = String(ts);
    const key = this.#signingKey();
    if (key) h["webhook-signature"] = await signWebhook(await key, m.id, ts, m.body);
    return h;
  }

  async #send(m: Outgoing, signal: AbortSignal): Promise<PublishResult> {
    if (signal.aborted) return failure("http: aborted before sending", false);
    const headers = await this.#headers(m);
    const ms = this.config.timeout_ms;
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError"));
    }, ms);
    this.#inFlight.add(call);
    try {
      // No connection limit: several dispatch loops may publish batches to one destination at
      // once, each with up to `concurrency` requests, as they did through fetch.
      this.#http ??= guardedDispatcher(this.ctx);
      const res = await this.#http.request({
        origin: this.#origin,
        path: this.#path,
        method: this.config.method as Dispatcher.HttpMethod,
        headers,
        body: m.body,
        signal: call.signal,
        // The call's own timer covers the whole call; undici's defaults would cut it at 300 s.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump().catch(() => {});
        return { ok: true };
      }
      const excerpt = await readExcerpt(res.body);
      const error = `http: ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ""}`.trimEnd() +
        (excerpt ? `: ${excerpt}` : "");
      const retriable = res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500;
      if (!retriable) return failure(error, true);
      const retryAfter = res.headers["retry-after"];
      return failure(
        error,
        false,
        retryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter ?? null),
      );
    } catch (e) {
      if (isForbiddenAddressError(e)) return failure(`http: ${errorMessage(e)}`, true);
      if (timedOut) return failure(`http: timed out after ${ms} ms`, false);
      if (signal.aborted) return failure("http: aborted", false);
      return failure(`http: ${describeNetworkError(e)}`, false);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(call);
    }
  }

  async close(): Promise<void> {
    const http = this.#http;
    this.#http = null;
    await http?.destroy();
  }
}

/** The first characters of a response body, whitespace collapsed; "" when unreadable. */
async function readExcerpt(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of body) {
      text += dec.decode(chunk, { stream: true });
      if (text.length >= EXCERPT_CHARS * 4) break;
    }
  } catch {
    // the excerpt is best effort
  } finally {
    body.destroy();
  }
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}...` : flat;
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined if absent. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A network failure with its cause, where there is one. */
function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: unknown } | null)?.cause;
  const msg = errorMessage(e);
  return cause ? `${msg}: ${errorMessage(cause)}` : msg;
}

export const httpPublisherFactory: PublisherFactory<HttpConfig> = {
  type: "http",
  schema: httpConfigSchema,
  parseConfig: parseHttpConfig,
  create: (config, ctx) => new HttpPublisher(config, ctx),
};
