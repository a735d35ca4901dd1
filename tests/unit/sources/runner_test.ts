/**
 * The trigger runner in-process, two "nodes" on one store: a trigger runs on one of them; it
 * stops when its lease is lost (without overwriting the new holder's state), when deactivated,
 * and when deleted; emits are refused once the instance stops.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { openStore } from "../../../adapters/store/sqlite/store.ts";
import { storeCoordinator } from "../../../adapters/coordination/store.ts";
import { createTriggerRunner, type TriggerRunner } from "../../../core/sources/runner.ts";
import { createSealer } from "../../../core/crypto/sealer.ts";
import { newEndpointToken, newId } from "../../../core/model/ids.ts";
import type { Coordinator, SourceContext, SourceFactory } from "../../../core/ports.ts";
import { EmitRefusedError } from "../../../core/ports.ts";
import type { Trigger } from "../../../core/model/trigger.ts";
import type { Store } from "../../../core/store.ts";
import { createLogger } from "../../../runtimes/deno/logger.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASE = 600;

/** Polls every 100 ms on node-a and once a minute elsewhere (so node-b writes its state only
 * when it takes over); records which node polled. */
function ticker(polls: string[], contexts: SourceContext[]): SourceFactory<{ n: number }> {
  return {
    type: "ticker",
    schema: z.strictObject({ n: z.number() }),
    parseConfig: (c) => z.strictObject({ n: z.number() }).parse(c),
    create(_cfg, ctx) {
      contexts.push(ctx);
      return {
        nextRunAt: (last, now) =>
          last === null ? now : last + (ctx.nodeId === "node-a" ? 100 : 60_000),
        async poll() {
          polls.push(ctx.nodeId);
          const r = await ctx.emit([{ body: new TextEncoder().encode("tick") }]);
          return { emitted: r.accepted, duplicates: r.duplicates, ids: r.ids };
        },
      };
    },
  };
}

