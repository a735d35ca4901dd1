/**
 * /openapi.json types what a generated client needs: every operation has a response schema,
 * every JSON answer is a real shape (no free-form object), every reference resolves, the
 * config shapes come from the registries and the validation schemas, and real answers match
 * the documented shapes exactly (no undocumented field).
 */
import assert from "node:assert/strict";
import type { z } from "@hono/zod-openapi";
import { harness } from "../helpers/app.ts";
import { cheapAdmin, expectJson, seedEvent } from "./_helpers.ts";
import { PUBLISHERS } from "../../adapters/brokers/registry.ts";
import { SOURCES } from "../../adapters/sources/registry.ts";
import { OPERATIONS } from "../../core/pipeline/ops/registry.ts";
import {
  DeadStats,
  DestinationOut,
  EventDetail,
  pageOf,
  RouteOut,
  StatsOut,
  TriggerOut,
  UserOut,
} from "../../core/api/response_schemas.ts";

type Json = Record<string, unknown>;

/** Free-form: an object that says nothing about its members. */
const freeForm = (s: Json) =>
  s.type === "object" && !s.properties && !s.oneOf && !s.anyOf && !s.allOf && !s.$ref;

Deno.test("openapi: every operation has a typed response; every $ref resolves", async () => {
  const h = await harness();
  try {
    const spec = await expectJson(h.call("GET", "/openapi.json"), 200);
    const schemas = spec.components.schemas as Record<string, Json>;
    const untyped: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        operations++;
        const responses = (op as { responses: Record<string, Json> }).responses;
        const ok = Object.entries(responses).filter(([code]) => /^2/.test(code));
        if (ok.length === 0) untyped.push(`${method} ${path}: no 2xx response`);
        for (const [code, r] of Object.entries(responses)) {
          const content = r.content as Record<string, { schema?: Json }> | undefined;
          if (!content) {
            untyped.push(`${method} ${path} ${code}: no body described`);
            continue;
          }
          for (const [type, c] of Object.entries(content)) {
            let s = c.schema;
            if (!s) untyped.push(`${method} ${path} ${code} ${type}: no schema`);
            while (s?.$ref) s = schemas[String(s.$ref).split("/").pop()!];
            if (s && type.includes("json") && freeForm(s)) {
              untyped.push(`${method} ${path} ${code}: free-form object`);
            }
          }
        }
      }
    }
    assert.ok(operations >= 40, `${operations} operations`);
    assert.deepEqual(untyped, [], "operations without a typed response body");

    const dangling = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (!v || typeof v !== "object") return;
      for (const [k, x] of Object.entries(v)) {
        if (k === "$ref" && typeof x === "string") {
          const name = x.replace("#/components/schemas/", "");
          if (!x.startsWith("#/components/schemas/") || !schemas[name]) dangling.add(x);
        } else walk(x);
      }
    };
    walk(spec);
    assert.deepEqual([...dangling], [], "references to nothing");
  } finally {
    await h.close();
  }
});

Deno.test("openapi: config shapes are real schemas (types, signature, stages, conditions)", async () => {
  const h = await harness();
  try {
    const spec = await expectJson(h.call("GET", "/openapi.json"), 200);
    const s = spec.components.schemas as Record<string, Json>;
    const oneOfTypes = (name: string) =>
      (s[name].oneOf as { properties: { type: { const: string } } }[]).map((o) =>
        o.properties.type.const
      ).sort();
    assert.deepEqual(oneOfTypes("DestinationRequest"), Object.keys(PUBLISHERS).sort());
    assert.deepEqual(oneOfTypes("TriggerRequest"), Object.keys(SOURCES).sort());
    for (const t of Object.keys(PUBLISHERS)) assert.ok(s[`DestinationConfig_${t}`], t);
    assert.ok((s.DestinationConfig_http.properties as Json).url, "http config has its fields");

    for (const name of ["RouteRequest", "Route"]) {
      const p = s[name].properties as Record<string, Json>;
      assert.deepEqual(p.signature_config, { $ref: "#/components/schemas/SignatureConfig" });
      assert.deepEqual((p.pipeline.items as Json).$ref, "#/components/schemas/Stage");
      assert.deepEqual((p.rules.items as Json).$ref, "#/components/schemas/Rule");
      assert.deepEqual(
        (p.destinations.items as Json).$ref,
        "#/components/schemas/RouteDestination",
      );
      assert.deepEqual(p.filters, { $ref: "#/components/schemas/Filters" });
      assert.deepEqual(p.response, { $ref: "#/components/schemas/ResponseTemplate" });
    }
    assert.equal((s.SignatureConfig.oneOf as unknown[]).length >= 5, true, "every signature form");
    assert.equal((s.Stage.oneOf as unknown[]).length, 4);
    assert.equal((s.Operation.oneOf as unknown[]).length, OPERATIONS.length);
    assert.equal((s.Operation_set.properties as Json & { op: Json }).op.const, "set");
    assert.equal(
      ((s.EnrichStage.properties as Json).auth as Json).$ref,
      "#/components/schemas/EnrichAuth",
    );
    assert.equal(((s.Rule.properties as Json).when as Json).$ref, "#/components/schemas/Condition");
    assert.equal((s.EnrichAuth.oneOf as unknown[]).length, 4);
  } finally {
    await h.close();
  }
});

