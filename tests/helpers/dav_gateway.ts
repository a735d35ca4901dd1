/**
 * An OAuth2-protected entry to the test Radicale, as DAV servers behind an identity-aware
 * proxy are deployed: each request's bearer token is checked at the real test OAuth2
 * server's introspection endpoint (RFC 7662); an inactive or missing one is answered 401,
 * an active one is passed to Radicale as the DAV test user. Radicale itself knows only
 * passwords, so this is how the CalDAV/CardDAV bearer and OAuth2 paths meet real servers.
 */
import { mustPeer } from "./peers.ts";

export function davGateway(): { url: string; requests: () => number; close(): Promise<void> } {
  const upstream = new URL(mustPeer("DAV_URL"));
  const basic = `Basic ${btoa(`${mustPeer("DAV_USER")}:${mustPeer("DAV_PASSWORD")}`)}`;
  const intro = `Basic ${
    btoa(
      `${mustPeer("OAUTH2_INTROSPECT_CLIENT_ID")}:${mustPeer("OAUTH2_INTROSPECT_CLIENT_SECRET")}`,
    )
  }`;
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    count++;
    const token = /^Bearer (.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    const refuse = () =>
      new Response("token required", {
        status: 401,
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
      });
    if (!token) return refuse();
    const check = await fetch(mustPeer("OAUTH2_INTROSPECTION_URL"), {
      method: "POST",
      headers: { authorization: intro, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    const verdict = await check.json().catch(() => ({}));
    if (!check.ok || verdict.active !== true) return refuse();
    const url = new URL(req.url);
    const target = new URL(url.pathname + url.search, upstream);
    const headers = new Headers(req.headers);
    headers.set("authorization", basic);
    headers.delete("host");
    // fetch would decompress the answer while its content-encoding header is passed on.
    headers.set("accept-encoding", "identity");
    const res = await fetch(target, {
      method: req.method,
      headers,
      body: req.body ? await req.arrayBuffer() : undefined,
      redirect: "manual",
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    requests: () => count,
    close: () => server.shutdown(),
  };
}
