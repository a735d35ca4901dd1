/**
 * The Coordinator port's contract, run by every implementation (store leases on SQLite and
 * PostgreSQL, Redis, Deno KV):
 *
 * ```ts
 * coordinatorSuite("redis", async () => ({ coordinator, close }));
 * ```
 *
 * Leases expire on each implementation's own clock (Redis's, the caller's), so the suite uses
 * real time with short lease periods.
 */
import assert from "node:assert/strict";
import type { Coordinator } from "../../core/ports.ts";

export interface CoordinatorFixture {
  coordinator: Coordinator;
  close(): Promise<void>;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function coordinatorSuite(
  name: string,
  open: () => Promise<CoordinatorFixture>,
  opts: { ignore?: boolean } = {},
) {
  const test = (title: string, fn: (c: Coordinator, lease: string) => Promise<void>) =>
    Deno.test({
      name: `coordinator ${name}: ${title}`,
      ignore: opts.ignore,
      async fn() {
        const f = await open();
        try {
          await fn(f.coordinator, `job-${crypto.randomUUID()}`);
        } finally {
          await f.close();
        }
      },
    });

  test("ping answers while the coordinator is up (/health reads it)", async (c) => {
    assert.equal(typeof c.ping, "function", "every coordinator can be pinged");
    await c.ping!();
  });

  test("a lease is exclusive until released; release frees it at once", async (c, job) => {
    const a = await c.tryAcquire(job, "node-a", 5000);
    assert.ok(a, "a free lease is acquired");
    assert.equal(a.name, job);
    assert.equal(a.owner, "node-a");
    assert.equal(await c.tryAcquire(job, "node-b", 5000), null, "held by node-a");
    assert.equal(await c.tryAcquire(job, "node-a", 5000), null, "also for its own owner");
    assert.ok(await c.tryAcquire(`${job}-other`, "node-b", 5000), "names are separate");
    await a.release();
    const b = await c.tryAcquire(job, "node-b", 5000);
    assert.ok(b, "free right after release");
    assert.ok(b.fence > a.fence, `fence grows across holders (${a.fence} -> ${b.fence})`);
    await a.release(); // an old holder's release must not free the new holder's lease
    assert.equal(await c.tryAcquire(job, "node-c", 5000), null);
    await b.release();
  });

  test("renewal keeps the lease past its first period", async (c, job) => {
    const a = (await c.tryAcquire(job, "node-a", 400))!;
    for (let i = 0; i < 4; i++) {
      await wait(150);
      assert.equal(await a.renew(400), true, `renewal ${i}`);
    }
    assert.equal(await c.tryAcquire(job, "node-b", 400), null, "still held after 600 ms");
    await a.release();
  });

  test(
    "an expired lease is taken over; the old holder can neither renew nor release it",
    async (c, job) => {
      const a = (await c.tryAcquire(job, "node-a", 200))!;
      await wait(350);
      const b = await c.tryAcquire(job, "node-b", 5000);
      assert.ok(b, "taken after expiry");
      assert.ok(b.fence > a.fence);
      assert.equal(await a.renew(5000), false, "lost");
      await a.release();
      assert.equal(await c.tryAcquire(job, "node-a", 5000), null, "b still holds it");
      assert.equal(await b.renew(5000), true);
      await b.release();
    },
  );

  test("a lease that expired untaken is renewed by its holder", async (c, job) => {
    const a = (await c.tryAcquire(job, "node-a", 200))!;
    await wait(350);
    assert.equal(await a.renew(5000), true, "nobody took it: still ours");
    assert.equal(await c.tryAcquire(job, "node-b", 5000), null);
    await a.release();
  });

  test("of many nodes racing for one lease exactly one wins", async (c, job) => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => c.tryAcquire(job, `node-${i}`, 5000)),
    );
    const winners = results.filter((l) => l !== null);
    assert.equal(winners.length, 1, `winners: ${winners.map((w) => w!.owner).join(", ")}`);
    await winners[0]!.release();
  });
}