async function setup() {
  const store = openStore({ path: ":memory:" });
  await store.migrate();
  const now = Date.now();
  const owner = newId("user");
  await store.createUser({
    id: owner,
    username: "t",
    passwordHash: "x",
    role: "user",
    mustChangePassword: false,
    createdAt: now,
    updatedAt: now,
  });
  const routeId = newId("route");
  await store.createRoute({
    id: routeId,
    owner,
    name: "r",
    endpoint: `/webhook/${newEndpointToken()}`,
    method: "POST",
    spec: { destinations: [] } as never,
    active: true,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  const trigger: Trigger = {
    id: newId("trigger"),
    owner,
    name: "tick",
    type: "ticker",
    routeId,
    config: { n: 1 },
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  await store.createTrigger(trigger);
  return { store, trigger };
}

function runner(store: Store, nodeId: string, factory: SourceFactory, coordinator?: Coordinator) {
  return createTriggerRunner({
    store,
    sealer: createSealer(new Uint8Array(32)),
    sources: { ticker: factory as SourceFactory },
    coordinator: coordinator ?? storeCoordinator(store),
    accept: (e) => store.accept(e),
    outbound: () => ({ fetch } as never),
    log: createLogger("error"),
    clock: { now: () => Date.now() },
    nodeId,
    leaseMs: LEASE,
    reconcileMs: 100,
    flushMs: 100,
  });
}

Deno.test("runner: one node runs the trigger; a lost lease stops it and leaves the new holder's state", async () => {
  const { store, trigger } = await setup();
  const polls: string[] = [];
  const contexts: SourceContext[] = [];
  const factory = ticker(polls, contexts);
  // node a's coordinator can be cut off (renewals fail, nothing acquired), as when it stalls
  let sabotage = false;
  const base = storeCoordinator(store);
  const flaky: Coordinator = {
    kind: "flaky",
    async tryAcquire(name, owner, ttl) {
      if (sabotage) return null;
      const l = await base.tryAcquire(name, owner, ttl);
      return l && {
        ...l,
        async renew(t) {
          if (!sabotage) return await l.renew(t);
          // stalled: the answer comes only after node b has taken the trigger over
          while (!late.b?.running().length) await wait(20);
          return await l.renew(t);
        },
      };
    },
  };
  const late: { b?: TriggerRunner } = {};
  const a = runner(store, "node-a", factory, flaky);
  a.start();
  await wait(400);
  const b = late.b = runner(store, "node-b", factory);
  b.start();
  const runners: TriggerRunner[] = [a, b];
  try {
    await wait(500);
    assert.deepEqual(a.running(), [trigger.id]);
    assert.deepEqual(b.running(), []);
    assert.ok(polls.length >= 5 && polls.every((n) => n === "node-a"), polls.join(","));

    // a stalls: its renewal hangs until b has taken over after the lease ran out; meanwhile
    // a's own emits are refused once its lease may have ended
    sabotage = true;
    await wait(LEASE + 100);
    await assert.rejects(
      contexts[0].emit([{ body: new Uint8Array([1]) }]),
      EmitRefusedError,
      "no emit past the lease",
    );
    await wait(LEASE);
    assert.deepEqual(b.running(), [trigger.id]);
    assert.deepEqual(a.running(), [], "a stopped when the renewal answered: lost");
    await wait(300);
    const state = await store.getTriggerState(trigger.id);
    assert.equal(state?.status.node, "node-b");
    assert.notEqual(state?.status.state, "stopped", "a did not overwrite b's state");
    assert.ok(state!.nextRunAt! > 0);
    const events = await store.listEvents({ userId: trigger.owner, role: "user" }, {}, {
      limit: 500,
      offset: 0,
    });
    assert.equal(state!.eventsEmitted, events.total, "every emitted event counted once");

    // deactivated: stops everywhere, state says stopped
    await store.updateTrigger({ userId: trigger.owner, role: "user" }, {
      ...trigger,
      active: false,
      updatedAt: trigger.updatedAt + 1,
    });
    b.changed();
    await wait(300);
    assert.deepEqual([a.running(), b.running()], [[], []]);
    const stopped = await store.getTriggerState(trigger.id);
    assert.equal(stopped?.status.state, "stopped");
    assert.equal(stopped?.nextRunAt, null);
    const n = polls.length;
    await wait(300);
    assert.equal(polls.length, n, "no polls while inactive");

    // active again, then deleted: starts, then stops
    sabotage = false;
    await store.updateTrigger({ userId: trigger.owner, role: "user" }, {
      ...trigger,
      updatedAt: trigger.updatedAt + 2,
    });
    a.changed();
    b.changed();
    await wait(LEASE + 500);
    assert.equal(a.running().length + b.running().length, 1);
    await store.deleteTrigger({ userId: trigger.owner, role: "user" }, trigger.id);
    a.changed();
    b.changed();
    await wait(300);
    assert.deepEqual([a.running(), b.running()], [[], []]);
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
    await store.close();
  }
});

/** A source that records the config each instance was created with and can poll. */
function recorder(created: Array<Record<string, unknown>>): SourceFactory {
  const schema = z.strictObject({ n: z.number(), url: z.string().optional() });
  return {
    type: "ticker",
    schema,
    parseConfig: (c) => schema.parse(c),
    create(cfg, ctx) {
      created.push(cfg as Record<string, unknown>);
      return {
        async poll() {
          const r = await ctx.emit([{ body: new TextEncoder().encode("run") }]);
          return { emitted: r.accepted, duplicates: r.duplicates, ids: r.ids };
        },
      };
    },
  };
}

Deno.test("runner: a change of the node defaults restarts only the triggers that took them", async () => {
  const { store, trigger } = await setup();
  const other: Trigger = { ...trigger, id: newId("trigger"), name: "own-url" };
  await store.createTrigger({ ...other, config: { n: 2, url: "mq://own" } });
  const created: Array<Record<string, unknown>> = [];
  let fallback: string | undefined = undefined;
  const r = createTriggerRunner({
    store,
    sealer: createSealer(new Uint8Array(32)),
    sources: { ticker: recorder(created) },
    coordinator: storeCoordinator(store),
    accept: (e) => store.accept(e),
    outbound: () => ({ fetch } as never),
    // As the node's broker defaults: filled in only when the config names no url.
    configDefaults: (_type, c) => c.url || !fallback ? c : { ...c, url: fallback },
    log: createLogger("error"),
    clock: { now: () => Date.now() },
    nodeId: "node-a",
    leaseMs: LEASE,
    reconcileMs: 100,
  });
  r.start();
  try {
    await wait(300);
    assert.equal(created.length, 2, JSON.stringify(created));
    assert.deepEqual(new Set(r.running()), new Set([trigger.id, other.id]));

    fallback = "mq://from-settings";
    r.defaultsChanged();
    await wait(300);
    assert.equal(created.length, 3, "only the trigger without its own url restarted");
    assert.deepEqual(created[2], { n: 1, url: "mq://from-settings" });

    r.defaultsChanged(); // nothing moved: nothing restarts
    await wait(300);
    assert.equal(created.length, 3);
  } finally {
    await r.stop();
    await store.close();
  }
});

Deno.test("runner: a trigger that could not start tries again when the node defaults change", async () => {
  const { store, trigger } = await setup();
  const created: Array<Record<string, unknown>> = [];
  let fallback: string | undefined = undefined;
  const strict = recorder(created);
  const needsUrl: SourceFactory = {
    ...strict,
    parseConfig: (c) => z.strictObject({ n: z.number(), url: z.string() }).parse(c),
  };
  const r = createTriggerRunner({
    store,
    sealer: createSealer(new Uint8Array(32)),
    sources: { ticker: needsUrl },
    coordinator: storeCoordinator(store),
    accept: (e) => store.accept(e),
    outbound: () => ({ fetch } as never),
    configDefaults: (_type, c) => fallback ? { ...c, url: fallback } : c,
    log: createLogger("error"),
    clock: { now: () => Date.now() },
    nodeId: "node-a",
    leaseMs: LEASE,
    reconcileMs: 100,
  });
  r.start();
  try {
    await wait(300);
    assert.deepEqual(r.running(), []);
    const state = await store.getTriggerState(trigger.id);
    assert.match(String(state?.lastError), /config cannot start on this node.*url/s);
    fallback = "mq://from-settings";
    r.defaultsChanged();
    await wait(300);
    assert.deepEqual(r.running(), [trigger.id]);
    assert.deepEqual(created, [{ n: 1, url: "mq://from-settings" }]);
  } finally {
    await r.stop();
    await store.close();
  }
});

Deno.test("runner: a run requested while the trigger is starting waits for its source", async () => {
  const { store, trigger } = await setup();
  // The trigger's state is read first when it starts: hold that read until the run is asked.
  let release!: () => void;
  const gate = new Promise<void>((res) => (release = res));
  const slow: Store = Object.create(store);
  slow.getTriggerState = async (id) => (await gate, await store.getTriggerState(id));
  const created: Array<Record<string, unknown>> = [];
  const r = createTriggerRunner({
    store: slow,
    sealer: createSealer(new Uint8Array(32)),
    sources: { ticker: recorder(created) },
    coordinator: storeCoordinator(store),
    accept: (e) => store.accept(e),
    outbound: () => ({ fetch } as never),
    log: createLogger("error"),
    clock: { now: () => Date.now() },
    nodeId: "node-a",
    leaseMs: LEASE,
    reconcileMs: 100,
  });
  r.start();
  try {
    while (!r.running().length) await wait(10);
    assert.equal(created.length, 0, "held, not yet created");
    const run = r.runNow(trigger);
    release();
    const result = await run;
    assert.equal(result.emitted, 1);
  } finally {
    release();
    await r.stop();
    await store.close();
  }
});
