/**
 * The admin pages over app.request (no browser): redirects, the cookie session's flags, the
 * Content-Security-Policy, the forms' origin check, what a non-admin may see, assets with
 * cache headers, and every page rendering with the data of the API.
 */
import assert from "node:assert/strict";
import { type Harness, harness } from "../helpers/app.ts";
import { createDestination, createRoute, expectJson, seedEvent } from "../api/_helpers.ts";

const ORIGIN = "http://localhost";

function form(
  h: Harness,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return Promise.resolve(h.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, ...headers },
    body: new URLSearchParams(fields).toString(),
  }, { remoteAddr: "127.0.0.1" }));
}

const get = (h: Harness, path: string, cookie?: string) =>
  Promise.resolve(
    h.app.request(path, { headers: cookie ? { cookie } : {} }, { remoteAddr: "127.0.0.1" }),
  );

/** The `er_session=...` pair of a Set-Cookie answer. */
function sessionOf(r: Response): { pair: string; attrs: string } {
  const raw = r.headers.get("set-cookie") ?? "";
  const m = raw.match(/(er_session=[^;]+)(.*)/);
  assert.ok(m, `no session cookie in ${raw}`);
  return { pair: m[1], attrs: m[2] };
}

async function signedIn(h: Harness, username: string, password: string) {
  const r = await form(h, "/ui/sign-in", { username, password });
  assert.equal(r.status, 303, await r.text());
  return sessionOf(r).pair;
}

Deno.test("pages: / goes to /ui/, which asks to sign in; first login must change the password", async () => {
  const h = await harness();
  try {
    const root = await get(h, "/");
    assert.equal(root.status, 302);
    assert.equal(root.headers.get("location"), "/ui/");
    const ui = await get(h, "/ui/");
    assert.equal(ui.status, 303);
    assert.equal(ui.headers.get("location"), "/ui/sign-in");
    const deep = await get(h, "/ui/routes?x=1");
    assert.equal(deep.headers.get("location"), "/ui/sign-in?next=%2Fui%2Froutes%3Fx%3D1");

    const page = await get(h, "/ui/sign-in");
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<label for="username">Username<\/label>/);
    assert.match(text, /<label for="password">Password<\/label>/);
    assert.match(text, /<button type="submit">Sign in<\/button>/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(
      text,
      /<script>|<script type="module">[^<]|style="/,
      "no inline script or style",
    );
    assert.doesNotMatch(text, /https?:\/\/(?!localhost)/, "nothing from another host");

    const bad = await form(h, "/ui/sign-in", { username: "admin", password: "nope" });
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /role="alert">invalid username or password</);
    assert.equal(bad.headers.get("set-cookie"), null);

    const r = await form(h, "/ui/sign-in", {
      username: "admin",
      password: "admin",
      next: "/ui/events",
    });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/ui/change-password");
    const { pair, attrs } = sessionOf(r);
    assert.match(attrs, /HttpOnly/i);
    assert.match(attrs, /SameSite=Strict/i);
    assert.match(attrs, /Path=\//);
    assert.doesNotMatch(attrs, /Secure/i, "plain http: no Secure flag");
    const dash = await get(h, "/ui/", pair);
    assert.equal(dash.status, 303);
    assert.equal(dash.headers.get("location"), "/ui/change-password");

    const cp = await get(h, "/ui/change-password", pair);
    const cpText = await cp.text();
    assert.match(cpText, /Current password/);
    assert.match(cpText, /New password/);
    assert.match(cpText, /<button type="submit">Change password<\/button>/);

    const short = await form(h, "/ui/change-password", {
      current_password: "admin",
      new_password: "short",
    }, {
      cookie: pair,
    });
    assert.equal(short.status, 400);
    assert.match(await short.text(), /id="new-error" role="alert">[^<]*8 characters/);
    const wrong = await form(h, "/ui/change-password", {
      current_password: "nope",
      new_password: "a-long-new-password",
    }, { cookie: pair });
    assert.equal(wrong.status, 401);
    assert.match(
      await wrong.text(),
      /id="current-error" role="alert">The current password is wrong/,
    );

    const ok = await form(h, "/ui/change-password", {
      current_password: "admin",
      new_password: "a-long-new-password",
    }, { cookie: pair });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/ui/");
    const fresh = sessionOf(ok).pair;
    assert.notEqual(fresh, pair);
    assert.equal((await get(h, "/ui/", pair)).status, 303, "the old session is revoked");
    const home = await get(h, "/ui/", fresh);
    assert.equal(home.status, 200);
    assert.equal(home.headers.get("cache-control"), "no-store");
    const html = await home.text();
    for (
      const name of [
        "Dashboard",
        "Routes",
        "Destinations",
        "Events",
        "Dead letters",
        "Live tail",
        "Users",
        "Settings",
      ]
    ) {
      assert.match(html, new RegExp(`<a href="[^"]+"[^>]*>${name}</a>`), `nav link ${name}`);
    }
    assert.match(html, /<button type="submit" class="small">Sign out<\/button>/);

    const out = await form(h, "/ui/sign-out", {}, { cookie: fresh });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/ui/sign-in");
    assert.match(out.headers.get("set-cookie") ?? "", /er_session=;.*Max-Age=0/i);
    assert.equal((await get(h, "/ui/", fresh)).status, 303, "signed out: the token is revoked");
  } finally {
    await h.close();
  }
});

