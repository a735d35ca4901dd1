import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";

Deno.test("first login must change the password before anything else", async () => {
  const h = await harness();
  try {
    const t = await h.login("admin", "admin");
    const r = await h.call("GET", "/api/routes", undefined, t);
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error.code, "password_change_required");
    const admin = await h.adminToken();
    const ok = await h.call("GET", "/api/routes", undefined, admin);
    assert.equal(ok.status, 200);
    assert.deepEqual((await ok.json()).items, []);
  } finally {
    await h.close();
  }
});
