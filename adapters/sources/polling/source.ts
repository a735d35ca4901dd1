/**
 * `polling`: fetches an HTTP API every `interval` through the address guard, with bearer,
 * basic, API-key or OAuth2 (client credentials or refresh token; the one TokenSource, tokens
 * cached until expiry, refreshed once on 401, rotated refresh tokens kept sealed), and emits
 * what changed (detect.ts). The cursor moves only after the events it covers are committed.
 * 429/503 wait for Retry-After; other failures back off exponentially; the runtime never
 * overlaps two polls of one trigger.
 */
import type { PollResult, Source, SourceContext, SourceFactory } from "../../../core/ports.ts";
import { SourceTokens } from "../oauth2.ts";
import { readBodyLimited } from "../../../core/ingress/read_body.ts";
import { retryAfterMs } from "../../brokers/http/publisher.ts";
import { type PollingConfig, pollingConfigSchema } from "./config.ts";
import { detect, type Fetched, type PollCursor } from "./detect.ts";

const MAX_BACKOFF_MS = 5 * 60_000;
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export class PollingSource implements Source {
  #cfg: PollingConfig;
  #ctx: SourceContext;
  #tokens: SourceTokens | null = null;
  #failures = 0;
  #retryAt: number | null = null;

  constructor(cfg: PollingConfig, ctx: SourceContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
  }

  nextRunAt(lastRunAt: number | null, now: number): number {
    if (lastRunAt === null) return now;
    const interval = this.#cfg.interval;
    const delay = this.#failures === 0
      ? interval
      : Math.min(interval * 2 ** this.#failures, Math.max(interval, MAX_BACKOFF_MS));
    return Math.max(lastRunAt + delay, this.#retryAt ?? 0);
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    try {
      const r = await this.#poll(signal);
      this.#failures = 0;
      this.#retryAt = null;
      return r;
    } catch (e) {
      this.#failures++;
      throw e;
    }
  }

  async #poll(signal: AbortSignal): Promise<PollResult> {
    const raw = await this.#ctx.cursor.get();
    const cursor: PollCursor = raw ? JSON.parse(raw) : { seq: 0 };
    const res = await this.#fetch(cursor, signal);
    this.#ctx.report({ last_status: res.status });
    if (res.status === 304) return { emitted: 0, duplicates: 0, ids: [] };
    const { events, next } = await detect(this.#cfg, cursor, res);
    const r = events.length
      ? await this.#ctx.emit(events)
      : { ids: [], accepted: 0, duplicates: 0 };
    const text = JSON.stringify(next);
    if (text !== raw) await this.#ctx.cursor.set(text);
    return { emitted: r.accepted, duplicates: r.duplicates, ids: r.ids };
  }

  async #token(): Promise<string | null> {
    const o = this.#cfg.oauth2;
    if (!o) return null;
    this.#tokens ??= new SourceTokens(o, this.#ctx);
    return await this.#tokens.token(this.#cfg.timeout_ms);
  }

  #request(cursor: PollCursor, token: string | null): { url: string; init: RequestInit } {
    const cfg = this.#cfg;
    const url = new URL(cfg.url);
    const headers = new Headers();
    let usesToken = false;
    for (const [k, v] of Object.entries(cfg.headers)) {
      if (v.includes("${oauth_token}")) usesToken = true;
      headers.set(k, token === null ? v : v.replaceAll("${oauth_token}", token));
    }
    if (token !== null && !usesToken) headers.set("authorization", `Bearer ${token}`);
    const auth = cfg.auth;
    if (auth?.type === "bearer") headers.set("authorization", `Bearer ${auth.token}`);
    else if (auth?.type === "basic") {
      headers.set("authorization", `Basic ${btoa(`${auth.username}:${auth.password}`)}`);
    } else if (auth?.type === "api_key") {
      if (auth.query) url.searchParams.set(auth.query, auth.api_key);
      else headers.set(auth.header ?? "x-api-key", auth.api_key);
    }
    if (cfg.change_detection === "etag" && cursor.etag) headers.set("if-none-match", cursor.etag);
    if (cfg.change_detection === "last_modified" && cursor.last_modified) {
      headers.set("if-modified-since", cursor.last_modified);
    }
    let body: string | undefined;
    if (cfg.body !== undefined) {
      body = typeof cfg.body === "string" ? cfg.body : JSON.stringify(cfg.body);
      if (typeof cfg.body !== "string" && !headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
    }
    if (!headers.has("accept")) headers.set("accept", "application/json, */*;q=0.5");
    return { url: url.toString(), init: { method: cfg.method, headers, body } };
  }

  async #fetch(cursor: PollCursor, signal: AbortSignal): Promise<Fetched> {
    const cfg = this.#cfg;
    const at = this.#ctx.clock.now();
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const { url, init } = this.#request(cursor, await this.#token());
      res = await this.#ctx.outbound.fetch(url, {
        ...init,
        signal: AbortSignal.any([signal, AbortSignal.timeout(cfg.timeout_ms)]),
      });
      // An expired or revoked token: fetch a new one and try once more.
      if (res.status === 401 && this.#tokens && attempt === 0) {
        await res.body?.cancel();
        this.#tokens.invalidate();
        continue;
      }
      break;
    }
    res = res!;
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 304, body: new Uint8Array(), etag: null, lastModified: null, headers: {} };
    }
    if (res.status === 429 || res.status === 503) {
      await res.body?.cancel();
      const wait = retryAfterMs(res.headers.get("retry-after"), this.#ctx.clock.now());
      if (wait !== undefined) {
        this.#retryAt = this.#ctx.clock.now() + Math.min(wait, MAX_RETRY_AFTER_MS);
      }
      throw new Error(
        `${cfg.method} ${safeUrl(cfg.url)} answered ${res.status}` +
          (wait !== undefined ? `; retrying after ${Math.ceil(wait / 1000)} s` : ""),
      );
    }
    if (!res.ok) {
      const excerpt = (await res.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
      throw new Error(`${cfg.method} ${safeUrl(cfg.url)} answered ${res.status}: ${excerpt}`);
    }
    const body = await readBodyLimited(res, cfg.max_bytes).catch((e) => {
      throw new Error(`${safeUrl(cfg.url)}: ${(e as Error).message}`);
    });
    const etag = res.headers.get("etag");
    const lastModified = res.headers.get("last-modified");
    const headers: Record<string, string> = {
      "x-poll-status": String(res.status),
      "x-poll-at": new Date(at).toISOString(),
    };
    const type = res.headers.get("content-type");
    if (type) headers["content-type"] = type;
    if (etag) headers.etag = etag;
    if (lastModified) headers["last-modified"] = lastModified;
    return { status: res.status, body, etag, lastModified, headers };
  }
}

/** The URL without its query (an API key may travel there) for messages. */
function safeUrl(u: string): string {
  const url = new URL(u);
  url.search = "";
  url.username = "";
  url.password = "";
  return url.toString();
}

export const pollingSourceFactory: SourceFactory<PollingConfig> = {
  type: "polling",
  schema: pollingConfigSchema as never,
  parseConfig: (input) => pollingConfigSchema.parse(input),
  create: (cfg, ctx) => new PollingSource(cfg, ctx),
};
