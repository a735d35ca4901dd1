/**
 * The shared publisher suite: every broker adapter runs it against its real server.
 * A broker test supplies how to make a publisher for a fresh queue/topic and how to read
 * messages back with the broker's own client; the suite checks what every broker must do.
 */
import assert from "node:assert/strict";
import type { Outgoing, Publisher } from "../../core/ports.ts";

/** A message as read back by the broker's own client. */
export interface ReadBack {
  body: Uint8Array;
  /** Headers / attributes / fields carried beside the body, as strings. */
  headers: Record<string, string>;
  /** The delivery id as the broker carries it (messageId, header, attribute ...). */
  id: string;
}

export interface PublisherUnderTest {
  /** A publisher bound to a fresh, empty target (queue, topic, stream). */
  publisher: Publisher;
  /** Reads `count` messages (waiting up to `timeoutMs`) with the broker's own client. */
  readBack(count: number, timeoutMs: number): Promise<ReadBack[]>;
  /** Removes what the test created. */
  cleanup(): Promise<void>;
}

export interface PublisherSuiteOptions {
  /** Whether the broker promises order for messages of one key (or all, for a queue). */
  ordered: boolean;
  /** Creates a fresh target each call. */
  setup(): Promise<PublisherUnderTest>;
  /** Skips the suite (pass `needs(...).ignore` from tests/helpers/peers.ts). */
  ignore?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function outgoing(n: number, prefix = "m"): Outgoing[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `dlv_${prefix}${i.toString().padStart(4, "0")}`,
    eventId: `evt_${prefix}${i}`,
    body: enc.encode(JSON.stringify({ seq: i, text: `héllo ${i}` })),
    headers: { "content-type": "application/json", "x-seq": String(i) },
    key: "k1",
    attempt: 1,
  }));
}

/** Registers the suite's tests under `name` with Deno.test. */
export function publisherSuite(name: string, opts: PublisherSuiteOptions): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name}: ${title}`, ignore: opts.ignore ?? false, fn });

  test("publishes a batch and the broker's client reads back body, headers, id", async () => {
    const t = await opts.setup();
    const ac = new AbortController();
    try {
      await t.publisher.connect(ac.signal);
      const batch = outgoing(25);
      const results = await t.publisher.publish(batch, ac.signal);
      assert.equal(results.length, batch.length);
      for (const r of results) assert.deepEqual(r, { ok: true });
      const got = await t.readBack(batch.length, 20_000);
      assert.equal(got.length, batch.length, "every message read back");
      const byId = new Map(got.map((m) => [m.id, m]));
      for (const m of batch) {
        const r = byId.get(m.id);
        assert.ok(r, `message ${m.id} carries its delivery id`);
        assert.equal(dec.decode(r.body), dec.decode(m.body));
        assert.equal(r.headers["x-seq"], m.headers["x-seq"], "custom header kept");
      }
      if (opts.ordered) {
        assert.deepEqual(got.map((m) => m.id), batch.map((m) => m.id), "order kept");
      }
    } finally {
      await t.publisher.close();
      await t.cleanup();
    }
  });

  test("publish after close and reconnect still works", async () => {
    const t = await opts.setup();
    const ac = new AbortController();
    try {
      await t.publisher.connect(ac.signal);
      const [a, b] = outgoing(2, "r");
      assert.deepEqual(await t.publisher.publish([a], ac.signal), [{ ok: true }]);
      await t.publisher.close();
      await t.publisher.connect(ac.signal);
      assert.deepEqual(await t.publisher.publish([b], ac.signal), [{ ok: true }]);
      const got = await t.readBack(2, 20_000);
      assert.deepEqual(new Set(got.map((m) => m.id)), new Set([a.id, b.id]));
    } finally {
      await t.publisher.close();
      await t.cleanup();
    }
  });
  test("an empty batch, an aborted signal and a double close neither throw nor hang", async () => {
    const t = await opts.setup();
    const ac = new AbortController();
    try {
      await t.publisher.connect(ac.signal);
      assert.deepEqual(await t.publisher.publish([], ac.signal), []);
      const aborted = new AbortController();
      aborted.abort();
      const batch = outgoing(3, "a");
      const started = Date.now();
      const results = await t.publisher.publish(batch, aborted.signal);
      assert.ok(Date.now() - started < 5_000, "an aborted publish returns at once");
      assert.equal(results.length, batch.length, "one result per message, even when aborted");
      for (const r of results) {
        if (!r.ok) {
          assert.equal(r.permanent, false, "an aborted publish is not a permanent failure");
        }
      }
      // The publisher is still usable afterwards.
      const [m] = outgoing(1, "b");
      assert.deepEqual(await t.publisher.publish([m], ac.signal), [{ ok: true }]);
      await t.publisher.close();
      await t.publisher.close();
    } finally {
      await t.publisher.close();
      await t.cleanup();
    }
  });

  test("many small batches in a row keep their order and lose nothing", async () => {
    const t = await opts.setup();
    const ac = new AbortController();
    try {
      await t.publisher.connect(ac.signal);
      const all = outgoing(40, "s");
      for (let i = 0; i < all.length; i += 8) {
        const results = await t.publisher.publish(all.slice(i, i + 8), ac.signal);
        assert.ok(
          results.every((r) => r.ok),
          `batch at ${i} published: ${JSON.stringify(results)}`,
        );
      }
      const got = await t.readBack(all.length, 20_000);
      assert.deepEqual(new Set(got.map((m) => m.id)), new Set(all.map((m) => m.id)));
      if (opts.ordered) {
        assert.deepEqual(got.map((m) => m.id), all.map((m) => m.id), "order kept across batches");
      }
    } finally {
      await t.publisher.close();
      await t.cleanup();
    }
  });
}
