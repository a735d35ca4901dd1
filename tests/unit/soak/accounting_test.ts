import assert from "node:assert/strict";
import { account, quantile, type RequestRecord } from "../../soak/accounting.ts";

const req = (seq: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  seq,
  scheduledAt: 0,
  attempts: 1,
  ...extra,
});

Deno.test("soak accounting: lost, duplicates and arrivals without an ack, per destination", () => {
  const requests = [
    req(0, { eventId: "evt_a", latencyMs: 5 }),
    req(1, { eventId: "evt_b", latencyMs: 7 }),
    req(2, { attempts: 3, eventId: "evt_c" }), // acked by a retry: no latency sample
    req(3, { attempts: 5, lastError: "TypeError" }), // never acked
  ];
  const http = new Map([["evt_a", 1], ["evt_b", 3], ["evt_c", 1], ["evt_x", 2]]);
  const rabbit = new Map([["evt_a", 1], ["evt_d", 1]]);
  const s = account(requests, ["evt_d"], { http, rabbitmq: rabbit });
  assert.equal(s.requests, 4);
  assert.equal(s.acked, 3);
  assert.equal(s.notAcked, 1);
  assert.equal(s.retried, 2);
  assert.equal(s.ackedEvents, 4, "a retry answered with another id counts as an acked event");
  assert.deepEqual(s.destinations.http, {
    delivered: 3,
    duplicates: 3, // evt_b twice more, evt_x once more
    lost: 1, // evt_d
    unacknowledged: 1, // evt_x
    lostSample: ["evt_d"],
  });
  assert.equal(s.destinations.rabbitmq.lost, 2);
  assert.deepEqual(s.destinations.rabbitmq.lostSample.sort(), ["evt_b", "evt_c"]);
  assert.equal(s.latency.samples, 2);
  assert.equal(s.latency.p50, 5);
  assert.equal(s.latency.max, 7);
});

Deno.test("soak accounting: nearest-rank quantiles", () => {
  const v = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(quantile(v, 0.5), 500);
  assert.equal(quantile(v, 0.99), 990);
  assert.equal(quantile(v, 0.999), 999);
  assert.equal(quantile([3], 0.999), 3);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});
