import assert from "node:assert/strict";
import { decodeEnvelopes, encodeEnvelopes } from "../../../core/ingress/envelope_codec.ts";
import type { Envelope } from "../../../core/ports.ts";

const enc = new TextEncoder();

function event(i: number, extra: Partial<Envelope> = {}): Envelope {
  return {
    id: `evt_${i}`,
    tenant: "user_1",
    routeId: i % 2 ? "route_1" : null,
    source: "webhook",
    receivedAt: 1_700_000_000_000 + i,
    method: "POST",
    path: "/webhook/wh_x",
    query: "a=1&b=ü",
    ip: "203.0.113.9",
    headers: { "content-type": "application/json", "x-note": "naïve ✓ 😀" },
    body: enc.encode(`{"i":${i},"text":"grüße 😀"}`),
    dedupKey: i % 3 ? null : `key-${i}`,
    ...extra,
  };
}

Deno.test("envelope codec: a batch comes back field for field, planned deliveries included", () => {
  const e0 = event(0);
  const e1 = event(1, { body: new Uint8Array(0) });
  const e2 = event(2);
  e2.planned = {
    status: "processed",
    error: null,
    deliveries: [
      {
        id: "dlv_a",
        eventId: e2.id,
        tenant: e2.tenant,
        routeId: e2.routeId,
        destinationId: "dest_1",
        fallbackDestinationId: "dest_2",
        body: e2.body, // the same bytes: written once
        headers: { "x-event-id": e2.id },
        key: "k",
        nextAt: e2.receivedAt,
      },
      {
        id: "dlv_b",
        eventId: e2.id,
        tenant: e2.tenant,
        routeId: e2.routeId,
        destinationId: "dest_3",
        fallbackDestinationId: null,
        body: enc.encode("reshaped"),
        headers: {},
        key: null,
        nextAt: e2.receivedAt + 5,
      },
    ],
  };
  const e3 = event(3);
  e3.planned = { status: "dropped", error: "rejected: no", deliveries: [] };
  const bytes = encodeEnvelopes([e0, e1, e2, e3]);
  const back = decodeEnvelopes(bytes);
  const plain = (x: unknown) =>
    JSON.parse(JSON.stringify(x, (_, v) => v instanceof Uint8Array ? Array.from(v) : v));
  assert.deepEqual(plain(back), plain([e0, e1, e2, e3]));
  assert.equal(back[2].planned!.deliveries[0].body, back[2].body, "shared body stays shared");
});

Deno.test("envelope codec: a body equal to the event's is stored once", () => {
  const e = event(4, { body: new Uint8Array(4096).fill(7) });
  const alone = encodeEnvelopes([e]).length;
  e.planned = {
    status: "processed",
    deliveries: [{
      id: "dlv_c",
      eventId: e.id,
      tenant: e.tenant,
      routeId: e.routeId,
      destinationId: "dest_1",
      body: new Uint8Array(4096).fill(7), // equal bytes, another array
      headers: {},
      nextAt: 0,
    }],
  };
  assert.ok(encodeEnvelopes([e]).length < alone + 200);
});

Deno.test("envelope codec: a truncated or padded batch is refused", () => {
  const bytes = encodeEnvelopes([event(5), event(6)]);
  for (const cut of [1, 7, bytes.length - 1]) {
    assert.throws(() => decodeEnvelopes(bytes.subarray(0, cut)), /truncated/);
  }
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes);
  assert.throws(() => decodeEnvelopes(padded), /3 bytes after its last event/);
  assert.deepEqual(decodeEnvelopes(encodeEnvelopes([])), []);
});
