import assert from "node:assert/strict";
import { z } from "zod";
import type { SourceFactory } from "../../../core/ports.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";

// A source that emits its configured items once per poll; the harness must store each once.
const echo: SourceFactory<{ items: string[] }> = {
  type: "echo",
  schema: z.strictObject({ items: z.array(z.string()) }),
  parseConfig(c) {
    return this.schema.parse(c);
  },
  create(config, ctx) {
    return {
      async poll() {
        const r = await ctx.emit(config.items.map((s) => ({
          body: new TextEncoder().encode(s),
          headers: { "X-Item": s },
          dedupKey: s,
        })));
        await ctx.cursor.set(config.items.at(-1) ?? "");
        return { emitted: r.accepted, duplicates: r.duplicates, ids: r.ids };
      },
    };
  },
};

Deno.test("source harness: emits become events once, scoped to the trigger, cursor kept", async () => {
  const h = await sourceHarness();
  try {
    const { source } = h.create(echo, { items: ["a", "b"] }, "trigger_one");
    const first = await source.poll!(new AbortController().signal);
    assert.equal(first.emitted, 2);
    const again = await source.poll!(new AbortController().signal);
    assert.deepEqual([again.emitted, again.duplicates], [0, 2]);
    assert.deepEqual(again.ids, first.ids);
    // Another trigger on the same route with the same item ids is not a duplicate.
    const other = await h.create(echo, { items: ["a"] }, "trigger_two").source.poll!(
      new AbortController().signal,
    );
    assert.equal(other.emitted, 1);
    const events = await h.events();
    assert.equal(events.length, 3);
    // Same millisecond: find by id, not by position.
    const a = events.find((e) => e.id === first.ids[0])!;
    assert.equal(a.source, "trigger:trigger_one");
    assert.equal(a.headers["x-item"], "a");
    assert.equal(a.headers["x-trigger-type"], "echo");
    assert.equal(h.cursors.get("trigger_one"), "b");
  } finally {
    await h.close();
  }
});
