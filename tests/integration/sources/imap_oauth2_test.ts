/**
 * IMAP with OAuth2 (XOAUTH2) against a private Dovecot whose oauth2 passdb checks tokens at
 * the real test OAuth2 server (tests/peers/servers/oauth2.sh, oidc-provider): the token comes
 * from the router's one OAuth2 client (refresh-token grant, as Gmail and Outlook), is fetched
 * again when it expires, and a revoked grant is the trigger's error.
 */
import assert from "node:assert/strict";
import { imapSourceFactory } from "../../../adapters/sources/imap/source.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { dovecotInstance, imapClient, imapConfig, mail } from "../../helpers/imap.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { until } from "../../helpers/until.ts";
import type { Outbound } from "../../../core/ports.ts";
import { openOutbound } from "../../../runtimes/deno/outbound.ts";

const opts = {
  ...needs("IMAP_HOST", "IMAP_USER", "OAUTH2_TOKEN_URL", "OAUTH2_INTROSPECTION_URL"),
  sanitizeResources: false,
  sanitizeOps: false,
};

/** A user's refresh token, minted by the test server's own endpoint. */
async function userRefreshToken(clientId: string): Promise<string> {
  const r = await fetch(mustPeer("OAUTH2_TEST_TOKENS_URL"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      sub: mustPeer("IMAP_USER"),
      client_id: clientId,
      scope: "openid offline_access email",
    }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`test tokens endpoint answered ${r.status}: ${JSON.stringify(body)}`);
  return body.refresh_token;
}

async function revoke(token: string): Promise<void> {
  const r = await fetch(mustPeer("OAUTH2_REVOCATION_URL"), {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${
        btoa(`${mustPeer("OAUTH2_CLIENT_ID")}:${mustPeer("OAUTH2_CLIENT_SECRET")}`)
      }`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  await r.body?.cancel();
  if (!r.ok) throw new Error(`revocation answered ${r.status}`);
}

/** An outbound that records what the token endpoint hands out (rotated refresh tokens). */
function watchingOutbound() {
  const seen = { fetches: 0, refreshTokens: [] as string[] };
  const outbound: Outbound = {
    ...openOutbound(),
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (new Request(input, init).url === mustPeer("OAUTH2_TOKEN_URL")) {
        seen.fetches++;
        const body = await res.clone().json().catch(() => ({}));
        if (body.refresh_token) seen.refreshTokens.push(body.refresh_token);
      }
      return res;
    },
  };
  return { outbound, seen };
}

function oauthDovecot(name: string, port: number) {
  return dovecotInstance(name, port, {
    IMAP_AUTH_MECHANISMS: "plain login xoauth2",
    OAUTH2_INTROSPECTION_URL: mustPeer("OAUTH2_INTROSPECTION_URL"),
    OAUTH2_INTROSPECT_CLIENT_ID: mustPeer("OAUTH2_INTROSPECT_CLIENT_ID"),
    OAUTH2_INTROSPECT_CLIENT_SECRET: mustPeer("OAUTH2_INTROSPECT_CLIENT_SECRET"),
  });
}

function start(
  h: Awaited<ReturnType<typeof sourceHarness>>,
  id: string,
  outbound: Outbound,
  config: unknown,
) {
  const ctx = h.context(id, "imap", { outbound });
  const source = imapSourceFactory.create(imapSourceFactory.parseConfig(config), ctx);
  const ctl = new AbortController();
  const done = source.start!(ctl.signal);
  return {
    status: () => h.statuses.get(id) ?? {},
    async stop() {
      ctl.abort();
      await done;
    },
  };
}

Deno.test(
  "imap oauth2: XOAUTH2 with a refreshed token, kept across a restart; a revoked grant is the trigger's error",
  opts,
  async () => {
    const dovecot = oauthDovecot("imap_xoauth2", 1156);
    await dovecot.start();
    const h = await sourceHarness();
    const { outbound, seen } = watchingOutbound();
    const config = imapConfig("INBOX", {
      port: dovecot.port,
      password: undefined,
      oauth2: {
        token_url: mustPeer("OAUTH2_TOKEN_URL"),
        client_id: mustPeer("OAUTH2_CLIENT_ID"),
        client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
        refresh_token: await userRefreshToken(mustPeer("OAUTH2_CLIENT_ID")),
      },
    });
    let live = start(h, "trigger_xoauth2", outbound, config);
    try {
      await until("the source to idle", () => live.status().state === "idle");
      // The server rotated the refresh token at its first use: the configured one is spent.
      // A restarted source goes on from the rotated one the trigger kept (sealed, ctx.secrets).
      await live.stop();
      assert.equal(seen.refreshTokens.length, 1);
      assert.deepEqual([...h.secrets.get("trigger_xoauth2")!.values()], seen.refreshTokens);
      live = start(h, "trigger_xoauth2", outbound, config);
      await until("the restarted source to idle", () => live.status().state === "idle");
      assert.equal(seen.refreshTokens.length, 2);
      const log = await Deno.readTextFile(
        new URL("../../peers/.run/instances/imap_xoauth2/dovecot.log", import.meta.url),
      );
      assert.match(log, /Login: user=<router>, method=XOAUTH2/);
      const c = await imapClient(dovecot.port);
      await c.append("INBOX", mail({ subject: "via xoauth2" }));
      await c.logout().catch(() => c.close());
      await until("the event", async () => (await h.events()).length === 1, 5000);

      // The grant is revoked at the server; Dovecot drops the session; the reconnect's token
      // is refused and the refresh fails: the trigger shows why.
      await revoke(seen.refreshTokens.at(-1)!);
      await dovecot.kick();
      await until("the error", () => live.status().state === "error", 10_000);
      assert.match(
        String(live.status().last_error),
        /no OAuth2 token for router: token endpoint .* answered 400/,
      );
    } finally {
      await live.stop();
      await h.close();
      await dovecot.stop();
    }
  },
);

Deno.test(
  "imap oauth2: an expired token is fetched again before the next login",
  opts,
  async () => {
    const dovecot = oauthDovecot("imap_xoauth2_short", 1157);
    await dovecot.start();
    const h = await sourceHarness();
    const { outbound, seen } = watchingOutbound();
    // This client's tokens live 32 s; the router takes them as expired 30 s early.
    const client = mustPeer("OAUTH2_SHORT_CLIENT_ID");
    const config = imapConfig("INBOX", {
      port: dovecot.port,
      password: undefined,
      oauth2: {
        token_url: mustPeer("OAUTH2_TOKEN_URL"),
        client_id: client,
        client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
        refresh_token: await userRefreshToken(client),
      },
    });
    const live = start(h, "trigger_short", outbound, config);
    try {
      await until("the source to idle", () => live.status().state === "idle");
      assert.equal(seen.fetches, 1);
      await new Promise((r) => setTimeout(r, 2500));
      await dovecot.kick();
      await until("a second token", () => seen.fetches >= 2, 10_000);
      await until("the source to idle again", () => live.status().state === "idle", 10_000);
      assert.equal(live.status().last_error, null);
    } finally {
      await live.stop();
      await h.close();
      await dovecot.stop();
    }
  },
);
