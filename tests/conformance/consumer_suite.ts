/**
 * The shared consumer suite: every broker source (trigger) runs it against its real server,
 * producing with the broker's own client and consuming through the source into a real store
 * (tests/helpers/source_harness.ts). A broker test supplies a fresh queue/topic/stream, how to
 * produce to it, how to ask the broker what is still unacknowledged, and the metadata its
 * events must carry; the suite checks what every consumer must do:
 *   - N messages -> N events with the message's body and metadata, in few commits (batches);
 *   - afterwards the broker holds nothing unacknowledged;
 *   - while the store refuses events nothing is committed or acknowledged (backpressure), and
 *     everything arrives once when it accepts again;
 *   - a stop between a commit and its ack: the broker redelivers, the dedup key keeps every
 *     message one event;
 *   - a broker address the guard refuses is never dialled (the trigger says why), and an
 *     allowed one is dialled on the address the guard checked;
 *   - with `outage`: the broker (a private instance) stopped ~10 s mid-stream and started
 *     again, consumption resumes by itself and the status told the outage.
 */
import assert from "node:assert/strict";
import {
  EmitRefusedError,
  type EmitResult,
  type Outbound,
  type Source,
  type SourceContext,
  type SourceEvent,
  type SourceFactory,
  type SourceStatus,
} from "../../core/ports.ts";
import type { StoredEvent } from "../../core/store.ts";
import { type SourceHarness, sourceHarness } from "../helpers/source_harness.ts";
import { canary, guardedContext, REBOUND_NAME } from "../helpers/canary.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A message the test produces; `seq` also travels as header/attribute `x-seq`. */
export interface Produced {
  seq: number;
  /** A producer-side id (AMQP message id, ...) for brokers where the producer sets one. */
  id: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

export interface ConsumerUnderTest {
  /** Source config bound to a fresh, empty queue/topic/stream (and group/subscription). */
  config: Record<string, unknown>;
  /** Produces with the broker's own client; resolves once the broker has them all. */
  produce(messages: Produced[]): Promise<void>;
  /**
   * Messages the broker still holds for this consumer that were not acknowledged (ready and
   * unacked, group lag, pending entries, visible and in-flight). Called with no source running.
   */
  unacked(): Promise<number>;
  cleanup(): Promise<void>;
}

export interface OutageTarget extends ConsumerUnderTest {
  /** Stops / starts the private broker instance the target lives on. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** After a start: re-create what an in-memory broker forgot (queue, subscription). */
  recreate?(): Promise<void>;
}

export interface ConsumerSuiteOptions {
  factory: SourceFactory;
  setup(): Promise<ConsumerUnderTest>;
  /** Asserts the broker-specific metadata headers of one event made from `m`. */
  metadata(event: StoredEvent, m: Produced): void;
  /** Whether the broker reports a lag/pending count (then it must be 0 after the run). */
  reportsLag: boolean;
  /** A config whose broker is `host:port` (the address guard tests). */
  guardedConfig(host: string, port: number): Record<string, unknown>;
  /** A target on a private instance the suite may stop and start. */
  outage?(): Promise<OutageTarget>;
  /** Skips the suite (pass `needs(...).ignore` from tests/helpers/peers.ts). */
  ignore?: boolean;
  /** Messages in the main run (a few hundred in CI). */
  count?: number;
}

/** An OutageTarget for `t` on the private instance `server` (tests/helpers/broker_instances.ts):
 * its cleanup also stops the instance. */
export function onInstance(
  t: ConsumerUnderTest & { recreate?(): Promise<void> },
  server: (action: "start" | "stop") => Promise<void>,
): OutageTarget {
  return {
    ...t,
    stop: () => server("stop"),
    start: () => server("start"),
    cleanup: async () => {
      await t.cleanup();
      await server("stop");
    },
  };
}

export function produced(n: number, prefix = "m", from = 0): Produced[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      id: `${prefix}-${seq.toString().padStart(5, "0")}-${crypto.randomUUID().slice(0, 8)}`,
      body: enc.encode(JSON.stringify({ seq, text: `héllo ${seq}` })),
      headers: { "x-seq": String(seq), "content-type": "application/json" },
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  what: () => string,
  cond: () => boolean | Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(50);
  }
}

