/**
 * Shared pieces of the API tests: cheap admins (no 600k-iteration hash), entity creation
 * through the API, seeding events and deliveries through the Store port, HMAC signing.
 */
import assert from "node:assert/strict";
import type { Harness } from "../helpers/app.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { newId } from "../../core/model/ids.ts";
import type { Envelope, Logger, Settlement } from "../../core/ports.ts";
import type { Scope } from "../../core/model/user.ts";

export const ADMIN_SCOPE: Scope = { userId: "user_test_admin", role: "admin" };

/** An admin created straight in the store with a cheap hash; returns its token and id. */
export async function cheapAdmin(
  h: Harness,
  name = "root",
): Promise<{ token: string; id: string }> {
  const id = newId("user");
  const now = Date.now();
  await h.store.createUser({
    id,
    username: name,
    passwordHash: await hashPassword("admin-pass-1", 1000),
    role: "admin",
    mustChangePassword: false,
    createdAt: now,
    updatedAt: now,
  });
  return { token: await h.login(name, "admin-pass-1"), id };
}

/** Reads the body as JSON and checks the status, showing the body when it differs. */
export async function expectJson(
  r: Response | Promise<Response>,
  status: number,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const res = await r;
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Asserts the API's error shape and that the message names `field`. */
export async function expectError(
  r: Response | Promise<Response>,
  status: number,
  field?: string,
  code?: string,
) {
  const body = await expectJson(r, status);
  assert.equal(typeof body?.error?.code, "string", JSON.stringify(body));
  assert.equal(typeof body.error.message, "string", JSON.stringify(body));
  if (field) {
    assert.ok(
      body.error.message.includes(field),
      `error message should name ${field}: ${body.error.message}`,
    );
  }
  if (code) assert.equal(body.error.code, code);
  return body.error as { code: string; message: string };
}

export async function createDestination(
  h: Harness,
  token: string,
  body: Record<string, unknown> = {},
) {
  return await expectJson(
    h.call("POST", "/api/destinations", { name: "out", type: "log", config: {}, ...body }, token),
    201,
  );
}

export async function createRoute(
  h: Harness,
  token: string,
  body: Record<string, unknown> = {},
) {
  return await expectJson(h.call("POST", "/api/routes", { name: "in", ...body }, token), 201);
}

export function envelope(tenant: string, routeId: string | null, extra: Partial<Envelope> = {}) {
  const now = Date.now();
  return {
    id: newId("evt"),
    tenant,
    routeId,
    source: "webhook",
    receivedAt: now,
    method: "POST",
    path: "/webhook/wh_test",
    query: "",
    ip: "127.0.0.1",
    headers: { "content-type": "application/json" },
    body: new TextEncoder().encode('{"hello":"world"}'),
    ...extra,
  } satisfies Envelope;
}

export type Final = "delivered" | "dead" | "pending" | "retry";

export interface Seeded {
  eventId: string;
  deliveryIds: string[];
}

/**
 * One event of `tenant` on `routeId` with one delivery per entry of `deliveries`, driven
 * through the Store port to its final state: accept -> completeEvents -> claimDue -> settle.
 * "pending" deliveries are due in an hour (never claimed); "retry" ones have one failed
 * attempt and are due in an hour.
 */
export async function seedEvent(
  h: Harness,
  tenant: string,
  routeId: string | null,
  deliveries: Array<{ destinationId: string; final: Final; error?: string }>,
): Promise<Seeded> {
  const store = h.store;
  const e = envelope(tenant, routeId);
  await store.accept([e]);
  const now = Date.now();
  const rows = deliveries.map((d) => ({
    id: newId("dlv"),
    eventId: e.id,
    tenant,
    routeId,
    destinationId: d.destinationId,
    body: e.body,
    headers: { "x-event-id": e.id },
    nextAt: d.final === "pending" ? now + 3600_000 : now,
  }));
  await store.completeEvents([{ id: e.id, status: "processed", deliveries: rows }]);
  const claimOwner = `seed_${crypto.randomUUID()}`;
  const claimed = await store.claimDue(now, 1000, claimOwner, 60_000);
  const mine = new Set(rows.filter((_, i) => deliveries[i].final !== "pending").map((r) => r.id));
  assert.deepEqual(
    new Set(claimed.map((d) => d.id)),
    mine,
    "seedEvent expects no other due deliveries in the store",
  );
  await store.settle(
    rows.flatMap((r, i): Settlement[] => {
      const d = deliveries[i];
      if (d.final === "pending") return [];
      if (d.final === "retry") {
        return [{
          id: r.id,
          outcome: "retry",
          at: now,
          nextAt: now + 3600_000,
          error: d.error ?? "503 unavailable",
        }];
      }
      return [{
        id: r.id,
        outcome: d.final,
        at: now,
        error: d.final === "dead" ? d.error ?? "400 bad request" : null,
      }];
    }),
    claimOwner,
  );
  return { eventId: e.id, deliveryIds: rows.map((r) => r.id) };
}

const enc = new TextEncoder();

export async function hmacSha256(key: Uint8Array | string, data: Uint8Array | string) {
  const k = await crypto.subtle.importKey(
    "raw",
    typeof key === "string" ? enc.encode(key) : key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      k,
      typeof data === "string" ? enc.encode(data) : data as BufferSource,
    ),
  );
}

export const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** A webhook request with raw bytes, from a chosen address. */
export function post(
  h: Harness,
  path: string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
  opts: { method?: string; remoteAddr?: string; hiddenHeader?: string } = {},
) {
  return Promise.resolve(h.app.request(path, {
    method: opts.method ?? "POST",
    headers,
    body,
  }, { remoteAddr: opts.remoteAddr ?? "127.0.0.1", hiddenHeader: opts.hiddenHeader }));
}

/** A logger that keeps what it is told, for tests that expect errors to be logged. */
export function silentLogger(): Logger & { lines: Array<[string, string, unknown]> } {
  const lines: Array<[string, string, unknown]> = [];
  const make = (): Logger & { lines: typeof lines } => ({
    lines,
    debug: (m, f) => void lines.push(["debug", m, f]),
    info: (m, f) => void lines.push(["info", m, f]),
    warn: (m, f) => void lines.push(["warn", m, f]),
    error: (m, f) => void lines.push(["error", m, f]),
    child: () => make(),
  });
  return make();
}