Deno.test("openapi: real answers have exactly the documented shapes", async () => {
  const h = await harness();
  try {
    const admin = await cheapAdmin(h);
    const get = (path: string) => expectJson(h.call("GET", path, undefined, admin.token), 200);
    const exact = (schema: z.ZodType, value: unknown, what: string) => {
      const strict = (schema as unknown as { strict?: () => z.ZodType }).strict?.() ?? schema;
      const r = strict.safeParse(value);
      assert.ok(r.success, `${what}: ${JSON.stringify(r.error?.issues)}`);
    };
    const dest = await expectJson(
      h.call("POST", "/api/destinations", {
        name: "d",
        type: "http",
        config: { url: "https://example.com/x", secret: "whsec_c2VjcmV0LXZhbHVlLTEyMzQ1Ng==" },
      }, admin.token),
      201,
    );
    exact(DestinationOut, dest, "destination");
    const route = await expectJson(
      h.call("POST", "/api/routes", {
        name: "r",
        destinations: [{ destination_id: dest.id }],
        signature_config: { enabled: true, preset: "github", secret: "a-hook-secret" },
      }, admin.token),
      201,
    );
    exact(RouteOut, route, "route");
    const trigger = await expectJson(
      h.call("POST", "/api/triggers", {
        name: "t",
        type: "schedule",
        route_id: route.id,
        config: { cron: "0 3 * * *" },
      }, admin.token),
      201,
    );
    exact(TriggerOut, trigger, "trigger");
    exact(pageOf(RouteOut, "RoutePage"), await get("/api/routes"), "route page");
    exact(UserOut, await get("/api/me"), "me");
    const seeded = await seedEvent(h, admin.id, route.id, [
      { destinationId: dest.id, final: "dead", error: "boom" },
    ]);
    exact(EventDetail, await get(`/api/events/${seeded.eventId}`), "event");
    exact(StatsOut, await get("/api/stats"), "stats");
    exact(DeadStats, await get("/api/dlq/stats"), "dead letter stats");
  } finally {
    await h.close();
  }
});

Deno.test("openapi: every operation documents the common answers it can give (400, 413, 401); 405 for other methods", async () => {
  const h = await harness();
  try {
    const spec = await expectJson(h.call("GET", "/openapi.json"), 200);
    const missing: string[] = [];
    for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        const r = op.responses as Json;
        const input = ((op.parameters as unknown[] | undefined)?.length ?? 0) > 0 ||
          op.requestBody;
        if (input && !r["400"]) missing.push(`${method} ${path}: 400`);
        if (op.requestBody && !r["413"]) missing.push(`${method} ${path}: 413`);
        if ((op.security as unknown[] | undefined)?.length && !r["401"]) {
          missing.push(`${method} ${path}: 401`);
        }
      }
    }
    assert.deepEqual(missing, []);
    // and the bad query it documents is really a 400 naming the parameter
    const admin = await cheapAdmin(h);
    const r = await h.call("GET", "/api/routes?limit=nope", undefined, admin.token);
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /limit/);
    // a documented path with a method it does not take: 405 and Allow, not 404
    const patch = await h.call("PATCH", "/api/routes/route_x", {}, admin.token);
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get("allow"), "GET, PUT, DELETE");
    assert.equal((await patch.json()).error.code, "method_not_allowed");
    const none = await h.call("GET", "/api/nothing-here", undefined, admin.token);
    assert.equal(none.status, 404);
    await none.body?.cancel();
  } finally {
    await h.close();
  }
});
