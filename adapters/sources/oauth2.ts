/**
 * The `oauth2` block of a trigger config (API polling, IMAP XOAUTH2, CalDAV/CardDAV bearer
 * tokens) and the tokens it yields: the refresh-token grant when `refresh_token` is given
 * (Gmail, Outlook), else client credentials, through the router's one OAuth2 client
 * (core/pipeline/oauth2.ts TokenSource: cached until shortly before expiry, fetched again
 * after that or when invalidated) and the trigger's address guard.
 *
 * Servers that rotate refresh tokens invalidate the configured one at its first use, so the
 * newest one is kept with the trigger, sealed (`ctx.secrets`), under a key derived from the
 * configured token: a restarted node goes on from it, and a new token in the config starts over.
 */
import { z } from "zod";
import { TokenSource } from "../../core/pipeline/oauth2.ts";
import type { SourceContext } from "../../core/ports.ts";
import { toHex } from "../../core/pipeline/bytes.ts";

const httpUrl = z.string().max(4096).refine((u) => {
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:";
  } catch {
    return false;
  }
}, "expected an http:// or https:// URL");

export const oauth2ConfigSchema = z.strictObject({
  token_url: httpUrl,
  client_id: z.string().min(1).max(1024),
  client_secret: z.string().min(1).max(8192).optional().describe("Sealed at rest"),
  refresh_token: z.string().min(1).max(8192).optional()
    .describe("With it: the refresh-token grant; without: client credentials (sealed at rest)"),
  scopes: z.array(z.string().min(1).max(200)).max(50).optional(),
  audience: z.string().max(1024).optional().describe("Client credentials only"),
  client_auth: z.enum(["basic", "body"]).default("basic")
    .describe("How the client authenticates at the token endpoint (RFC 6749 2.3.1)"),
}).superRefine((c, ctx) => {
  if (c.refresh_token === undefined && c.client_secret === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["client_secret"],
      message: "required for the client-credentials grant (or give a refresh_token)",
    });
  }
});

export type OAuth2Config = z.output<typeof oauth2ConfigSchema>;

async function keyOf(refreshToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(refreshToken));
  return `oauth2_refresh_token:${toHex(new Uint8Array(digest)).slice(0, 16)}`;
}

/** Access tokens for one trigger. */
export class SourceTokens {
  readonly #cfg: OAuth2Config;
  readonly #ctx: SourceContext;
  #ready: Promise<TokenSource> | null = null;
  #source: TokenSource | null = null;

  constructor(cfg: OAuth2Config, ctx: SourceContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
  }

  /** A valid access token (token endpoint calls go through the trigger's address guard). */
  async token(timeoutMs: number): Promise<string> {
    this.#ready ??= this.#build().catch((e) => {
      this.#ready = null;
      throw e;
    });
    this.#source = await this.#ready;
    return await this.#source.token(this.#ctx.outbound.fetch, this.#ctx.clock.now(), timeoutMs);
  }

  /** Forget the cached access token (the server refused it). */
  invalidate(): void {
    this.#source?.invalidate();
  }

  async #build(): Promise<TokenSource> {
    const c = this.#cfg;
    const scope = c.scopes?.join(" ");
    if (c.refresh_token === undefined) {
      return new TokenSource({
        type: "oauth2_client_credentials",
        token_url: c.token_url,
        client_id: c.client_id,
        client_secret: c.client_secret!,
        scope,
        audience: c.audience,
        client_auth: c.client_auth,
      });
    }
    const key = await keyOf(c.refresh_token);
    const secrets = this.#ctx.secrets;
    return new TokenSource({
      type: "oauth2_refresh_token",
      token_url: c.token_url,
      client_id: c.client_id,
      client_secret: c.client_secret,
      refresh_token: c.refresh_token,
      scope,
      client_auth: c.client_auth,
    }, {
      refreshToken: secrets ? await secrets.get(key) : null,
      onRefreshToken: secrets ? (t) => secrets.set(key, t) : undefined,
    });
  }
}
