/**
 * Opens one logged-in imapflow connection for a trigger: the host is resolved and checked by
 * the address guard and the checked address is dialled (the name stays the TLS servername);
 * the password or an OAuth2 access token (XOAUTH2/OAUTHBEARER, whichever the server offers)
 * logs in, and a refused token is fetched anew once before the login counts as failed (it may
 * have been revoked or expired early).
 */
import { isIP } from "node:net";
import type { ImapFlow } from "imapflow";
import type { SourceContext } from "../../../core/ports.ts";
import type { SourceTokens } from "../oauth2.ts";
import type { ImapConfig } from "./config.ts";

/** Login refused by the server (bad password, revoked token): retried slowly. */
export class ImapAuthError extends Error {
  override name = "ImapAuthError";
}

// The first bytes of a message fetched for its headers when the whole is over max_bytes.
export const HEADER_BYTES = 64 * 1024;

function imapLogger(ctx: SourceContext) {
  const log = ctx.log.child({ imap: ctx.trigger.id });
  // imapflow logs every command, and every failure it then throws; the source reports those
  // failures itself, so all of imapflow's lines are debug lines here.
  const line = (o: Record<string, unknown>) => {
    const { msg, err, cid } = o ?? {};
    log.debug(`imapflow: ${String(msg || err || "")}`, { cid });
  };
  return { debug: line, info: line, warn: line, error: line };
}

function options(
  cfg: ImapConfig,
  ctx: SourceContext,
  auth: { pass?: string; accessToken?: string },
) {
  return {
    host: cfg.host,
    port: cfg.port ?? (cfg.tls ? 993 : 143),
    secure: cfg.tls,
    doSTARTTLS: cfg.tls ? undefined : cfg.starttls,
    tls: { minVersion: "TLSv1.2" as const, ...(cfg.ca ? { ca: cfg.ca } : {}) },
    auth: { user: cfg.username, ...auth },
    logger: imapLogger(ctx),
    disableAutoIdle: true,
    connectionTimeout: cfg.timeout_ms,
    greetingTimeout: cfg.timeout_ms,
    // IDLE is restarted well before the inactivity timeout (RFC 9051 allows 30 min).
    maxIdleTime: 4 * 60_000,
    socketTimeout: 5 * 60_000,
    // A literal is never bigger than a message we fetch in full (or its first HEADER_BYTES).
    maxLiteralSize: Math.max(cfg.max_bytes, HEADER_BYTES) + 4096,
    clientInfo: { name: "event-router" },
  };
}

async function tryConnect(client: ImapFlow, signal: AbortSignal): Promise<void> {
  const onAbort = () => client.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await client.connect();
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** imapflow's AuthenticationFailure, and any error it marks the same way (no `instanceof`:
 * the library loads only once a mailbox is used). */
function isAuthFailure(e: unknown): boolean {
  return (e as { authenticationFailed?: boolean })?.authenticationFailed === true;
}

function reason(e: unknown): string {
  const err = e as { responseText?: string; message?: string };
  return err?.responseText || err?.message || String(e);
}

export async function openImap(
  cfg: ImapConfig,
  ctx: SourceContext,
  tokens: SourceTokens | null,
  signal: AbortSignal,
): Promise<ImapFlow> {
  // imapflow dials the host it is given and takes no lookup: give it the checked address,
  // and the name as TLS servername so the certificate is still checked against it.
  const port = cfg.port ?? (cfg.tls ? 993 : 143);
  const [address] = await ctx.outbound.resolve(cfg.host, port, signal);
  const dial = address === cfg.host || isIP(cfg.host)
    ? { host: address }
    : { host: address, servername: cfg.host };
  // Loaded on first use (~70 ms at every start otherwise).
  const { ImapFlow } = await import("imapflow");
  for (let attempt = 0;; attempt++) {
    let auth: { pass?: string; accessToken?: string };
    if (tokens) {
      try {
        auth = {
          accessToken: await tokens.token(cfg.timeout_ms),
        };
      } catch (e) {
        // A refused refresh (revoked grant, wrong client secret) needs a person, like a
        // refused password.
        throw new ImapAuthError(
          `imap: no OAuth2 token for ${cfg.username}: ${e instanceof Error ? e.message : e}`,
        );
      }
    } else auth = { pass: cfg.password };
    const client = new ImapFlow({ ...options(cfg, ctx, auth), ...dial });
    // An 'error' event without a listener would throw out of the event emitter.
    client.on(
      "error",
      (e: unknown) => ctx.log.debug("imap connection error", { error: reason(e) }),
    );
    try {
      await tryConnect(client, signal);
      return client;
    } catch (e) {
      client.close();
      if (signal.aborted) throw new Error("imap: connect aborted");
      if (isAuthFailure(e)) {
        if (tokens && attempt === 0) {
          tokens.invalidate();
          continue;
        }
        const how = tokens ? "OAuth2 token" : "password";
        throw new ImapAuthError(
          `imap: login as ${cfg.username} at ${cfg.host} refused (${how}): ${reason(e)}`,
        );
      }
      throw new Error(`imap: cannot connect to ${cfg.host}: ${reason(e)}`);
    }
  }
}
