// A real OAuth2 authorization server for tests: oidc-provider (npm) on 127.0.0.1:9400, run by
// Node from tests/peers/servers/oauth2.sh. Everything is in memory; a restart forgets tokens.
//
// Clients (secrets in .run/oauth2.env):
//   er-test        client_secret_basic   client_credentials, refresh_token
//   er-test-post   client_secret_post    client_credentials, refresh_token
//   er-test-short  client_secret_basic   like er-test, but tokens live 32 s (refresh tests)
//   er-introspect  client_secret_basic   for resource servers (Dovecot) calling introspection
// Endpoints: /token, /token/introspection (RFC 7662), /token/revocation (RFC 7009), /jwks,
// /.well-known/openid-configuration.
//
// A test that needs a user's tokens (a refresh token for the polling trigger, an access token
// for Dovecot XOAUTH2) asks this server's test endpoint, which mints them through the
// provider's own models, exactly as an authorization-code login with offline_access would:
//   curl -s -X POST http://127.0.0.1:9400/test/tokens -H 'content-type: application/json' \
//     -d '{"sub":"alice","client_id":"er-test","scope":"openid offline_access email"}'
//   -> {"access_token","refresh_token","expires_in","token_type":"Bearer"}
// Revoking one is the standard endpoint, with the client's credentials:
//   curl -s -u er-test:$OAUTH2_CLIENT_SECRET -d token=$TOKEN http://127.0.0.1:9400/token/revocation
// (a revoked refresh token also ends its grant, so its access tokens stop introspecting active).
import http from "node:http";
import Provider from "oidc-provider";

const port = Number(process.env.OAUTH2_PORT ?? 9400);
const host = "127.0.0.1";
const issuer = `http://${host}:${port}`;
const secret = process.env.OAUTH2_CLIENT_SECRET;
const introspectSecret = process.env.OAUTH2_INTROSPECT_SECRET;
if (!secret || !introspectSecret) {
  console.error("OAUTH2_CLIENT_SECRET and OAUTH2_INTROSPECT_SECRET are required");
  process.exit(2);
}
const tokenTtl = Number(process.env.OAUTH2_TOKEN_TTL ?? 300);
const SHORT_TTL = 32;

const client = (id, auth) => ({
  client_id: id,
  client_secret: secret,
  token_endpoint_auth_method: auth,
  grant_types: ["client_credentials", "refresh_token", "authorization_code"],
  redirect_uris: ["http://127.0.0.1/callback"],
  response_types: ["code"],
  scope: "openid offline_access email read write",
});

const ttlFor = (c) => (c?.clientId === "er-test-short" ? SHORT_TTL : tokenTtl);

const provider = new Provider(issuer, {
  clients: [
    client("er-test", "client_secret_basic"),
    client("er-test-post", "client_secret_post"),
    client("er-test-short", "client_secret_basic"),
    {
      client_id: "er-introspect",
      client_secret: introspectSecret,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: "read",
    },
  ],
  scopes: ["openid", "offline_access", "email", "read", "write"],
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
  // The server rotates refresh tokens, as many real ones do: a client must keep the new one.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: (ctx, _token, c) => ttlFor(c ?? ctx?.oidc?.client),
    ClientCredentials: (ctx, _token, c) => ttlFor(c ?? ctx?.oidc?.client),
    RefreshToken: 14 * 86400,
    Grant: 14 * 86400,
  },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: `${sub}@example.test`, email_verified: true }),
  }),
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

/** POST /test/tokens {sub, client_id?, scope?}: a user's access + refresh token. */
async function mintTokens(body) {
  const sub = String(body.sub ?? "");
  if (!/^[\w.@+-]{1,128}$/.test(sub)) throw new Error("sub: expected a user name");
  const clientId = String(body.client_id ?? "er-test");
  const c = await provider.Client.find(clientId);
  if (!c) throw new Error(`client_id: no client ${clientId}`);
  const scope = String(body.scope ?? "openid offline_access email");
  const grant = new provider.Grant({ accountId: sub, clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const common = { accountId: sub, client: c, grantId, scope, gty: "authorization_code" };
  const at = new provider.AccessToken({ ...common });
  const access_token = await at.save();
  const rt = new provider.RefreshToken({ ...common, iat: Math.floor(Date.now() / 1000) });
  const refresh_token = await rt.save();
  return { access_token, refresh_token, expires_in: at.expiration, token_type: "Bearer", scope };
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url === "/test/tokens" && req.method === "POST") {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", async () => {
      try {
        const out = await mintTokens(raw ? JSON.parse(raw) : {});
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
      } catch (e) {
        res.writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: String(e.message ?? e) }));
      }
    });
    return;
  }
  callback(req, res);
});
server.listen(port, host, () => console.log(`oauth2 test server on ${issuer}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