/** A source running against the harness, with its emits counted and optionally intercepted. */
export interface Running {
  id: string;
  source: Source;
  ctx: SourceContext;
  emits: number;
  status(): SourceStatus;
  stop(): Promise<void>;
}

export function run(
  h: SourceHarness,
  factory: SourceFactory,
  config: Record<string, unknown>,
  opts: {
    id?: string;
    outbound?: Outbound;
    /** Runs before each emit; may throw (EmitRefusedError for backpressure). */
    beforeCommit?: (events: SourceEvent[]) => void;
    /** Runs after a committed emit, before the source sees its result; may throw. */
    afterCommit?: (r: EmitResult, stop: () => void) => void;
  } = {},
): Running {
  const id = opts.id ?? `trigger_${crypto.randomUUID().slice(0, 12)}`;
  const ctx = h.context(id, factory.type, {
    outbound: opts.outbound,
    beforeCommit: opts.beforeCommit,
  });
  const ac = new AbortController();
  const r: Running = {
    id,
    ctx,
    source: null as unknown as Source,
    emits: 0,
    status: () => h.statuses.get(id) ?? {},
    async stop() {
      ac.abort();
      await done;
      await r.source.close?.();
    },
  };
  const emit = ctx.emit.bind(ctx);
  ctx.emit = async (events) => {
    const result = await emit(events);
    r.emits++;
    opts.afterCommit?.(result, () => ac.abort());
    return result;
  };
  r.source = factory.create(factory.parseConfig(config), ctx);
  assert.ok(r.source.start, `${factory.type} is a long-lived source`);
  const done = r.source.start(ac.signal);
  return r;
}

/** What a broker's own consumer test gets from `sourceTest`. */
export interface SourceTestKit {
  h: SourceHarness;
  /** Runs `cleanup` after the test, whatever happens (last deferred first). */
  defer(cleanup: () => unknown): void;
  /** `run` on the kit's harness, stopped after the test. */
  start(
    factory: SourceFactory,
    config: Record<string, unknown>,
    opts?: Parameters<typeof run>[3],
  ): Running;
}

/** A Deno.test for one consumer behaviour beyond the suite, over a fresh harness. */
export function sourceTest(
  name: string,
  ignore: boolean,
  fn: (kit: SourceTestKit) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore,
    // Broker clients keep sockets and timers a moment after close; assertions are what count.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const h = await sourceHarness();
      const cleanups: (() => unknown)[] = [];
      const defer = (c: () => unknown) => void cleanups.push(c);
      try {
        await fn({
          h,
          defer,
          start(factory, config, opts) {
            const r = run(h, factory, config, opts);
            defer(() => r.stop());
            return r;
          },
        });
      } finally {
        for (const c of cleanups.reverse()) await c();
        await h.close();
      }
    },
  });
}

/** Events of the harness route by their x-seq header; fails on a seq seen twice. */
async function bySeq(h: SourceHarness): Promise<Map<number, StoredEvent>> {
  const out = new Map<number, StoredEvent>();
  for (const e of await h.events()) {
    const seq = Number(JSON.parse(dec.decode(e.body)).seq);
    assert.ok(!out.has(seq), `message ${seq} became two events`);
    out.set(seq, e);
  }
  return out;
}

async function eventCount(h: SourceHarness): Promise<number> {
  return (await h.events()).length;
}

/** Waits until the broker says nothing is unacknowledged (acks travel asynchronously). */
async function settled(t: ConsumerUnderTest, ms = 15_000) {
  let left = -1;
  await waitFor(() => `no unacknowledged messages (still ${left})`, async () => {
    left = await t.unacked();
    return left === 0;
  }, ms);
}

