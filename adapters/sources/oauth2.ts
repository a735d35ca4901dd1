/**
 * The `oauth2` block of a trigger config (IMAP XOAUTH2, CalDAV/CardDAV bearer tokens): the
 * refresh-token grant when `refresh_token` is given (Gmail, Outlook), else client
 * credentials. Tokens come from the one OAuth2 client the router has
 * (core/pipeline/oauth2.ts TokenSource): cached until shortly before they expire, refreshed
 * after that, fetched through the trigger's address guard.
 */
import { z } from "zod";
import { TokenSource } from "../../core/pipeline/oauth2.ts";

export const oauth2ConfigSchema = z.strictObject({
  token_url: z.url({ protocol: /^https?$/ }),
  client_id: z.string().min(1).max(500),
  client_secret: z.string().max(4096).optional().describe("Sealed at rest"),
  refresh_token: z.string().min(1).max(8192).optional()
    .describe("With it: the refresh-token grant; without: client credentials (sealed at rest)"),
  scopes: z.array(z.string().min(1).max(200)).max(50).optional(),
  client_auth: z.enum(["basic", "body"]).default("basic")
    .describe("How the client authenticates at the token endpoint (RFC 6749 2.3.1)"),
}).refine((c) => c.refresh_token !== undefined || c.client_secret !== undefined, {
  message: "give refresh_token (refresh-token grant) or client_secret (client credentials)",
  path: ["client_secret"],
});

export type OAuth2Config = z.output<typeof oauth2ConfigSchema>;

export function tokenSourceFor(c: OAuth2Config): TokenSource {
  const scope = c.scopes?.join(" ");
  if (c.refresh_token !== undefined) {
    return new TokenSource({
      type: "oauth2_refresh_token",
      token_url: c.token_url,
      client_id: c.client_id,
      client_secret: c.client_secret,
      refresh_token: c.refresh_token,
      scope,
      client_auth: c.client_auth,
    });
  }
  return new TokenSource({
    type: "oauth2_client_credentials",
    token_url: c.token_url,
    client_id: c.client_id,
    client_secret: c.client_secret!,
    scope,
    client_auth: c.client_auth,
  });
}
