/**
 * The one OAuth2 client: access tokens for enrichment calls, polling triggers and (later) IMAP
 * XOAUTH2, by the client-credentials grant and the refresh-token grant (RFC 6749 4.4 and 6).
 * Tokens are cached in memory until 30 s before they expire and fetched once for concurrent
 * callers. A refresh token the server rotates replaces the configured one for the life of the
 * TokenSource and is handed to `onRefreshToken`, so a trigger can keep it across restarts.
 */
import type { EnrichAuth } from "./schema.ts";
import { permanentStatus, StageError } from "./stage_error.ts";

export type OAuthConfig = Extract<EnrichAuth, { type: `oauth2_${string}` }>;

const EARLY_MS = 30_000;

export class TokenSource {
  #cfg: OAuthConfig;
  #token: { value: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;
  #refreshToken: string | undefined;

  #onRefreshToken?: (token: string) => void | Promise<void>;

  constructor(
    cfg: OAuthConfig,
    opts: {
      /** A refresh token kept from an earlier rotation; used instead of the configured one. */
      refreshToken?: string | null;
      onRefreshToken?: (token: string) => void | Promise<void>;
    } = {},
  ) {
    this.#cfg = cfg;
    if (cfg.type === "oauth2_refresh_token") {
      this.#refreshToken = opts.refreshToken || cfg.refresh_token;
    }
    this.#onRefreshToken = opts.onRefreshToken;
  }

  /** A valid access token, from the cache or the token endpoint. */
  token(fetchFn: typeof fetch, now: number, timeoutMs: number): Promise<string> {
    if (this.#token && this.#token.expiresAt > now) return Promise.resolve(this.#token.value);
    this.#pending ??= this.#fetch(fetchFn, now, timeoutMs).finally(() => (this.#pending = null));
    return this.#pending;
  }

  /** Forget the cached token (the resource server answered 401). */
  invalidate(): void {
    this.#token = null;
  }

  async #fetch(fetchFn: typeof fetch, now: number, timeoutMs: number): Promise<string> {
    const cfg = this.#cfg;
    const form = new URLSearchParams();
    if (cfg.type === "oauth2_client_credentials") {
      form.set("grant_type", "client_credentials");
      if (cfg.audience) form.set("audience", cfg.audience);
    } else {
      form.set("grant_type", "refresh_token");
      form.set("refresh_token", this.#refreshToken!);
    }
    if (cfg.scope) form.set("scope", cfg.scope);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const secret = cfg.client_secret;
    if (cfg.client_auth === "basic" && secret !== undefined) {
      // RFC 6749 2.3.1: form-encode id and secret before base64.
      const id = encodeURIComponent(cfg.client_id);
      headers.authorization = `Basic ${btoa(`${id}:${encodeURIComponent(secret)}`)}`;
    } else {
      form.set("client_id", cfg.client_id);
      if (secret !== undefined) form.set("client_secret", secret);
    }
    const res = await fetchFn(cfg.token_url, {
      method: "POST",
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    const text = await res.text();
    if (!res.ok) {
      // invalid_client, invalid_grant...: a person must fix the config; 5xx and 429 may pass.
      throw new StageError(
        `token endpoint ${cfg.token_url} answered ${res.status}: ${text.slice(0, 200)}`,
        permanentStatus(res.status),
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`token endpoint ${cfg.token_url} answered non-JSON`);
    }
    if (typeof body.access_token !== "string" || body.access_token === "") {
      throw new Error(`token endpoint ${cfg.token_url} answered without access_token`);
    }
    if (
      typeof body.refresh_token === "string" && body.refresh_token !== "" &&
      body.refresh_token !== this.#refreshToken
    ) {
      this.#refreshToken = body.refresh_token;
      await this.#onRefreshToken?.(body.refresh_token);
    }
    const ttl = typeof body.expires_in === "number" ? body.expires_in * 1000 : 3_600_000;
    this.#token = { value: body.access_token, expiresAt: now + Math.max(0, ttl - EARLY_MS) };
    return body.access_token;
  }
}
