/**
 * An app over an in-memory store for `app.request()` tests: no server, no network.
 * `harness()` returns the app plus helpers to log in as admin or as a fresh tenant.
 */
import { createApp } from "../../core/app.ts";
import type { AppDeps } from "../../core/app_deps.ts";
import { createGroupCommitter } from "../../core/ingress/group_commit.ts";
import { createSealer } from "../../core/crypto/sealer.ts";
import { createAddressPolicy } from "../../core/net/policy.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { newId } from "../../core/model/ids.ts";
import type { Metrics } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { PUBLISHERS } from "../../adapters/brokers/registry.ts";
import { SOURCES, TENANT_SOURCES } from "../../adapters/sources/registry.ts";
import { storeCoordinator } from "../../adapters/coordination/store.ts";
import { createTriggerRunner } from "../../core/sources/runner.ts";
import { createPipelinePlanner } from "../../core/delivery/pipeline_planner.ts";
import { MemoryState } from "../../core/pipeline/memory_state.ts";
import { ensureAdmin } from "../../runtimes/deno/node.ts";
import { createLogger } from "../../runtimes/deno/logger.ts";
import { openOutbound } from "../../runtimes/deno/outbound.ts";
import { nodeUi } from "../../runtimes/deno/ui.ts";

export const ADMIN_PASSWORD = "admin-pass-1";

export function nullMetrics(): Metrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    inc(name, labels, value = 1) {
      const k = `${name}${labels ? JSON.stringify(labels) : ""}`;
      counts.set(k, (counts.get(k) ?? 0) + value);
    },
    observe() {},
    render: () => Promise.resolve(""),
  };
}

export interface Harness {
  app: ReturnType<typeof createApp>["app"];
  store: Store;
  deps: AppDeps;
  metrics: ReturnType<typeof nullMetrics>;
  /** fetch-like call with JSON body and optional bearer token. */
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<Response>;
  login(username: string, password: string): Promise<string>;
  /** Token of the admin after its first password change. */
  adminToken(): Promise<string>;
  /** Creates a user with role `user` and returns its token. */
  tenant(name: string): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

let uiOnce: ReturnType<typeof nodeUi> | null = null;
/** The admin pages are the same for every harness: prepare their assets once per process. */
const sharedUi = () => (uiOnce ??= nodeUi());

export async function harness(overrides: Partial<AppDeps> = {}): Promise<Harness> {
  const store = overrides.store ?? openStore({ path: ":memory:" });
  await store.migrate();
  await ensureAdmin(store);
  const metrics = nullMetrics();
  const committer = createGroupCommitter((e) => store.accept(e));
  const sealer = overrides.sealer ?? createSealer(crypto.getRandomValues(new Uint8Array(32)));
  const log = createLogger("error");
  // The real trigger runtime over the same store, not started: POST /run takes the lease and
  // runs the trigger once here, as on a node where it is not running yet.
  const triggers = createTriggerRunner({
    store,
    sealer,
    sources: overrides.sources ?? SOURCES,
    tenantSources: overrides.tenantSources ?? TENANT_SOURCES,
    coordinator: storeCoordinator(store),
    accept: (e) => committer.accept(e),
    outbound: () => openOutbound(),
    log,
    clock: { now: () => Date.now() },
    nodeId: "test-node",
  });
  const deps: AppDeps = {
    store,
    sealer,
    jwtSecret: crypto.getRandomValues(new Uint8Array(32)),
    log,
    metrics,
    clock: { now: () => Date.now() },
    version: "test",
    tokenTtlSeconds: 3600,
    planner: createPipelinePlanner({
      fetchFor: () => Promise.resolve(fetch),
      sealer,
      state: new MemoryState(),
      now: () => Date.now(),
    }),
    // Loopback test servers are reached by tenants' destinations here; tests of the address
    // guard pass their own policy.
    addressPolicy: createAddressPolicy({ allowPrivate: true }),
    publishers: PUBLISHERS,
    sources: SOURCES,
    tenantSources: TENANT_SOURCES,
    triggers,
    accept: (e) => committer.accept(e),
    changed: () => {},
    wake: () => {},
    ingest: { maxBodyBytes: 1024 * 1024, globalRatePerSecond: 0, globalBurst: 1 },
    ui: await sharedUi(),
    ...overrides,
  };
  const { app } = createApp(deps);
  const call = (
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) =>
    Promise.resolve(app.request(path, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    }, { remoteAddr: "127.0.0.1" }));
  const login = async (username: string, password: string) => {
    const r = await call("POST", "/login", { username, password });
    if (r.status !== 200) {
      throw new Error(`login ${username} failed: ${r.status} ${await r.text()}`);
    }
    return (await r.json()).token as string;
  };
  let admin: string | null = null;
  return {
    app,
    store,
    deps,
    metrics,
    call,
    login,
    async adminToken() {
      if (admin) return admin;
      const t = await login("admin", "admin");
      const r = await call("POST", "/change-password", {
        current_password: "admin",
        new_password: ADMIN_PASSWORD,
      }, t);
      if (r.status !== 200) throw new Error(`change-password failed: ${await r.text()}`);
      admin = await login("admin", ADMIN_PASSWORD);
      return admin;
    },
    async tenant(name: string) {
      const id = newId("user");
      const now = Date.now();
      await store.createUser({
        id,
        username: name,
        passwordHash: await hashPassword("tenant-pass-1", 1000),
        role: "user",
        mustChangePassword: false,
        createdAt: now,
        updatedAt: now,
      });
      return { token: await login(name, "tenant-pass-1"), id };
    },
    async close() {
      await triggers.stop();
      await committer.drain();
      await store.close();
    },
  };
}
