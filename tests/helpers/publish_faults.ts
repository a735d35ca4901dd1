/**
 * Fault scenarios the broker integration tests share: each publisher must fail retriably when
 * its server is down, hung or refused by the address guard, permanently when its target is
 * missing, and must reconnect by itself once the server is back.
 */
import assert from "node:assert/strict";
import type { Outgoing, Publisher, PublisherContext, PublishResult } from "../../core/ports.ts";
import { outgoing } from "../conformance/publisher_suite.ts";
import { type InstanceAction, silentServer } from "./broker_instances.ts";
import { canary, guardedContext, REBOUND_NAME } from "./canary.ts";

/** `r` failed, with the given permanence and an error matching `pattern`. */
export function assertFailed(r: PublishResult, permanent: boolean, pattern: RegExp): void {
  assert.equal(r.ok, false, "publish failed");
  if (r.ok) return;
  assert.equal(r.permanent, permanent, `permanent=${permanent} for: ${r.error}`);
  assert.match(r.error, pattern);
}

/**
 * Publishing `batch` to a target that does not exist fails every message, permanently, with
 * `pattern` in the error and the target named.
 */
export async function assertMissingTarget(
  p: Publisher,
  batch: Outgoing[],
  pattern: RegExp,
  target: string,
): Promise<void> {
  const results = await p.publish(batch, new AbortController().signal);
  assert.equal(results.length, batch.length);
  for (const r of results) {
    assert.equal(r.ok, false);
    const f = r as Extract<PublishResult, { ok: false }>;
    assert.equal(f.permanent, true, f.error);
    assert.match(f.error, pattern);
    assert.ok(f.error.includes(target), `error names the target: ${f.error}`);
  }
}

/**
 * A batch of `n` to a closed port fails retriably within seconds, and healthy() turns false.
 * Closes `p`.
 */
export async function assertClosedPortRetriable(p: Publisher, n: number): Promise<void> {
  const t0 = Date.now();
  try {
    const results = await p.publish(outgoing(n, "c"), new AbortController().signal);
    assert.ok(Date.now() - t0 < 8_000, `took ${Date.now() - t0}ms`);
    assert.equal(results.length, n);
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.equal((r as { permanent: boolean }).permanent, false, JSON.stringify(r));
    }
    assert.equal(p.healthy?.(), false);
  } finally {
    await p.close();
  }
}

/**
 * The private instance restart: publish works, fails retriably while the server is down, and
 * works again after it is back, polling as the dispatcher would (waiting retryAfterMs, else
 * `pollMs`) for up to `deadlineMs`. `downWithinMs` also bounds the failing publish. Starts the
 * instance, then `make`s the publisher; closes it and stops the instance at the end.
 */
export async function assertReconnectsAfterRestart(
  server: (action: InstanceAction) => Promise<void>,
  make: () => Publisher,
  opts: { deadlineMs: number; pollMs: number; downWithinMs?: number },
): Promise<void> {
  await server("start");
  const p = make();
  const signal = new AbortController().signal;
  try {
    assert.deepEqual(await p.publish(outgoing(1, "before"), signal), [{ ok: true }]);
    await server("stop");
    const started = Date.now();
    const down = await p.publish(outgoing(1, "down"), signal);
    if (opts.downWithinMs !== undefined) {
      const took = Date.now() - started;
      assert.ok(took < opts.downWithinMs, `no hang (${took} ms)`);
    }
    assertFailed(down[0], false, /./);
    await server("start");
    let r: PublishResult = down[0];
    const deadline = Date.now() + opts.deadlineMs;
    while (!r.ok && Date.now() < deadline) {
      const wait = !r.ok && r.retryAfterMs ? r.retryAfterMs : opts.pollMs;
      await new Promise((ok) => setTimeout(ok, wait));
      [r] = await p.publish(outgoing(1, "after"), signal);
    }
    assert.deepEqual(r, { ok: true }, "published after the server came back");
    assert.equal(p.healthy?.(), true);
  } finally {
    await p.close();
    await server("stop");
  }
}

/**
 * A server that accepts and never answers: publish fails retriably within a `timeout_ms` of
 * 1 s (`make` builds the publisher for the port), and the caller's signal bounds it too.
 */
export async function assertHungServerBounded(make: (port: number) => Publisher): Promise<void> {
  const srv = silentServer();
  const p = make(srv.port);
  try {
    const started = Date.now();
    const rs = await p.publish(outgoing(2), new AbortController().signal);
    const took = Date.now() - started;
    assert.ok(took < 4_000, `bounded by timeout_ms (took ${took} ms)`);
    assert.equal(rs.length, 2);
    for (const r of rs) assertFailed(r, false, /./);
    // The caller's signal bounds the wait too.
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t2 = Date.now();
    await new Promise((ok) => setTimeout(ok, 1_200)); // let the backoff pause pass
    const rs2 = await p.publish(outgoing(1), ac.signal);
    assert.ok(Date.now() - t2 < 4_000, "no hang");
    assert.equal(rs2[0].ok, false);
  } finally {
    await p.close();
    srv.close();
  }
}

/**
 * The address guard, through the publisher's own client library, against a loopback listener
 * (`make` builds the publisher for a host and port, with the context):
 * - 127.0.0.1 under a strict policy: every message fails permanently naming the refusal, and
 *   the listener is never dialled;
 * - a name that resolves to 127.0.0.1 (injected resolver, no DNS): refused the same way;
 * - the same name with 127.0.0.1/32 allowed: the listener is dialled, which proves the library
 *   connected through the guard's resolution (the system resolver does not know the name).
 */
export async function assertGuardRefuses(
  make: (host: string, port: number, ctx: PublisherContext) => Publisher,
): Promise<void> {
  for (const host of ["127.0.0.1", REBOUND_NAME]) {
    const target = canary();
    const ctx = guardedContext();
    const p = make(host, target.port, ctx);
    try {
      const rs = await p.publish(outgoing(2), new AbortController().signal);
      for (const r of rs) assertFailed(r, true, /127\.0\.0\.1 is loopback/);
      assert.equal(target.connections(), 0, `${host}: the listener was never dialled`);
    } finally {
      await p.close();
      await ctx.close();
      target.close();
    }
  }
  const target = canary();
  const ctx = guardedContext({ allowCidrs: ["127.0.0.1/32"] });
  const p = make(REBOUND_NAME, target.port, ctx);
  try {
    const publishing = p.publish(outgoing(1), new AbortController().signal);
    await target.reached(8_000);
    target.close(); // the listener is no broker: let the publish fail
    await publishing;
  } finally {
    await p.close();
    await ctx.close();
    target.close();
  }
}