Deno.test("pages: forms from another origin are refused; next never leaves /ui/", async () => {
  const h = await harness();
  try {
    const cross = await form(h, "/ui/sign-in", { username: "admin", password: "admin" }, {
      origin: "https://evil.example",
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.headers.get("set-cookie"), null);
    const noOrigin = await Promise.resolve(h.app.request("/ui/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "username=admin&password=admin",
    }));
    assert.equal(noOrigin.status, 403);
    const r = await form(h, "/ui/sign-in", {
      username: "admin",
      password: "admin",
      next: "//evil.example/",
    });
    assert.equal(r.headers.get("location"), "/ui/change-password");
    await h.adminToken();
    const r2 = await form(h, "/ui/sign-in", {
      username: "admin",
      password: "admin-pass-1",
      next: "https://evil.example/ui/",
    });
    assert.equal(r2.headers.get("location"), "/ui/");
    const r3 = await form(h, "/ui/sign-in", {
      username: "admin",
      password: "admin-pass-1",
      next: "/ui/events?status=dead",
    });
    assert.equal(r3.headers.get("location"), "/ui/events?status=dead");
    const https = await Promise.resolve(h.app.request("https://router.example/ui/sign-in", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://router.example",
      },
      body: "username=admin&password=admin-pass-1",
    }));
    assert.match(https.headers.get("set-cookie") ?? "", /;\s*Secure/i, "Secure over https");
  } finally {
    await h.close();
  }
});