/** Registers the suite's tests under `name` with Deno.test. */
export function consumerSuite(name: string, opts: ConsumerSuiteOptions): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: opts.ignore ?? false,
      // Broker clients keep sockets and timers a moment after close; assertions are what count.
      sanitizeOps: false,
      sanitizeResources: false,
      fn,
    });
  const N = opts.count ?? 200;

  /** A fresh target and harness for `fn`, cleaned up whatever happens. */
  const withTarget = async (
    fn: (t: ConsumerUnderTest, h: SourceHarness, running: Running[]) => Promise<void>,
  ) => {
    const t = await opts.setup();
    const h = await sourceHarness();
    const running: Running[] = [];
    try {
      await fn(t, h, running);
    } finally {
      for (const r of running) await r.stop();
      await h.close();
      await t.cleanup();
    }
  };

  /** Runs trigger `id` again until all `n` messages are events, each once; then all acked. */
  const resume = async (
    t: ConsumerUnderTest,
    h: SourceHarness,
    running: Running[],
    id: string,
    n: number,
  ) => {
    const again = run(h, opts.factory, t.config, { id });
    running.push(again);
    await waitFor(() => `${n} events`, async () => (await eventCount(h)) >= n);
    await sleep(500); // a straggler would be a duplicate
    assert.equal((await bySeq(h)).size, n, "every message once");
    await again.stop();
    running.pop();
    await settled(t);
  };

  test(`${N} messages become ${N} events with body and metadata, in batches, all acknowledged`, async () => {
    const t = await opts.setup();
    const h = await sourceHarness();
    let r: Running | null = null;
    try {
      const msgs = produced(N);
      // Half waits at the broker before the consumer starts (a backlog comes in big batches),
      // half arrives while it runs.
      await t.produce(msgs.slice(0, N / 2));
      r = run(h, opts.factory, t.config);
      await t.produce(msgs.slice(N / 2));
      await waitFor(() => `${N} events`, async () => (await eventCount(h)) >= N);
      await sleep(300); // a straggler would be a duplicate
      const events = await bySeq(h);
      assert.equal(events.size, N, "one event per message");
      for (const m of msgs) {
        const e = events.get(m.seq);
        assert.ok(e, `message ${m.seq} became an event`);
        assert.equal(dec.decode(e.body), dec.decode(m.body), "body kept byte for byte");
        assert.equal(e.headers["x-seq"], String(m.seq), "message metadata kept as a header");
        assert.equal(e.headers["x-trigger-type"], opts.factory.type);
        assert.equal(e.source, `trigger:${r.id}`);
        assert.ok(e.dedupKey, "every event has a dedup key");
        opts.metadata(e, m);
      }
      assert.ok(r.emits <= N / 2, `messages are committed in batches (${r.emits} commits)`);
      await waitFor(
        () => `status connected (${JSON.stringify(r!.status())})`,
        () => r!.status().state === "connected",
      );
      if (opts.reportsLag) {
        await waitFor(
          () => `lag 0 in the status (${JSON.stringify(r!.status())})`,
          () => r!.status().lag === 0,
          15_000,
        );
      }
      await r.stop();
      assert.equal(r.status().state, "stopped");
      r = null;
      await settled(t);
    } finally {
      await r?.stop();
      await h.close();
      await t.cleanup();
    }
  });

  test("while the store refuses events nothing is committed or acknowledged", () =>
    withTarget(async (t, h, running) => {
      const n = 30;
      const msgs = produced(n, "bp");
      await t.produce(msgs);
      let refusals = 0;
      const refusing = run(h, opts.factory, t.config, {
        beforeCommit: () => {
          refusals++;
          throw new EmitRefusedError("disk full (test)", 100);
        },
      });
      running.push(refusing);
      await waitFor(() => `3 refusals (${refusals})`, () => refusals >= 3);
      assert.equal(await eventCount(h), 0, "nothing committed while refused");
      assert.equal(refusing.status().paused, true, "the status says consumption is paused");
      assert.match(String(refusing.status().last_error), /disk full/);
      await refusing.stop();
      running.pop();
      assert.equal(await t.unacked(), n, "nothing acknowledged while the store refused");

      // The store accepts again: everything arrives, once.
      await resume(t, h, running, refusing.id, n);
    }));

  test("a stop between commit and ack: redelivered, and still one event per message", () =>
    withTarget(async (t, h, running) => {
      const n = 40;
      await t.produce(produced(n, "ca"));
      let cut = false;
      const first = run(h, opts.factory, t.config, {
        afterCommit: (_r, stop) => {
          if (cut) return;
          // Committed, but the source never learns it: as if the node died right here.
          cut = true;
          stop();
          throw new Error("node stopped after the commit (test)");
        },
      });
      running.push(first);
      await waitFor(() => "the first commit", () => cut);
      await first.stop();
      running.pop();
      const committed = await eventCount(h);
      assert.ok(committed > 0, "the first batch was committed");
      assert.ok(await t.unacked() >= committed, "...and not acknowledged");

      // Redelivered; the dedup key keeps them one event each.
      await resume(t, h, running, first.id, n);
    }));

  // The guard through the consumer's own client library, against a loopback listener that
  // counts connections: 127.0.0.1 and a name resolving to it (injected resolver, no DNS) are
  // refused under a strict policy and never dialled; with 127.0.0.1/32 allowed the same name
  // is dialled, which proves the library connected through the guard's own resolution.
  test("a broker host the address guard refuses is never dialled; allowed, it is", async () => {
    for (const host of ["127.0.0.1", REBOUND_NAME]) {
      const h = await sourceHarness();
      const target = canary();
      const outbound = guardedContext();
      const r = run(h, opts.factory, opts.guardedConfig(host, target.port), { outbound });
      try {
        await waitFor(
          () => `${host}: state error (${JSON.stringify(r.status())})`,
          () => r.status().state === "error",
        );
        assert.match(String(r.status().last_error), /127\.0\.0\.1 is loopback/);
        assert.equal(target.connections(), 0, `${host}: the listener was never dialled`);
        assert.equal(await eventCount(h), 0);
      } finally {
        await r.stop();
        await outbound.close();
        target.close();
        await h.close();
      }
    }
    const h = await sourceHarness();
    const target = canary();
    const outbound = guardedContext({ allowCidrs: ["127.0.0.1/32"] });
    const r = run(h, opts.factory, opts.guardedConfig(REBOUND_NAME, target.port), { outbound });
    try {
      await target.reached(10_000);
    } finally {
      target.close(); // the listener is no broker
      await r.stop();
      await outbound.close();
      await h.close();
    }
  });

  if (opts.outage) {
    const outage = opts.outage;
    test("the broker stopped ~10 s mid-stream: consumption resumes by itself", async () => {
      const t = await outage();
      const h = await sourceHarness();
      let r: Running | null = null;
      try {
        const n = 60;
        const msgs = produced(n, "out");
        r = run(h, opts.factory, t.config);
        await t.produce(msgs.slice(0, n / 2));
        await waitFor(
          () => `${n / 2} events before the outage`,
          async () => (await eventCount(h)) >= n / 2,
        );
        await t.stop();
        const stoppedAt = Date.now();
        await waitFor(
          () => `the status to tell the outage (${JSON.stringify(r!.status())})`,
          () => ["reconnecting", "error"].includes(String(r!.status().state)),
          30_000,
        );
        assert.ok(r.status().last_error, "last_error says why");
        await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));
        await t.start();
        await t.recreate?.();
        await t.produce(msgs.slice(n / 2));
        let seen = 0;
        await waitFor(
          () => `${n} events after the outage (${seen}; ${JSON.stringify(r!.status())})`,
          async () => (seen = await eventCount(h)) >= n,
          60_000,
        );
        await sleep(300);
        assert.equal((await bySeq(h)).size, n, "every message once");
        await waitFor(
          () => `status connected again (${JSON.stringify(r!.status())})`,
          () => r!.status().state === "connected",
        );
        await r.stop();
        r = null;
        await settled(t, 20_000);
      } finally {
        await r?.stop();
        await h.close();
        await t.cleanup();
      }
    });
  }
}
