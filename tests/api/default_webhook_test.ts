/** `POST /webhook`: the seed's default endpoint, for the route an admin marked `default: true`. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import {
  ADMIN_SCOPE,
  cheapAdmin,
  createDestination,
  createRoute,
  expectError,
  expectJson,
  post,
} from "./_helpers.ts";

Deno.test("POST /webhook: 404 saying how to set one, then the default route's events", async () => {
  const h = await harness();
  try {
    const none = await expectError(
      post(h, "/webhook", '{"a":1}'),
      404,
      undefined,
      "no_default_route",
    );
    assert.match(none.message, /"default": true/);

    const admin = await cheapAdmin(h);
    const tenant = await h.tenant("not-the-admin");
    await expectError(
      h.call("POST", "/api/routes", { name: "mine", default: true }, tenant.token),
      403,
      "default",
    );

    const dest = await createDestination(h, admin.token, { name: "sink" });
    const route = await createRoute(h, admin.token, {
      name: "catch-all",
      default: true,
      destinations: [{ destination_id: dest.id }],
    });
    assert.equal(route.default, true);

    const accepted = await expectJson(
      post(h, "/webhook?src=legacy", '{"order":7}', { "content-type": "application/json" }),
      202,
    );
    const e = await h.store.getEvent(ADMIN_SCOPE, accepted.id);
    assert.ok(e, "committed before the 202");
    assert.equal(e.routeId, route.id);
    assert.equal(e.path, "/webhook");
    assert.equal(e.query, "src=legacy");
    const shown = await expectJson(
      h.call("GET", `/api/events/${accepted.id}`, undefined, admin.token),
      200,
    );
    assert.deepEqual(
      shown.deliveries.map((d: { destination_id: string }) => d.destination_id),
      [dest.id],
      "the default route's rules and destinations apply as to any webhook",
    );

    // one default at most: a second is refused, naming the first
    const other = await createRoute(h, admin.token, { name: "other" });
    const conflict = await expectError(
      h.call("PUT", `/api/routes/${other.id}`, { name: "other", default: true }, admin.token),
      409,
      route.id,
    );
    assert.match(conflict.message, /catch-all/);
    // saving the default route again keeps it the default
    await expectJson(
      h.call("PUT", `/api/routes/${route.id}`, {
        name: "catch-all",
        default: true,
        destinations: [{ destination_id: dest.id }],
      }, admin.token),
      200,
    );

    // inactive: refused with the reason, at once (no stale cache)
    await expectJson(
      h.call("PUT", `/api/routes/${route.id}`, {
        name: "catch-all",
        default: true,
        active: false,
        destinations: [{ destination_id: dest.id }],
      }, admin.token),
      200,
    );
    const off = await expectError(post(h, "/webhook", "{}"), 404, route.id);
    assert.match(off.message, /not active/);

    // moved to another route: that one receives
    await expectJson(
      h.call("PUT", `/api/routes/${route.id}`, { name: "catch-all", default: false }, admin.token),
      200,
    );
    await expectError(post(h, "/webhook", "{}"), 404, undefined, "no_default_route");
    await expectJson(
      h.call("PUT", `/api/routes/${other.id}`, { name: "other", default: true }, admin.token),
      200,
    );
    const moved = await expectJson(post(h, "/webhook", "{}"), 202);
    assert.equal((await h.store.getEvent(ADMIN_SCOPE, moved.id))?.routeId, other.id);

    // deleting the default route leaves none
    await expectJson(h.call("DELETE", `/api/routes/${other.id}`, undefined, admin.token), 200);
    await expectError(post(h, "/webhook", "{}"), 404, undefined, "no_default_route");
  } finally {
    await h.close();
  }
});