Deno.test("pages: every page renders the tenant's data; a user sees no admin pages", async () => {
  const h = await harness();
  try {
    const { token, id: tenant } = await h.tenant("page-user");
    const other = await h.tenant("page-other");
    const dest = await createDestination(h, token, {
      name: "orders-out",
      type: "http",
      config: { url: "https://example.com/in", secret: "whsec_dmVyeXNlY3JldHZhbHVlMTIzNDU2Nzg=" },
    });
    const route = await createRoute(h, token, {
      name: "orders",
      destinations: [{ destination_id: dest.id }],
    });
    const theirs = await createRoute(h, other.token, { name: "their-route" });
    const seeded = await seedEvent(h, tenant, route.id, [
      { destinationId: dest.id, final: "dead", error: "400 bad request" },
    ]);
    const cookie = await signedIn(h, "page-user", "tenant-pass-1");
    const page = async (path: string, status = 200) => {
      const r = await get(h, path, cookie);
      const t = await r.text();
      assert.equal(r.status, status, `${path}: ${t.slice(0, 500)}`);
      return t;
    };
    const dash = await page("/ui/");
    assert.match(dash, /data-island="DashboardLive"/);
    assert.match(dash, /orders-out/);
    assert.doesNotMatch(dash, />Users</, "no admin links for a user");
    assert.doesNotMatch(dash, />Settings</);

    const routes = await page("/ui/routes");
    assert.match(routes, new RegExp(`http://localhost${route.endpoint}`), "the webhook URL");
    assert.match(routes, />Copy URL</);
    assert.doesNotMatch(routes, /their-route/, "another tenant's route is not listed");
    const one = await page(`/ui/routes/${route.id}`);
    assert.match(one, /data-island="RouteForm"/);
    assert.match(one, /data-island="TestPanel"/);
    assert.match(one, />Sample body</);
    await page(`/ui/routes/${theirs.id}`, 404);
    await page("/ui/routes/new");

    const dests = await page("/ui/destinations");
    assert.match(dests, /orders-out/);
    assert.match(dests, /400 bad request/, "the last error");
    const d = await page(`/ui/destinations/${dest.id}`);
    assert.doesNotMatch(d, /dmVyeXNlY3JldHZhbHVlMTIzNDU2Nzg/, "secrets stay masked");
    assert.match(d, /\*\*\*\*/);
    await page("/ui/destinations/new");

    const events = await page("/ui/events");
    assert.match(events, new RegExp(seeded.eventId));
    assert.match(events, /role="search"/);
    const none = await page("/ui/events?status=failed");
    assert.match(none, /No events match/);
    const ev = await page(`/ui/events/${seeded.eventId}`);
    assert.match(ev, /Attempt 1: dead/);
    assert.match(ev, /hello/);
    assert.match(ev, />Replay</);

    const dl = await page("/ui/dead-letters");
    assert.match(dl, /400 bad request/);
    assert.match(dl, />Retry group</);
    assert.match(dl, />Discard group</);
    const trig = await expectJson(
      h.call("POST", "/api/triggers", {
        name: "hourly",
        type: "schedule",
        route_id: route.id,
        config: { cron: "0 * * * *" },
      }, token),
      201,
    );
    const triggers = await page("/ui/triggers");
    assert.match(triggers, /hourly/);
    assert.match(triggers, />orders</, "the route it feeds");
    const oneTrigger = await page(`/ui/triggers/${trig.id}`);
    assert.match(oneTrigger, /data-island="TriggerForm"/);
    assert.match(oneTrigger, />Run now</);
    await page("/ui/triggers/new");
    const theirTrigger = await expectJson(
      h.call("POST", "/api/triggers", {
        name: "theirs",
        type: "schedule",
        route_id: theirs.id,
        config: { cron: "0 * * * *" },
      }, other.token),
      201,
    );
    await page(`/ui/triggers/${theirTrigger.id}`, 404);
    assert.match(await page("/ui/"), /hourly/, "the dashboard shows the trigger's health");
    await page("/ui/live");
    await page("/ui/users", 403);
    await page("/ui/settings", 403);
  } finally {
    await h.close();
  }
});

Deno.test("assets: content-hashed, immutable, gzipped; /docs is local", async () => {
  const h = await harness();
  try {
    const signIn = await (await get(h, "/ui/sign-in")).text();
    const css = signIn.match(/href="(\/ui\/assets\/app\.[0-9a-f]{10}\.css)"/)?.[1];
    const js = signIn.match(/src="(\/ui\/assets\/islands\.[0-9a-f]{10}\.js)"/)?.[1];
    assert.ok(css && js, "hashed asset URLs in the page");
    const r = await Promise.resolve(
      h.app.request(js, { headers: { "accept-encoding": "gzip, br" } }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(r.headers.get("content-encoding"), "gzip");
    assert.match(r.headers.get("content-type") ?? "", /javascript/);
    const plain = await (await get(h, js)).text();
    const unzipped = await new Response(
      (await r.blob()).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(unzipped, plain);
    assert.equal((await get(h, "/ui/assets/islands.0000000000.js")).status, 404);

    const docs = await get(h, "/docs");
    assert.equal(docs.status, 200);
    const html = await docs.text();
    assert.match(docs.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(html, /\/ui\/assets\/swagger-ui-bundle\.[0-9a-f]{10}\.js/);
    assert.match(html, /\/ui\/assets\/docs\.[0-9a-f]{10}\.js/);
    assert.doesNotMatch(html, /https?:\/\//, "no other host");
  } finally {
    await h.close();
  }
});
