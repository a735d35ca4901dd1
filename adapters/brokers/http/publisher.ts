/**
 * Publisher of type `http`: one request per message, through the runtime's guarded fetch.
 *
 * Each request carries the message's headers (minus hop-by-hop ones), then the configured
 * headers, then the Standard Webhooks headers: `webhook-id` (the stable delivery id, so
 * receivers can drop duplicates), `webhook-timestamp` (seconds) and, with a secret,
 * `webhook-signature`. Verdicts: 2xx delivered; 408, 429, 5xx, network errors and timeouts
 * retriable (Retry-After honoured); other statuses permanent, as is a refused address.
 */
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { errorMessage, failure } from "../errors.ts";
import {
  type HttpConfig,
  httpConfigSchema,
  parseHttpConfig,
  RESERVED_HEADERS,
  secretKeyBytes,
} from "./config.ts";
import { importSigningKey, signWebhook } from "../../../core/verify/standard_webhooks_sign.ts";

const HOP_BY_HOP = new Set([
  ...RESERVED_HEADERS,
  "proxy-authenticate",
  "proxy-connection",
  "trailers",
]);
const EXCERPT_CHARS = 200;

class HttpPublisher implements Publisher {
  #key: Promise<CryptoKey> | null = null;

  constructor(readonly config: HttpConfig, readonly ctx: PublisherContext) {}

  #signingKey(): Promise<CryptoKey> | null {
    if (!this.config.secret) return null;
    this.#key ??= importSigningKey(secretKeyBytes(this.config.secret));
    return this.#key;
  }

  async connect(_signal: AbortSignal): Promise<void> {
    // Nothing to open: fetch pools connections. Importing the key early surfaces a bad secret.
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
    const workers = Math.min(this.config.concurrency, batch.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return out;
  }

  async #headers(m: Outgoing): Promise<Headers> {
    const h = new Headers();
    const dropped = new Set(HOP_BY_HOP);
    for (const token of (m.headers["connection"] ?? "").split(",")) {
      dropped.add(token.trim().toLowerCase());
    }
    for (const [k, v] of Object.entries(m.headers)) {
      if (!dropped.has(k.toLowerCase())) {
        try {
          h.set(k, v);
        } catch {
          // a header the event carried that fetch refuses: leave it out
        }
      }
    }
    if (!h.has("content-type")) h.set("content-type", "application/octet-stream");
    if (!h.has("user-agent")) h.set("user-agent", "event-router");
    for (const [k, v] of Object.entries(this.config.headers)) h.set(k, v);
    const ts = Math.floor(Date.now() / 1000);
    h.set("webhook-id", m.id);
    h.set("webhook-timestamp", String(ts));
    const key = this.#signingKey();
    if (key) h.set("webhook-signature", await signWebhook(await key, m.id, ts, m.body));
    return h;
  }

  async #send(m: Outgoing, signal: AbortSignal): Promise<PublishResult> {
    if (signal.aborted) return failure("http: aborted before sending", false);
    const headers = await this.#headers(m);
    const timeout = new AbortController();
    const ms = this.config.timeout_ms;
    const timer = setTimeout(
      () => timeout.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError")),
      ms,
    );
    const both = AbortSignal.any([signal, timeout.signal]);
    try {
      const res = await this.ctx.fetch(this.config.url, {
        method: this.config.method,
        headers,
        body: m.body as Uint8Array<ArrayBuffer>,
        signal: both,
      });
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => {});
        return { ok: true };
      }
      const excerpt = await readExcerpt(res);
      const error = `http: ${res.status} ${res.statusText}`.trimEnd() +
        (excerpt ? `: ${excerpt}` : "");
      const retriable = res.status === 408 || res.status === 429 || res.status >= 500;
      if (!retriable) return failure(error, true);
      return failure(error, false, retryAfterMs(res.headers.get("retry-after")));
    } catch (e) {
      if (isForbiddenAddressError(e)) return failure(`http: ${errorMessage(e)}`, true);
      if (timeout.signal.aborted) return failure(`http: timed out after ${ms} ms`, false);
      if (signal.aborted) return failure("http: aborted", false);
      return failure(`http: ${describeNetworkError(e)}`, false);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The first characters of a response body, whitespace collapsed; "" when unreadable. */
async function readExcerpt(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let text = "";
  try {
    while (text.length < EXCERPT_CHARS * 4) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
  } catch {
    // the excerpt is best effort
  } finally {
    reader.cancel().catch(() => {});
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

/** A fetch failure with its cause (Deno puts the useful part there). */
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
